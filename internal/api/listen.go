package api

import (
	"context"
	"net"
	"time"
)

// keepAlive is the TCP keep-alive of served connections, as net/http's own
// ListenAndServe sets it: probe after 15 s of silence, every 15 s, give up
// after 9 unanswered probes. It finds clients that vanished without closing
// (a request body that never comes, a response that is never read).
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}

// Listen opens a TCP listener for a server. Where the system lets accepted
// connections inherit the listening socket's options (Linux), keep-alive
// is set once on the listening socket rather than with four system calls
// on every accepted connection, which is a measurable share of a small
// request's cost when clients open a connection per request.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	return listenConfig().Listen(ctx, "tcp", addr)
}
