package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// net/http answers some requests by itself, before any handler runs, by
// writing straight to the connection: a request it cannot parse (400),
// headers over its limit (431), a Transfer-Encoding other than chunked
// (501), an HTTP version it does not speak (505), a missing or malformed
// Host, an invalid header name or value (400 with the reason in the status
// line), and an Expect header other than 100-continue (417). Those answers
// are plain text in no API's format. FixMalformedRequests wraps the
// listener's connections, recognises each of those answers as it is
// written, and writes instead the API's own error envelope with a message
// that says what was wrong and how to fix it.
//
// The message is worded from net/http's answer alone (its status and the
// reason in its status line): the wrapper keeps nothing of what the client
// sent, so that a well-formed request costs one comparison of the start of
// each write and nothing on reads. Where net/http gives no reason (a bare
// 400: a malformed request line or header line, or a bad Content-Length),
// the message says what each of those must be.
//
// The answers are recognised by their exact shape: net/http's own errors
// are a status line followed by exactly these headers (no Date, no request
// id), which no handler's answer has; its 417 is the only 417 served.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goExpectationFailed starts net/http's answer to an Expect header other
// than 100-continue (written through the ordinary response path, with a
// Date and an empty body).
var goExpectationFailed = []byte("HTTP/1.1 417 Expectation Failed\r\n")

// Answerer renders an error answer of one API's format for a status: the
// headers to send (Content-Type and the request id headers; the caller
// adds Content-Length, Date and Connection) and the body.
type Answerer func(status int, detail string) (http.Header, []byte)

// PlacementAnswers renders Placement's {"errors":[...]} envelope, with a
// fresh request id in the body and in X-Openstack-Request-Id.
var PlacementAnswers Answerer = formatAnswerer(PlacementErrors{}, "X-Openstack-Request-Id")

// IronicAnswers renders Ironic's {"error_message": ...} envelope, with a
// fresh request id in Ironic's two request id headers.
var IronicAnswers Answerer = formatAnswerer(IronicErrors{}, "Openstack-Request-Id", "X-Openstack-Request-Id")

// formatAnswerer renders errors with the same ErrorFormat the API's
// handlers use, so that connection-level answers cannot drift from them.
func formatAnswerer(f ErrorFormat, idHeaders ...string) Answerer {
	return func(status int, detail string) (http.Header, []byte) {
		w := &bufferWriter{header: http.Header{}}
		id := newRequestID()
		for _, name := range idHeaders {
			w.header.Set(name, id)
		}
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/"}}
		f.WriteError(w, r, ErrorInfo{Status: status, Title: http.StatusText(status), Detail: detail, RequestID: id})
		w.header.Del("Content-Length")
		return w.header, w.body.Bytes()
	}
}

// bufferWriter is an http.ResponseWriter that keeps what is written.
type bufferWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) WriteHeader(int)             {}
func (w *bufferWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

// FixMalformedRequests wraps a listener so that the answers net/http writes
// by itself, before any handler runs, are in the API's own error format
// with a message that says what was wrong (e.g. a Content-Length that is
// not an integer, headers over the limit, an unsupported
// Transfer-Encoding), instead of net/http's plain text.
func FixMalformedRequests(ln net.Listener, render Answerer) net.Listener {
	return FixMalformedRequestsWith(ln, Refusals{Answers: render})
}

// Refusals configures FixMalformedRequestsWith.
type Refusals struct {
	// Answers renders the API's error answers (default PlacementAnswers).
	Answers Answerer
	// MaxHeaderBytes is the server's http.Server.MaxHeaderBytes, which the
	// answer to headers over the limit names (0: net/http's default).
	MaxHeaderBytes int
	// Logger, when set, logs each refusal at info level, with the request
	// id of its answer: no handler runs, so the request log has no line.
	Logger *slog.Logger
	// Name names the listener in the log ("placement", "baremetal").
	Name string
}

// FixMalformedRequestsWith is FixMalformedRequests with its options.
func FixMalformedRequestsWith(ln net.Listener, opts Refusals) net.Listener {
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	if opts.Answers == nil {
		opts.Answers = PlacementAnswers
	}
	return &fixListener{Listener: ln, opts: opts}
}

type fixListener struct {
	net.Listener
	opts Refusals
}

func (l *fixListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &fixConn{Conn: c, opts: &l.opts}, nil
}

// fixConn rewrites net/http's own answers as they are written.
type fixConn struct {
	net.Conn
	opts *Refusals
}

func (c *fixConn) Write(p []byte) (int, error) {
	status, reason, ok := goAnswer(p)
	if !ok {
		return c.Conn.Write(p)
	}
	detail := explain(status, reason, c.opts.MaxHeaderBytes)
	h, body := c.opts.Answers(status, detail)
	if c.opts.Logger != nil {
		id := h.Get("X-Openstack-Request-Id")
		c.opts.Logger.LogAttrs(context.Background(), slog.LevelInfo, "request refused before routing",
			slog.String("request_id", id), slog.String("api", c.opts.Name), slog.String("remote", c.RemoteAddr().String()),
			slog.Int("status", status), slog.String("detail", detail))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := c.Conn.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// goAnswer reports whether p is one of net/http's own answers, with its
// status and the reason net/http gave in its status line ("" for none).
// An answer of a handler fails the first comparison (a 2xx or 3xx) or
// the comparison of its headers.
func goAnswer(p []byte) (status int, reason string, ok bool) {
	const prefix = "HTTP/1.1 "
	if len(p) <= len(prefix) || p[len(prefix)] != '4' && p[len(prefix)] != '5' || !bytes.HasPrefix(p, []byte(prefix)) {
		return 0, "", false
	}
	if bytes.HasPrefix(p, goExpectationFailed) {
		return http.StatusExpectationFailed, "", true
	}
	end := bytes.Index(p, []byte("\r\n"))
	if end < 0 || !bytes.HasPrefix(p[end:], []byte(goErrorHeaders)) {
		return 0, "", false
	}
	line := string(p[len(prefix):end]) // "400 Bad Request: missing required Host header"
	code, text, _ := strings.Cut(line, " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	if _, r, found := strings.Cut(text, ": "); found {
		reason = r
	}
	return status, reason, true
}

// short quotes at most a short prefix of what the client sent.
func short(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// malformedRequest is the message for net/http's bare 400, which it
// answers for a malformed request line, a malformed header line (an
// invalid name, a control character in a value), a bad Content-Length or
// several Host headers without saying which. It contains Placement's
// words for a Content-Length that is not an integer (its basic-http tests
// look for them).
const malformedRequest = "malformed HTTP request: the request line must be METHOD PATH HTTP/1.1, separated by single spaces, " +
	"with a valid method and a percent-encoded path; each header line must be NAME: VALUE, " +
	"with a name of letters, digits and !#$%&'*+-.^_`|~, no space before the colon and no control character in the value; " +
	"there must be one Host header; a content-length header must be an integer, the same in every Content-Length header"

// explain words net/http's refusal for the client: what was wrong and how
// to fix it.
func explain(status int, reason string, maxHeader int) string {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request headers are larger than the limit of %d bytes; send smaller headers (the request line and all header lines count)", maxHeader)
	case http.StatusNotImplemented:
		return "the request's Transfer-Encoding is not supported: only chunked is; send the body uncompressed, with a Content-Length or chunked"
	case http.StatusHTTPVersionNotSupported:
		return "the request's HTTP version is not supported; use HTTP/1.1"
	case http.StatusExpectationFailed:
		return "the request's Expect header is not supported; send Expect: 100-continue or no Expect header"
	}
	switch reason {
	case "missing required Host header":
		return "the Host header is missing; an HTTP/1.1 request must name the host it is sent to"
	case "malformed Host header":
		return "the Host header is not a valid host[:port]"
	case "invalid header name":
		return "a header name is not valid: names are letters, digits and !#$%&'*+-.^_`|~"
	case "invalid header value":
		return "a header value contains a control character"
	case "":
		return malformedRequest
	}
	return "malformed HTTP request: " + reason
}
