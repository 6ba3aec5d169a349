package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// goBadRequest is what net/http writes, straight to the connection, when it
// cannot parse a request (a malformed header or Content-Length): a plain
// text answer in no API's format.
var goBadRequest = []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")

// ErrorRenderer turns a message into an error body of one API's format.
type ErrorRenderer func(detail string) (contentType string, body []byte)

// PlacementRenderer renders a bare Placement error body.
func PlacementRenderer(detail string) (string, []byte) {
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{"status": 400, "title": "Bad Request", "detail": detail}}})
	return "application/json", b
}

// IronicRenderer renders a bare Ironic error body.
func IronicRenderer(detail string) (string, []byte) {
	inner, _ := json.Marshal(map[string]any{"faultcode": "Client", "faultstring": detail, "debuginfo": nil})
	b, _ := json.Marshal(map[string]any{"error_message": string(inner)})
	return "application/json", b
}

// FixMalformedRequests wraps a listener so that requests net/http rejects
// before any handler runs are answered in the API's own error format with a
// message that says what was wrong (e.g. a Content-Length that is not an
// integer), instead of net/http's bare "400 Bad Request".
func FixMalformedRequests(ln net.Listener, render ErrorRenderer) net.Listener {
	return &fixListener{Listener: ln, render: render}
}

type fixListener struct {
	net.Listener
	render ErrorRenderer
}

func (l *fixListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &fixConn{Conn: c, render: l.render}, nil
}

// fixConn remembers the latest bytes read so that it can tell why net/http
// refused the request.
type fixConn struct {
	net.Conn
	render ErrorRenderer
	mu     sync.Mutex
	recent []byte
}

const recentMax = 16 << 10

func (c *fixConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.recent = append(c.recent, p[:n]...)
		if len(c.recent) > recentMax {
			// Keep the tail in place: a large body read in small pieces
			// must not cost a new buffer per read.
			c.recent = c.recent[:copy(c.recent, c.recent[len(c.recent)-recentMax:])]
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *fixConn) Write(p []byte) (int, error) {
	if !bytes.Equal(p, goBadRequest) {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	detail := diagnose(c.recent)
	c.mu.Unlock()
	ct, body := c.render(detail)
	resp := fmt.Sprintf("HTTP/1.1 400 Bad Request\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", ct, len(body))
	if _, err := c.Conn.Write(append([]byte(resp), body...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// diagnose names what is wrong with the last request head in data.
func diagnose(data []byte) string {
	text := string(data)
	if i := strings.LastIndex(text, "\r\n\r\n"); i >= 0 {
		head := text[:i]
		if j := strings.LastIndex(head, "\r\n\r\n"); j >= 0 {
			head = head[j+4:]
		}
		text = head
	}
	lines := strings.Split(text, "\r\n")
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Sprintf("malformed header line %q: a header needs a name and a colon", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if _, err := strconv.ParseUint(strings.TrimSpace(value), 10, 63); err != nil {
				return "content-length header must be an integer"
			}
		}
	}
	return "malformed HTTP request: the request line or headers could not be parsed"
}
