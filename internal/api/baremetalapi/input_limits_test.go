package baremetalapi_test

import (
	"net/http"
	"strings"
	"testing"

	"allot/internal/testserver"
)

// TestUnstorableStringsAre400 sends strings that PostgreSQL cannot store
// (NUL, invalid UTF-8) in query parameters, path segments, bodies and
// patch values: both stores answer the same 400, naming the field (on
// PostgreSQL these were 500s with SQLSTATE 22021).
func TestUnstorableStringsAre400(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			b := testserver.StartBaremetal(t, testserver.OpenStore(t, backend))
			b.Must(201, "POST", "/v1/nodes", "1.79", map[string]any{"driver": "fake-hardware", "name": "node-1", "resource_class": "rc"})
			for _, tc := range []struct{ method, path, body, want string }{
				{"GET", "/v1/nodes?driver=%ff", "", `The value of query parameter "driver" is not valid UTF-8`},
				{"GET", "/v1/nodes?owner=a%00b", "", `The value of query parameter "owner" contains a NUL character`},
				{"GET", "/v1/nodes/detail?resource_class=%c3%28", "", `"resource_class" is not valid UTF-8`},
				{"GET", "/v1/allocations?node=%00", "", `"node" contains a NUL`},
				{"GET", "/v1/nodes/%ff", "", "The path parameter {node} is not valid UTF-8"},
				{"GET", "/v1/nodes/a%00b", "", "The path parameter {node} contains a NUL"},
				{"PUT", "/v1/nodes/node-1/traits/CUSTOM_%ff", "", "is not valid UTF-8"},
				{"GET", "/v1/allocations/%ff", "", "is not valid UTF-8"},
				{"POST", "/v1/nodes", `{"driver": "fake-hardware", "name": "a\u0000b"}`, "Schema error for node: the value of ['name'] contains a NUL character"},
				{"POST", "/v1/nodes", `{"driver": "fake-hardware", "extra": {"k\u0000": 1}}`, `Schema error for node: the key ['extra']['k\x00'] contains a NUL`},
				{"PATCH", "/v1/nodes/node-1", `[{"op": "add", "path": "/extra/a", "value": "\u0000"}]`, "Schema error for patch: the value of [0]['value'] contains a NUL"},
				{"POST", "/v1/allocations", `{"resource_class": "rc", "owner": "\u0000"}`, "the value of ['owner'] contains a NUL"},
				{"PATCH", "/v1/nodes/node-1", `[{"op": "add", "path": "/extra/a", "value": 1e999999}]`, "Schema error for patch: 1e999999 is out of range"},
				{"POST", "/v1/nodes", `{"driver": "fake-hardware", "properties": {"cpus": 1` + strings.Repeat("0", 200) + `}}`, "Schema error for node: 1000"},
			} {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				r := b.Do(tc.method, tc.path, "1.79", body)
				if f := r.Fault(); r.Status != http.StatusBadRequest || !strings.Contains(f, tc.want) {
					t.Errorf("%s %s %q: %d %q, want 400 %q", tc.method, tc.path, tc.body, r.Status, f, tc.want)
				}
			}
			// The node is as it was.
			r := b.Must(200, "GET", "/v1/nodes/node-1", "1.79", nil)
			if extra, _ := r.JSON()["extra"].(map[string]any); len(extra) != 0 {
				t.Errorf("extra %v, want it empty", extra)
			}
		})
	}
}

// TestErrorsQuoteAShortPrefix: Ironic's schema errors quote at most a short
// prefix of what the client sent.
func TestErrorsQuoteAShortPrefix(t *testing.T) {
	b := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	long := strings.Repeat("y", 5<<20)
	for _, body := range []string{
		`{"driver": "fake-hardware", "name": "` + long + `"}`,
		`{"driver": "fake-hardware", "` + long + `": 1}`,
		`["` + long + `"]`,
	} {
		r := b.Do("POST", "/v1/nodes", "1.79", body)
		if f := r.Fault(); r.Status != http.StatusBadRequest || len(f) > 1024 || !strings.Contains(f, "yyy...") {
			t.Errorf("%d %.300q (%d bytes): want a 400 quoting a short prefix", r.Status, f, len(f))
		}
	}
	name := strings.Repeat("y", 200<<10)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/nodes/" + name, http.StatusBadRequest},
		{"GET", "/v1/allocations/" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes/" + name + "/allocation", http.StatusBadRequest},
		{"GET", "/v1/nodes?sort_key=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?sort_dir=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?limit=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?marker=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?fields=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?maintenance=" + name, http.StatusBadRequest},
		{"GET", "/v1/nodes?" + name + "=1", http.StatusBadRequest},
		{"GET", "/v1/allocations?node=" + name, http.StatusBadRequest},
	} {
		r := b.Do(tc.method, tc.path, "1.79", nil)
		if f := r.Fault(); r.Status != tc.status || len(f) > 1024 || !strings.Contains(f, "yyy...") {
			t.Errorf("%s %.60s...: %d %.300q (%d bytes): want %d quoting a short prefix", tc.method, tc.path, r.Status, f, len(f), tc.status)
		}
	}
}
