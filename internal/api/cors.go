package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// CORSOptions are oslo.middleware's [cors] section. CORS is off when
// AllowedOrigin is empty.
type CORSOptions struct {
	AllowedOrigin    []string
	AllowCredentials bool
	ExposeHeaders    []string
	MaxAge           int
	AllowMethods     []string
	AllowHeaders     []string
}

// DefaultCORSOptions are oslo.middleware's defaults: credentials allowed,
// preflight answers cached for an hour, the methods of RFC 2616 and 5789,
// no extra headers, and no origin (CORS off).
func DefaultCORSOptions() CORSOptions {
	return CORSOptions{
		AllowCredentials: true,
		MaxAge:           3600,
		AllowMethods:     []string{"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PATCH"},
	}
}

// corsSimpleHeaders are the request headers a preflight may always name
// (oslo.middleware's CORS.simple_headers).
var corsSimpleHeaders = []string{"Accept", "Accept-Language", "Content-Type", "Cache-Control",
	"Content-Language", "Expires", "Last-Modified", "Pragma"}

// CORS wraps next in oslo.middleware's CORS middleware (the W3C CORS
// processing model as OpenStack services apply it). It returns next
// itself when opts allows no origin, as Placement adds the middleware only
// when [cors] allowed_origin is set. Wrap it outside authentication:
// a preflight carries no token.
//
// An actual request (any method but OPTIONS) whose Origin is allowed gets
// Access-Control-Allow-Origin (the origin, or "*" when "*" is allowed and
// the origin is not listed), "Origin" added to Vary,
// Access-Control-Allow-Credentials: true when credentials are allowed, and
// Access-Control-Expose-Headers when some are exposed.
//
// An OPTIONS request is answered as oslo.middleware does: next answers
// first, and an answer that is not 2xx is replaced by an empty 200 (so an
// API that refuses OPTIONS with 405 still answers preflights). When the
// request is a valid preflight (an allowed Origin, an
// Access-Control-Request-Method among the allowed methods, compared
// exactly, and every Access-Control-Request-Headers entry among the
// allowed or simple headers, compared case-insensitively) the answer gets
// Vary: Origin, Access-Control-Allow-Origin, -Allow-Credentials,
// -Max-Age (when not 0), -Allow-Methods (the requested method) and
// -Allow-Headers (the requested headers); otherwise none of them: the
// browser then refuses the actual request.
//
// An answer that already carries Access-Control-Allow-Origin is left as
// it is.
func CORS(opts CORSOptions, next http.Handler) http.Handler {
	if len(opts.AllowedOrigin) == 0 {
		return next
	}
	c := &cors{next: next, opts: opts, origins: map[string]bool{}, headers: map[string]bool{}}
	for _, o := range opts.AllowedOrigin {
		c.origins[o] = true
	}
	for _, h := range append(append([]string(nil), opts.AllowHeaders...), corsSimpleHeaders...) {
		c.headers[strings.ToUpper(h)] = true
	}
	if opts.MaxAge != 0 {
		c.maxAge = strconv.Itoa(opts.MaxAge)
	}
	c.expose = strings.Join(opts.ExposeHeaders, ",")
	return c
}

type cors struct {
	next    http.Handler
	opts    CORSOptions
	origins map[string]bool
	headers map[string]bool // upper case
	maxAge  string
	expose  string
}

// header returns a request header as WSGI sees it: repeated fields joined
// by commas; ok reports whether it was sent at all.
func header(r *http.Request, name string) (string, bool) {
	vs, ok := r.Header[name]
	return strings.Join(vs, ", "), ok
}

// origin returns the Origin the answer names, when the request's is
// allowed.
func (c *cors) origin(r *http.Request) (string, bool) {
	o, sent := header(r, "Origin")
	switch {
	case !sent:
		return "", false
	case c.origins[o]:
		return o, true
	case c.origins["*"]:
		return "*", true
	}
	return "", false
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		c.preflight(w, r)
		return
	}
	origin, ok := c.origin(r)
	if !ok {
		c.next.ServeHTTP(w, r)
		return
	}
	cw := &corsWriter{ResponseWriter: w, apply: func(h http.Header) {
		if h.Get("Access-Control-Allow-Origin") != "" {
			return
		}
		if v := h.Get("Vary"); v != "" {
			h.Set("Vary", v+",Origin")
		} else {
			h.Set("Vary", "Origin")
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if c.opts.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if c.expose != "" {
			h.Set("Access-Control-Expose-Headers", c.expose)
		}
	}}
	c.next.ServeHTTP(cw, r)
	cw.commit()
}

// preflight answers an OPTIONS request.
func (c *cors) preflight(w http.ResponseWriter, r *http.Request) {
	rec := &corsRecorder{header: http.Header{}}
	c.next.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	h := w.Header()
	if rec.header.Get("Access-Control-Allow-Origin") != "" {
		rec.copyTo(w)
		return
	}
	if rec.status < 200 || rec.status >= 300 {
		rec = &corsRecorder{header: http.Header{}, status: http.StatusOK}
	}
	for k, v := range rec.header {
		h[k] = v
	}
	c.decoratePreflight(h, r)
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// decoratePreflight adds the preflight headers when the request is a
// valid preflight.
func (c *cors) decoratePreflight(h http.Header, r *http.Request) {
	origin, ok := c.origin(r)
	if !ok {
		return
	}
	method, ok := header(r, "Access-Control-Request-Method")
	if !ok {
		return
	}
	var requested []string
	if v, ok := header(r, "Access-Control-Request-Headers"); ok {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				requested = append(requested, name)
			}
		}
	}
	allowed := false
	for _, m := range c.opts.AllowMethods {
		allowed = allowed || m == method
	}
	if !allowed {
		return
	}
	for _, name := range requested {
		if !c.headers[strings.ToUpper(name)] {
			return
		}
	}
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	if c.opts.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if c.maxAge != "" {
		h.Set("Access-Control-Max-Age", c.maxAge)
	}
	h.Set("Access-Control-Allow-Methods", method)
	if len(requested) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(requested, ","))
	}
}

// corsWriter adds the CORS headers of an actual request just before the
// answer's header is sent.
type corsWriter struct {
	http.ResponseWriter
	apply func(http.Header)
	done  bool
}

func (cw *corsWriter) commit() {
	if !cw.done {
		cw.done = true
		cw.apply(cw.ResponseWriter.Header())
	}
}

func (cw *corsWriter) WriteHeader(status int) {
	if status >= 200 || status == http.StatusSwitchingProtocols {
		cw.commit() // not before an informational (1xx) header
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *corsWriter) Write(b []byte) (int, error) {
	cw.commit()
	return cw.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (cw *corsWriter) Flush() {
	cw.commit()
	if f, ok := cw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (cw *corsWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// corsRecorder holds the answer to an OPTIONS request until the middleware
// has decided what to send.
type corsRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *corsRecorder) Header() http.Header { return rec.header }

func (rec *corsRecorder) WriteHeader(status int) {
	if rec.status == 0 && status >= 200 {
		rec.status = status
	}
}

func (rec *corsRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

func (rec *corsRecorder) copyTo(w http.ResponseWriter) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}
