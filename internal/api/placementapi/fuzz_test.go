package placementapi_test

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

	"allot/internal/api/placementapi"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testserver"
)

const fuzzRP = "11111111-2222-3333-4444-555555555555"

// fuzzServer is the Placement handler over a fresh SQLite store (in the
// fuzz target's TempDir) holding one provider.
func fuzzServer(f *testing.F) http.Handler {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	fuzzHandler := placementapi.New(placement.New(st, placement.Options{}), placementapi.Options{}).Handler()
	req := httptest.NewRequest("POST", "/resource_providers", bytes.NewBufferString(`{"name": "fuzz", "uuid": "`+fuzzRP+`"}`))
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Content-Type", "application/json")
	fuzzHandler.ServeHTTP(httptest.NewRecorder(), req)
	return fuzzHandler
}

var fuzzEndpoints = []struct{ method, path string }{
	{"POST", "/resource_providers"},
	{"PUT", "/resource_providers/" + fuzzRP},
	{"POST", "/resource_providers/" + fuzzRP + "/inventories"},
	{"PUT", "/resource_providers/" + fuzzRP + "/inventories"},
	{"PUT", "/resource_providers/" + fuzzRP + "/inventories/VCPU"},
	{"PUT", "/resource_providers/" + fuzzRP + "/traits"},
	{"PUT", "/resource_providers/" + fuzzRP + "/aggregates"},
	{"POST", "/resource_classes"},
	{"PUT", "/resource_classes/CUSTOM_X"},
	{"PUT", "/allocations/6a7b8c9d-0000-4000-8000-000000000001"},
	{"POST", "/allocations"},
	{"POST", "/reshaper"},
}

// FuzzJSONBodies sends arbitrary bodies to every endpoint that takes one, at
// any microversion: the answer is never a 5xx.
func FuzzJSONBodies(f *testing.F) {
	h := fuzzServer(f)
	seeds := []string{
		`{}`, `[]`, `null`, `{"name": "x"}`, `{"name": "x", "parent_provider_uuid": "` + fuzzRP + `"}`,
		`{"resource_class": "VCPU", "total": 8}`, `{"resource_provider_generation": 0, "total": 1.0}`,
		`{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4, "allocation_ratio": 1e400}}}`,
		`{"traits": ["CUSTOM_A"], "resource_provider_generation": 0}`, `["` + fuzzRP + `"]`,
		`{"allocations": {"` + fuzzRP + `": {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "X"}`,
		`{"allocations": [{"resource_provider": {"uuid": "` + fuzzRP + `"}, "resources": {"VCPU": 9223372036854775807}}]}`,
		`{"inventories": {"` + fuzzRP + `": {"resource_provider_generation": 0, "inventories": {}}}, "allocations": {}}`,
		`{"total": 99999999999999999999999}`, "\xff\xfe", `{"a": "\ud800"}`,
		// Huge exponents and digit counts (issue 14): refused after a scan,
		// never parsed exactly; NUL in strings: a 400 on both stores.
		`{"resource_class": "VCPU", "total": 1e999999}`, `{"total": -1.5e-999999, "allocation_ratio": 1e400}`,
		`{"total": 1` + strings.Repeat("0", 150) + `}`, `{"total": 0e99999999999999999999}`, `[1e-400, 1E+400, -0.0e-0]`,
		`{"name": "a\u0000b"}`, `{"traits": ["CUSTOM_\u0000"], "resource_provider_generation": 0}`, `{"\u0000": 1}`,
		`{"allocations": {"` + fuzzRP + `": {"resources": {"VCPU": 1}}}, "project_id": "p\u0000", "user_id": "\udfff", "consumer_generation": null}`,
	}
	for i := range fuzzEndpoints {
		for _, s := range seeds {
			f.Add(uint8(i), uint8(39), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, endpoint, minor uint8, body []byte) {
		ep := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		req := httptest.NewRequest(ep.method, ep.path, bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("OpenStack-API-Version", "placement 1."+strconv.Itoa(int(minor)%40))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at 1.%d with %q", int(minor)%40, body))
	})
}

// FuzzQueryStrings sends arbitrary query strings to the GET endpoints.
func FuzzQueryStrings(f *testing.F) {
	h := fuzzServer(f)
	paths := []string{"/resource_providers", "/traits", "/usages", "/allocation_candidates",
		// The console's extensions.
		"/allot/v1/capacity/aggregates", "/allot/v1/capacity/roots", "/allot/v1/resource_providers",
		"/allot/v1/resource_providers/" + fuzzRP + "/sharing", "/allot/v1/resource_providers/" + fuzzRP + "/consumers"}
	for i := range paths {
		for _, q := range []string{"", "name=x", "resources=VCPU:1", "member_of=in:" + fuzzRP, "required=in:A", "project_id=p&consumer_type=all",
			"resources1=VCPU:1&group_policy=isolate", "same_subtree=_a,_b", "limit=0", "%%",
			"name=a%00b", "name=%ff", "%ff=1", "uuid=AB-c", "resource_class=VCPU&limit=2&offset=1", "project_id=%c3%28", "member_of=%00", "resources=VCPU:1e999999"} {
			f.Add(uint8(i), uint8(39), q)
		}
	}
	f.Fuzz(func(t *testing.T, path, minor uint8, q string) {
		p := paths[int(path)%len(paths)]
		req, err := http.NewRequest("GET", p, nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = q
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1."+strconv.Itoa(int(minor)%40))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at 1.%d", int(minor)%40))
	})
}
