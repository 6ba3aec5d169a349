// Package testserver starts allot's APIs over a real store on loopback for
// tests: SQLite in a temporary directory or a fresh PostgreSQL database.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testpg"
)

// Quiet is a logger that drops everything (tests assert, they do not log).
var Quiet = slog.New(slog.DiscardHandler)

// Backends lists the stores tests run on.
var Backends = []string{"sqlite", "postgres"}

// OpenStore returns a fresh store of the given backend for one test.
func OpenStore(t testing.TB, backend string) *store.Store {
	t.Helper()
	var dsn string
	switch backend {
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "allot.db")
	case "postgres":
		dsn = testpg.DSN(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	s, err := store.Open(context.Background(), dsn, store.Options{Logger: Quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenDSN opens another store on an existing database (a second replica).
func OpenDSN(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{Logger: Quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Placement is a running Placement API.
type Placement struct {
	URL     string
	Service *placement.Service
	Store   *store.Store
	t       testing.TB
}

// StartPlacement serves the Placement API over st on a loopback port.
func StartPlacement(t testing.TB, st *store.Store) *Placement {
	t.Helper()
	svc := placement.New(st, placement.Options{Logger: Quiet})
	srv := httptest.NewServer(placementapi.New(svc, placementapi.Options{Logger: Quiet}).Handler())
	t.Cleanup(srv.Close)
	return &Placement{URL: srv.URL, Service: svc, Store: st, t: t}
}

// Baremetal is a running Bare Metal API (with its allocation workers) and
// the Placement API over the same store.
type Baremetal struct {
	URL       string
	Placement *Placement
	Service   *baremetal.Service
	t         testing.TB
}

// StartBaremetal serves the Bare Metal API over st, with workers polling
// every 20 ms, and the Placement API beside it.
func StartBaremetal(t testing.TB, st *store.Store) *Baremetal {
	t.Helper()
	return StartBaremetalWith(t, st, baremetal.Options{Poll: 20 * time.Millisecond})
}

// StartBaremetalWith is StartBaremetal with the service options given
// (logging is quiet unless opts.Logger is set).
func StartBaremetalWith(t testing.TB, st *store.Store, opts baremetal.Options) *Baremetal {
	t.Helper()
	return startBaremetal(t, st, opts, baremetalapi.Options{})
}

// StartBaremetalAPI is StartBaremetal with the Bare Metal API's options
// given, e.g. an authenticator (auth.NoAuth2Credentials, which reads the
// caller from X-Roles, X-Project-Id and OpenStack-System-Scope) and a
// policy enforcer, to test access rules. Logging is quiet unless
// apiOpts.Logger is set.
func StartBaremetalAPI(t testing.TB, st *store.Store, apiOpts baremetalapi.Options) *Baremetal {
	t.Helper()
	return startBaremetal(t, st, baremetal.Options{Poll: 20 * time.Millisecond}, apiOpts)
}

func startBaremetal(t testing.TB, st *store.Store, opts baremetal.Options, apiOpts baremetalapi.Options) *Baremetal {
	t.Helper()
	p := StartPlacement(t, st)
	if opts.Logger == nil {
		opts.Logger = Quiet
	}
	svc := baremetal.New(p.Service, opts)
	svc.Start()
	t.Cleanup(svc.Stop)
	if apiOpts.Logger == nil {
		apiOpts.Logger = Quiet
	}
	srv := httptest.NewServer(baremetalapi.New(svc, apiOpts).Handler())
	t.Cleanup(srv.Close)
	return &Baremetal{URL: srv.URL, Placement: p, Service: svc, t: t}
}

// Do sends a request at the given Bare Metal microversion ("" for none);
// body is JSON-encoded unless it is a string or nil.
func (b *Baremetal) Do(method, path, version string, body any) Response {
	b.t.Helper()
	h := http.Header{}
	if version != "" {
		h.Set("X-OpenStack-Ironic-API-Version", version)
	}
	return Send(b.t, method, b.URL+path, h, body)
}

// DoAs is Do with the caller's headers h (X-Auth-Token, X-Roles, ...).
func (b *Baremetal) DoAs(h http.Header, method, path, version string, body any) Response {
	b.t.Helper()
	h = h.Clone()
	if version != "" {
		h.Set("X-OpenStack-Ironic-API-Version", version)
	}
	return Send(b.t, method, b.URL+path, h, body)
}

// Must sends a request and fails the test unless the status is want.
func (b *Baremetal) Must(want int, method, path, version string, body any) Response {
	b.t.Helper()
	return mustStatus(b.t, want, method, path, b.Do(method, path, version, body))
}

// Fault returns the faultstring (or description) of an Ironic error body.
func (r Response) Fault() string {
	inner := r.ErrorDoc()
	if inner == nil {
		var outer struct {
			ErrorMessage string `json:"error_message"`
		}
		json.Unmarshal(r.Body, &outer)
		return outer.ErrorMessage
	}
	if s, ok := inner["faultstring"].(string); ok {
		return s
	}
	s, _ := inner["description"].(string)
	return s
}

// ErrorDoc decodes the JSON document an Ironic error body carries as a
// string in error_message; nil when the body is not such an error.
func (r Response) ErrorDoc() map[string]any {
	var outer struct {
		ErrorMessage string `json:"error_message"`
	}
	if json.Unmarshal(r.Body, &outer) != nil {
		return nil
	}
	var inner map[string]any
	if json.Unmarshal([]byte(outer.ErrorMessage), &inner) != nil {
		return nil
	}
	return inner
}

// Response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r Response) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

// ErrorCode returns the Placement error code of an error body.
func (r Response) ErrorCode() string {
	errs, _ := r.JSON()["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	code, _ := errs[0].(map[string]any)["code"].(string)
	return code
}

// Do sends a request as the admin with the given microversion ("" for
// none); body is JSON-encoded unless it is a string or nil.
func (p *Placement) Do(method, path, version string, body any) Response {
	p.t.Helper()
	h := http.Header{}
	h.Set("X-Auth-Token", "admin")
	h.Set("Accept", "application/json")
	if version != "" {
		h.Set("OpenStack-API-Version", "placement "+version)
	}
	return Send(p.t, method, p.URL+path, h, body)
}

// Must sends a request and fails the test unless the status is want.
func (p *Placement) Must(want int, method, path, version string, body any) Response {
	p.t.Helper()
	return mustStatus(p.t, want, method, path, p.Do(method, path, version, body))
}

// Send sends one request with headers h (nil: none) to url and returns the
// answer, failing the test when the request cannot be made; body is
// JSON-encoded unless it is a string (sent as is) or nil. Every test that
// talks HTTP to a server of its own uses it.
func Send(t testing.TB, method, url string, h http.Header, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// mustStatus fails the test unless r has status want.
func mustStatus(t testing.TB, want int, method, path string, r Response) Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// NoServerError serves req with h in process and fails t if the answer is
// a 5xx (what the API fuzz targets check for every input); detail names the
// input in the failure.
func NoServerError(t testing.TB, h http.Handler, req *http.Request, detail string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %s: %d %s", req.Method, req.URL, detail, rec.Code, rec.Body.String())
	}
}
