package testserver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const (
	fuzzRP   = "11111111-2222-3333-4444-555555555555"
	fuzzNode = "66666666-7777-4888-9999-000000000000"
)

// fuzzTarget is one API over one store, served over HTTP on loopback.
type fuzzTarget struct {
	name string
	url  string
	// headers are sent with every request before the fuzzer's own.
	headers http.Header
}

// startFuzzTargets serves both APIs over both stores, once for the fuzz
// target's process, each holding a provider (Placement) or an available
// node (Bare Metal) for requests to find. Bare Metal runs no allocation
// workers: the target exercises request handling.
func startFuzzTargets(f *testing.F) []fuzzTarget {
	var targets []fuzzTarget
	for _, backend := range testserver.Backends {
		st := fuzzStore(f, backend)
		psvc := placement.New(st, placement.Options{Logger: testserver.Quiet})
		psrv := httptest.NewServer(placementapi.New(psvc, placementapi.Options{Logger: testserver.Quiet}).Handler())
		f.Cleanup(psrv.Close)
		bsvc := baremetal.New(psvc, baremetal.Options{Workers: -1, Logger: testserver.Quiet})
		bsrv := httptest.NewServer(baremetalapi.New(bsvc, baremetalapi.Options{Logger: testserver.Quiet}).Handler())
		f.Cleanup(bsrv.Close)
		p := fuzzTarget{name: "placement/" + backend, url: psrv.URL,
			headers: http.Header{"X-Auth-Token": {"admin"}, "Openstack-Api-Version": {"placement latest"}}}
		b := fuzzTarget{name: "baremetal/" + backend, url: bsrv.URL,
			headers: http.Header{"X-Openstack-Ironic-Api-Version": {"1.79"}}}
		for _, r := range []struct {
			t                  fuzzTarget
			method, path, body string
		}{
			{p, "POST", "/resource_providers", `{"name": "fuzz", "uuid": "` + fuzzRP + `"}`},
			{p, "PUT", "/resource_providers/" + fuzzRP + "/inventories", `{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}}`},
			{b, "POST", "/v1/nodes", `{"driver": "fake-hardware", "name": "fuzz-node", "uuid": "` + fuzzNode + `", "resource_class": "rc"}`},
			{b, "PUT", "/v1/nodes/fuzz-node/states/provision", `{"target": "manage"}`},
			{b, "PUT", "/v1/nodes/fuzz-node/states/provision", `{"target": "provide"}`},
		} {
			status, body, err := fuzzSend(r.t, r.method, r.path, "", "Content-Type: application/json", []byte(r.body))
			if err != nil || status >= 300 {
				f.Fatalf("setup %s %s on %s: %d %s %v", r.method, r.path, r.t.name, status, body, err)
			}
		}
		targets = append(targets, p, b)
	}
	return targets
}

// fuzzStore opens a store for the fuzz target. On PostgreSQL the fuzzing
// coordinator starts the one cluster and names it to its worker processes
// (which inherit its environment): a cluster a worker started would
// outlive the worker, which the coordinator may kill, and hold its pipes.
func fuzzStore(f *testing.F, backend string) *store.Store {
	if backend != "postgres" {
		return testserver.OpenStore(f, backend)
	}
	dsn := testpg.DSN(f)
	if os.Getenv("ALLOT_TEST_POSTGRES") == "" {
		os.Setenv("ALLOT_TEST_POSTGRES", dsn)
	}
	return testserver.OpenDSN(f, dsn)
}

var fuzzClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// errNoAnswer is a request the server did not answer in time.
var errNoAnswer = errors.New("the server did not answer")

// fuzzSend sends one request to t: headers is "Name: value" lines. It
// returns an error only when no request could be built from the input.
func fuzzSend(t fuzzTarget, method, path, query, headers string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = "", "", query
	req.URL.Opaque = path // the request target as the fuzzer wrote it
	req.Header = t.headers.Clone()
	sc := bufio.NewScanner(strings.NewReader(headers))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	resp, err := fuzzClient.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return 0, "", fmt.Errorf("%w: no answer within %v", errNoAnswer, fuzzClient.Timeout)
	}
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(data), nil
}

// FuzzWholeRequests drives whole requests (method, path, query, headers
// and body from the fuzzer) at both APIs over both stores: no answer is a
// 5xx other than 503 (a store that is briefly unavailable).
func FuzzWholeRequests(f *testing.F) {
	targets := startFuzzTargets(f)
	const js = "Content-Type: application/json"
	seeds := []struct {
		target                      uint8
		method, path, query, header string
		body                        string
	}{
		{0, "GET", "/resource_providers", "name=a%00b", "", ""},
		{0, "GET", "/resource_providers", "name=%ff", "", ""},
		{0, "GET", "/resource_providers/%ff", "", "", ""},
		{0, "GET", "/allocation_candidates", "resources=VCPU:1&member_of=in:%00", "", ""},
		{0, "POST", "/resource_providers", "", js, `{"name": "a\u0000b"}`},
		{0, "PUT", "/resource_providers/" + fuzzRP + "/inventories", "", js, `{"resource_provider_generation": 1, "inventories": {"VCPU": {"total": 1e999999}}}`},
		{0, "PUT", "/allocations/6a7b8c9d-0000-4000-8000-000000000001", "", js,
			`{"allocations": {"` + fuzzRP + `": {"resources": {"VCPU": 1e999999}}}, "project_id": "p", "user_id": "u", "consumer_generation": null}`},
		{0, "POST", "/reshaper", "", js, `{"inventories": {}, "allocations": {"x": 123456789012345678901234567890e-400}}`},
		{0, "PUT", "/traits/CUSTOM_%00", "", "", ""},
		{0, "GET", "/usages", "project_id=%c3%28", "", ""},
		{1, "GET", "/v1/nodes", "driver=%ff", "", ""},
		{1, "GET", "/v1/nodes", "owner=a%00b", "", ""},
		{1, "GET", "/v1/nodes/%ff", "", "", ""},
		{1, "POST", "/v1/nodes", "", js, `{"driver": "fake-hardware", "name": "a\u0000b", "extra": {"\u0000": 1e999999}}`},
		{1, "PATCH", "/v1/nodes/fuzz-node", "", js, `[{"op": "add", "path": "/extra/a", "value": "\u0000"}]`},
		{1, "PATCH", "/v1/nodes/fuzz-node", "", js, `[{"op": "add", "path": "/properties/cpus", "value": 1e400}]`},
		{1, "POST", "/v1/allocations", "", js, `{"resource_class": "rc", "owner": "\ud800", "name": "x"}`},
		{1, "PUT", "/v1/nodes/fuzz-node/traits/CUSTOM_%ff", "", "", ""},
		{1, "GET", "/v1/allocations", "node=%00&resource_class=%ff", "", ""},
		{0, "GET", "//evil.com/%2e%2e", "", "", ""},
		{1, "GET", "*", "", "", ""},
		{0, "DELETE", "/resource_providers/" + fuzzRP, "", "X-Auth-Token: nobody", ""},
		{0, "GET", "/resource_providers", "", "X-Project-Id: p\xff\nX-User-Id: \xc3\x28", ""},
		{1, "GET", "/v1/nodes", "", "X-Project-Id: p\xff\nX-Roles: member", ""},
	}
	for _, s := range seeds {
		for backend := uint8(0); backend < 2; backend++ {
			f.Add(s.target+2*backend, s.method, s.path, s.query, s.header, []byte(s.body))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, method, path, query, headers string, body []byte) {
		tgt := targets[int(which)%len(targets)]
		status, answer, err := fuzzSend(tgt, method, path, query, headers, body)
		if errors.Is(err, errNoAnswer) {
			t.Fatalf("%s: %s %q ?%q headers %q body %.300q: %v", tgt.name, method, path, query, headers, body, err)
		}
		if err != nil {
			return // not a request an HTTP client can send
		}
		if status >= 500 && status != http.StatusServiceUnavailable {
			t.Fatalf("%s: %s %q ?%q headers %q body %.300q: %d %s", tgt.name, method, path, query, headers, body, status, answer)
		}
	})
}
