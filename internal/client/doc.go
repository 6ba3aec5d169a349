// Package client is a Go client for the APIs allot serves: the OpenStack
// Placement API and the Bare Metal (Ironic) API, of any compatible endpoint,
// allot's or OpenStack's. It speaks only the published HTTP API: a Client knows a
// base URL, a token (sent as X-Auth-Token) and the microversion to ask for,
// and turns error bodies into *APIError values carrying the server's own
// message. The CLI and the tests use it.
package client
