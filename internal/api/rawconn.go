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
	"sync"
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
// The answers are recognised by their exact shape: net/http's own errors
// are a status line followed by exactly these headers (no Date, no request
// id), which no handler's answer has; its 417 is the only 417 served.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goBadRequest is what net/http writes when it cannot parse a request (a
// malformed request line, header or Content-Length).
var goBadRequest = []byte("HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request")

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

// fixConn remembers the latest bytes read so that it can tell why net/http
// refused the request.
type fixConn struct {
	net.Conn
	opts   *Refusals
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
	status, reason, ok := goAnswer(p)
	if !ok {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	head := lastHead(c.recent)
	c.mu.Unlock()
	detail := explain(status, reason, head, c.opts.MaxHeaderBytes)
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
func goAnswer(p []byte) (status int, reason string, ok bool) {
	if bytes.HasPrefix(p, goExpectationFailed) {
		return http.StatusExpectationFailed, "", true
	}
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return 0, "", false
	}
	end := bytes.Index(p, []byte("\r\n"))
	if end < 0 || !bytes.HasPrefix(p[end:], []byte(goErrorHeaders)) {
		return 0, "", false
	}
	line := string(p[len("HTTP/1.1 "):end]) // "400 Bad Request: missing required Host header"
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

// lastHead returns the lines of the latest request head in data (complete
// or not): the last block that starts with something like a request line,
// else the last block before a blank line.
func lastHead(data []byte) []string {
	blocks := strings.Split(string(data), "\r\n\r\n")
	for i := len(blocks) - 1; i >= 0; i-- {
		first, _, _ := strings.Cut(blocks[i], "\r\n")
		if strings.Contains(first, " HTTP/") {
			return strings.Split(blocks[i], "\r\n")
		}
	}
	// No request line (a malformed one): the last complete head, or what
	// was read when there is none.
	last := blocks[len(blocks)-1]
	if len(blocks) > 1 {
		last = blocks[len(blocks)-2]
	}
	return strings.Split(last, "\r\n")
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

// headerValues returns the values of the header name in head (after the
// request line), trimmed.
func headerValues(head []string, name string) []string {
	var out []string
	for _, line := range head[1:] {
		n, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// explain words net/http's refusal for the client: what was wrong and how
// to fix it.
func explain(status int, reason string, head []string, maxHeader int) string {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request headers are larger than the limit of %d bytes; send smaller headers (the request line and all header lines count)", maxHeader)
	case http.StatusNotImplemented:
		te := strings.Join(headerValues(head, "Transfer-Encoding"), ", ")
		if strings.EqualFold(te, "gzip") || strings.EqualFold(te, "deflate") || strings.EqualFold(te, "compress") {
			return fmt.Sprintf("the Transfer-Encoding %s is not supported; send the body uncompressed", te)
		}
		return fmt.Sprintf("the Transfer-Encoding %s is not supported: only chunked is; send the body uncompressed, with a Content-Length or chunked", short(te))
	case http.StatusHTTPVersionNotSupported:
		proto := ""
		if f := strings.Fields(head[0]); len(f) == 3 {
			proto = f[2]
		}
		return fmt.Sprintf("the HTTP version %s is not supported; use HTTP/1.1", short(proto))
	case http.StatusExpectationFailed:
		return fmt.Sprintf("the expectation %s is not supported; send Expect: 100-continue or no Expect header", short(strings.Join(headerValues(head, "Expect"), ", ")))
	}
	switch reason {
	case "missing required Host header":
		return "the Host header is missing; an HTTP/1.1 request must name the host it is sent to"
	case "malformed Host header":
		return fmt.Sprintf("the Host header %s is not a valid host[:port]", short(strings.Join(headerValues(head, "Host"), ", ")))
	case "invalid header name":
		for _, line := range head[1:] {
			if n, _, ok := strings.Cut(line, ":"); ok && !validToken(n) {
				return fmt.Sprintf("the header name %s is not valid: names are letters, digits and !#$%%&'*+-.^_`|~", short(n))
			}
		}
		return "a header name is not valid: names are letters, digits and !#$%&'*+-.^_`|~"
	case "invalid header value":
		for _, line := range head[1:] {
			if n, v, ok := strings.Cut(line, ":"); ok && hasControl(v) {
				return fmt.Sprintf("the value of the header %s contains a control character", short(strings.TrimSpace(n)))
			}
		}
		return "a header value contains a control character"
	case "":
		return diagnose(head)
	}
	return "malformed HTTP request: " + reason
}

// diagnose names what is wrong with a request head that net/http could not
// parse.
func diagnose(head []string) string {
	f := strings.Split(head[0], " ")
	if len(f) != 3 {
		return fmt.Sprintf("malformed request line %s: it must be METHOD PATH HTTP/1.1, separated by single spaces", short(head[0]))
	}
	if !validToken(f[0]) {
		return fmt.Sprintf("the method %s is not valid", short(f[0]))
	}
	if _, _, ok := http.ParseHTTPVersion(f[2]); !ok {
		return fmt.Sprintf("the HTTP version %s is malformed; use HTTP/1.1", short(f[2]))
	}
	if f[0] != "CONNECT" || strings.HasPrefix(f[1], "/") {
		if _, err := url.ParseRequestURI(f[1]); err != nil {
			return fmt.Sprintf("the request target %s is not a valid path: percent-encode reserved characters", short(f[1]))
		}
	}
	hosts := 0
	var lengths []string
	for _, line := range head[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Sprintf("malformed header line %s: a header needs a name and a colon", short(line))
		}
		if name != strings.TrimSpace(name) || name == "" {
			return fmt.Sprintf("malformed header line %s: no space is allowed before the colon or at the start of the line", short(line))
		}
		if !validToken(name) {
			return fmt.Sprintf("the header name %s is not valid: names are letters, digits and !#$%%&'*+-.^_`|~", short(name))
		}
		if hasControl(value) {
			return fmt.Sprintf("the value of the header %s contains a control character", short(name))
		}
		switch {
		case strings.EqualFold(name, "Host"):
			hosts++
		case strings.EqualFold(name, "Content-Length"):
			for _, v := range strings.Split(value, ",") {
				lengths = append(lengths, strings.TrimSpace(v))
			}
		}
	}
	if hosts > 1 {
		return fmt.Sprintf("the request has %d Host headers; send exactly one", hosts)
	}
	for _, v := range lengths {
		if _, err := strconv.ParseUint(v, 10, 63); err != nil {
			// Placement's words (its basic-http tests look for them).
			return "content-length header must be an integer"
		}
	}
	for _, v := range lengths[min(1, len(lengths)):] {
		if v != lengths[0] {
			return "the request has several different Content-Length values; send one"
		}
	}
	return "malformed HTTP request: the request line or headers could not be parsed"
}

// hasControl reports whether a header value has a control character
// (other than a tab), which HTTP does not allow.
func hasControl(v string) bool {
	return strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// validToken reports whether s is an HTTP token (a method or header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
