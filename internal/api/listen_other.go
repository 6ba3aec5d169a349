//go:build !linux

package api

import "net"

// listenConfig leaves keep-alive to Go, which sets it on each accepted
// connection.
func listenConfig() *net.ListenConfig {
	return &net.ListenConfig{KeepAliveConfig: keepAlive}
}
