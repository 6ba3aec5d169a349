package api

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// goAnswer recognises net/http's own answers, with their status and
// reason, and nothing a handler writes.
func TestGoAnswer(t *testing.T) {
	handlerHead := "\r\nContent-Type: application/json\r\nDate: Sat, 05 Dec 2026 11:00:00 GMT\r\nX-Openstack-Request-Id: req-1\r\n\r\n{}"
	cases := []struct {
		name   string
		p      string
		status int
		reason string
		ok     bool
	}{
		{"bare 400", "HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request", 400, "", true},
		{"400 with a reason", "HTTP/1.1 400 Bad Request: missing required Host header" + goErrorHeaders + "400 Bad Request: missing required Host header", 400, "missing required Host header", true},
		{"431", "HTTP/1.1 431 Request Header Fields Too Large" + goErrorHeaders + "431 Request Header Fields Too Large", 431, "", true},
		{"501", "HTTP/1.1 501 Not Implemented" + goErrorHeaders + "Unsupported transfer encoding", 501, "", true},
		{"505", "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + goErrorHeaders, 505, "unsupported protocol version", true},
		{"417", "HTTP/1.1 417 Expectation Failed\r\nDate: Sat, 05 Dec 2026 11:00:00 GMT\r\nContent-Length: 0\r\n\r\n", 417, "", true},
		{"a handler's 200", "HTTP/1.1 200 OK" + handlerHead, 0, "", false},
		{"a handler's 400", "HTTP/1.1 400 Bad Request" + handlerHead, 0, "", false},
		{"a handler's 503", "HTTP/1.1 503 Service Unavailable" + handlerHead, 0, "", false},
		{"a body's bytes", `{"errors": []}`, 0, "", false},
		{"the status line alone", "HTTP/1.1 ", 0, "", false},
		{"nothing", "", 0, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, ok := goAnswer([]byte(tc.p))
			if status != tc.status || reason != tc.reason || ok != tc.ok {
				t.Errorf("goAnswer = %d %q %v, want %d %q %v", status, reason, ok, tc.status, tc.reason, tc.ok)
			}
		})
	}
}

// fixConn passes a handler's answers through byte for byte, keeps nothing
// of what it reads (it has no Read of its own), and rewrites net/http's
// bare 400 in the API's format, after any amount of traffic.
func TestFixConnRewritesOnlyNetHTTPAnswers(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := &fixConn{Conn: server, opts: &Refusals{Answers: PlacementAnswers, MaxHeaderBytes: 1 << 20}}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	go client.Write(bytes.Repeat([]byte("b"), 1<<20))
	if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	ok := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	if _, err := c.Write([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request")); err != nil {
		t.Fatal(err)
	}
	server.Close()
	out := string(<-got)
	if !strings.HasPrefix(out, ok) {
		t.Fatalf("the handler's answer was changed: %q", out)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out[len(ok):])), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), "content-length header must be an integer") {
		t.Errorf("rewritten answer: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}
