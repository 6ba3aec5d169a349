package baremetalapi_test

import (
	"net/http"
	"strings"
	"testing"

	"allot/internal/api/baremetalapi"
	"allot/internal/auth"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// TestUnstorableIdentityIs400: under noauth2 the caller's identity comes
// from headers (X-Project-Id, X-User-Id), which may carry invalid UTF-8;
// the project then filters queries and owns allocations. Both stores
// answer the same 400 naming the header's field.
func TestUnstorableIdentityIs400(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			enf, err := policy.New(baremetalapi.PolicyDefaults(), policy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b := testserver.StartBaremetalAPI(t, testserver.OpenStore(t, backend),
				baremetalapi.Options{Auth: auth.NoAuth2Credentials, Policy: enf})
			for _, tc := range []struct {
				header, value, method, path, body string
			}{
				{"X-Project-Id", "p\xff", "GET", "/v1/nodes", ""},
				{"X-Project-Id", "p\xff", "POST", "/v1/allocations", `{"resource_class": "rc"}`},
				{"X-User-Id", "u\xff", "GET", "/v1/allocations", ""},
			} {
				h := http.Header{"X-Auth-Token": {"t"}, "X-Roles": {"member,reader"}, "X-Project-Id": {"p"}}
				h.Set(tc.header, tc.value)
				var body any
				if tc.body != "" {
					body = tc.body
				}
				r := b.DoAs(h, tc.method, tc.path, "1.79", body)
				if f := r.Fault(); r.Status != http.StatusBadRequest || !strings.Contains(f, "is not valid UTF-8") {
					t.Errorf("%s %s with %s %q: %d %q, want 400 naming the identity", tc.method, tc.path, tc.header, tc.value, r.Status, f)
				}
			}
		})
	}
}
