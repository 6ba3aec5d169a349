package baremetalapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"allot/internal/api/baremetalapi"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testserver"
)

const (
	fuzzNode  = "11111111-2222-3333-4444-555555555555"
	fuzzAlloc = "66666666-7777-4888-9999-000000000000"
)

// fuzzServer is the Bare Metal handler over a SQLite store holding one
// available node (named fuzz-node) and one allocation (fuzz-alloc), with no
// workers: the fuzzers exercise request handling, not processing. Each
// fuzz target gets its own (its store lives in the target's TempDir).
func fuzzServer(f *testing.F) http.Handler {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	svc := baremetal.New(placement.New(st, placement.Options{}), baremetal.Options{Workers: -1, Logger: testserver.Quiet})
	fuzzHandler := baremetalapi.New(svc, baremetalapi.Options{Logger: testserver.Quiet}).Handler()
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/nodes", `{"driver": "fake-hardware", "name": "fuzz-node", "uuid": "` + fuzzNode + `", "resource_class": "rc"}`},
		{"PUT", "/v1/nodes/fuzz-node/states/provision", `{"target": "manage"}`},
		{"PUT", "/v1/nodes/fuzz-node/states/provision", `{"target": "provide"}`},
		{"POST", "/v1/allocations", `{"resource_class": "rc", "name": "fuzz-alloc", "uuid": "` + fuzzAlloc + `"}`},
	} {
		req := httptest.NewRequest(r.method, r.path, bytes.NewBufferString(r.body))
		req.Header.Set("X-OpenStack-Ironic-API-Version", "1.79")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		fuzzHandler.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			f.Fatalf("setup %s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
	return fuzzHandler
}

var fuzzEndpoints = []struct{ method, path string }{
	{"POST", "/v1/nodes"},
	{"PATCH", "/v1/nodes/fuzz-node"},
	{"PUT", "/v1/nodes/fuzz-node/states/provision"},
	{"PUT", "/v1/nodes/fuzz-node/states/power"},
	{"PUT", "/v1/nodes/fuzz-node/maintenance"},
	{"PUT", "/v1/nodes/fuzz-node/traits"},
	{"POST", "/v1/allocations"},
	{"PATCH", "/v1/allocations/" + fuzzAlloc},
	{"POST", "/allot/v1/allocations/dry-run"},
}

// FuzzBaremetalBodies sends arbitrary bodies to every Bare Metal endpoint
// that takes one, at any microversion: the answer is never a 5xx.
func FuzzBaremetalBodies(f *testing.F) {
	h := fuzzServer(f)
	seeds := []string{
		`{}`, `[]`, `null`, `"x"`, `{"driver": "fake-hardware", "name": "n-1"}`, `{"target": "manage"}`, `{"target": "power on"}`,
		`{"reason": "x"}`, `{"traits": ["CUSTOM_A"]}`, `{"resource_class": "rc", "traits": ["CUSTOM_A"], "candidate_nodes": ["fuzz-node"]}`,
		`{"node": "fuzz-node"}`, `{"resource_class": "rc", "owner": "p", "extra": {"a": [1, {"b": null}]}}`,
		`[{"op": "add", "path": "/extra/a", "value": 1}]`, `[{"op": "remove", "path": "/instance_uuid"}]`,
		`[{"op": "replace", "path": "/name", "value": null}]`, `[{"op": "add", "path": "/extra/a~1b/-", "value": 1}]`,
		`[{"op": "replace", "path": "/properties", "value": {"cpus": 1e400}}]`, "\xff\xfe", `{"name": "\ud800"}`,
		// Huge exponents and digit counts, NUL in strings (issue 14).
		`[{"op": "add", "path": "/extra/a", "value": 1e999999}]`, `{"driver": "fake-hardware", "properties": {"cpus": 1` + strings.Repeat("0", 150) + `}}`,
		`{"driver": "fake-hardware", "name": "a\u0000b"}`, `[{"op": "add", "path": "/extra/a", "value": "\u0000"}]`,
		`{"resource_class": "rc", "owner": "\u0000", "extra": {"\u0000": -1e-999999}}`, `{"target": "manage\u0000"}`,
	}
	for i := range fuzzEndpoints {
		for _, s := range seeds {
			f.Add(uint8(i), uint8(79), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, endpoint, minor uint8, body []byte) {
		ep := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		req := httptest.NewRequest(ep.method, ep.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-OpenStack-Ironic-API-Version", "1."+strconv.Itoa(int(minor)%80))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at 1.%d with %q", int(minor)%80, body))
	})
}

// FuzzBaremetalQueries sends arbitrary query strings to the list and show
// endpoints.
func FuzzBaremetalQueries(f *testing.F) {
	h := fuzzServer(f)
	paths := []string{"/v1/nodes", "/v1/nodes/detail", "/v1/nodes/fuzz-node", "/v1/allocations", "/v1/allocations/fuzz-alloc", "/v1/nodes/fuzz-node/allocation"}
	for i := range paths {
		for _, q := range []string{"", "fields=uuid,name", "limit=1&marker=" + fuzzNode, "sort_key=name&sort_dir=desc", "node=fuzz-node",
			"resource_class=rc&state=active", "maintenance=maybe", "associated=True", "limit=-1", "%%", "fields=", "marker=" + fuzzAlloc,
			"driver=%ff", "owner=a%00b", "%ff=1", "node=%00", "resource_class=%c3%28", "limit=1e999999"} {
			f.Add(uint8(i), uint8(79), q)
		}
	}
	f.Fuzz(func(t *testing.T, path, minor uint8, q string) {
		p := paths[int(path)%len(paths)]
		req, err := http.NewRequest("GET", p, nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = q
		req.Header.Set("X-OpenStack-Ironic-API-Version", "1."+strconv.Itoa(int(minor)%80))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at 1.%d", int(minor)%80))
	})
}
