package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"allot/internal/api"
)

// TestMount: the requests for a prefix reach the mounted handler without
// it (the prefix itself as its root), with links that lead back through
// it; every other request reaches the rest, untouched.
func TestMount(t *testing.T) {
	echo := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Method+" "+r.URL.EscapedPath()+" "+r.URL.RawQuery+" "+api.Origin{}.Base(r))
		})
	}
	srv := httptest.NewServer(api.Mount("/baremetal", echo("mounted"), echo("rest")))
	defer srv.Close()
	base := srv.URL
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/baremetal", "mounted GET /  " + base + "/baremetal"},
		{"GET", "/baremetal/", "mounted GET /  " + base + "/baremetal"},
		{"GET", "/baremetal/v1/nodes?limit=2", "mounted GET /v1/nodes limit=2 " + base + "/baremetal"},
		{"GET", "/baremetal/v1/nodes/a%2Fb", "mounted GET /v1/nodes/a%2Fb  " + base + "/baremetal"},
		{"POST", "/baremetal/allot/v1/allocations/dry-run", "mounted POST /allot/v1/allocations/dry-run  " + base + "/baremetal"},
		{"DELETE", "/baremetal/v1/allocations/a1", "mounted DELETE /v1/allocations/a1  " + base + "/baremetal"},
		{"GET", "/baremetalx", "rest GET /baremetalx  " + base},
		{"GET", "/", "rest GET /  " + base},
		{"GET", "/resource_providers", "rest GET /resource_providers  " + base},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.path, body, tc.want)
		}
	}
}
