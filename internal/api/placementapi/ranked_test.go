package placementapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/api/placementapi"
	"allot/internal/engine"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// firstProviders returns the provider of each allocation request (one
// provider each here), in order.
func firstProviders(t *testing.T, r testserver.Response) []string {
	t.Helper()
	var out []string
	reqs, _ := r.JSON()["allocation_requests"].([]any)
	for _, req := range reqs {
		switch allocs := req.(map[string]any)["allocations"].(type) {
		case map[string]any: // 1.12 and later
			for rp := range allocs {
				out = append(out, rp)
			}
		case []any:
			for _, a := range allocs {
				out = append(out, a.(map[string]any)["resource_provider"].(map[string]any)["uuid"].(string))
			}
		}
	}
	return out
}

// GET /allot/v1/allocation_candidates: the standard answer in the order
// asked for, with preferences; errors as the standard endpoint's.
func TestRankedCandidates(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		var hosts []string
		for i, used := range []int{0, 2, 6} {
			rp := createProvider(t, p, "host"+string(rune('1'+i)), "")
			setInventory(t, p, rp, 0, map[string]any{"VCPU": map[string]any{"total": 8}})
			if used > 0 {
				p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(rp, map[string]int{"VCPU": used}, nil))
			}
			hosts = append(hosts, rp)
		}
		p.Must(201, "PUT", "/traits/CUSTOM_FAST", "1.39", nil)
		gen := int(p.Must(200, "GET", "/resource_providers/"+hosts[0], "1.39", nil).JSON()["generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+hosts[0]+"/traits", "1.39",
			map[string]any{"resource_provider_generation": gen, "traits": []string{"CUSTOM_FAST"}})
		agg := uuid.NewString()
		gen = int(p.Must(200, "GET", "/resource_providers/"+hosts[1], "1.39", nil).JSON()["generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+hosts[1]+"/aggregates", "1.39",
			map[string]any{"resource_provider_generation": gen, "aggregates": []string{agg}})

		const std = "/allocation_candidates?resources=VCPU:1"
		const ext = "/allot/v1/allocation_candidates?resources=VCPU:1"
		// Without extension parameters: the standard answer, byte for byte.
		a, b := p.Must(200, "GET", std, "1.39", nil), p.Must(200, "GET", ext, "1.39", nil)
		if !bytes.Equal(a.Body, b.Body) {
			t.Errorf("extension without ranking differs from the standard answer:\n%s\n%s", a.Body, b.Body)
		}
		h1, h2, h3 := hosts[0], hosts[1], hosts[2]
		for _, tc := range []struct {
			query, version string
			want           []string
		}{
			{"&strategy=default", "1.39", []string{h1, h2, h3}},
			{"&strategy=pack", "1.39", []string{h3, h2, h1}},
			{"&strategy=spread", "1.39", []string{h1, h2, h3}},
			{"&strategy=pack&limit=1", "1.39", []string{h3}},
			{"&strategy=spread&limit=2", "1.16", []string{h1, h2}},
			{"&strategy=pack&prefer_trait=CUSTOM_FAST:2", "1.39", []string{h1, h3, h2}},
			{"&strategy=pack&prefer_trait=CUSTOM_FAST", "1.10", []string{h1, h3, h2}},
			{"&strategy=spread&prefer_member_of=" + agg + ":1.5", "1.39", []string{h2, h1, h3}},
			{"&prefer_member_of=" + agg + "&prefer_trait=CUSTOM_FAST:2,CUSTOM_FAST:-1", "1.39", []string{h1, h2, h3}},
			{"&strategy=pack&prefer_member_of=" + uuid.NewString() + ":9", "1.39", []string{h3, h2, h1}},
		} {
			if got := firstProviders(t, p.Must(200, "GET", ext+tc.query, tc.version, nil)); !equalStrings(got, tc.want) {
				t.Errorf("%s: providers %v, want %v", tc.query, got, tc.want)
			}
		}
		// No version header: the latest.
		if r := p.Must(200, "GET", ext+"&strategy=pack", "", nil); !contains(r.Body, `"mappings"`) {
			t.Errorf("without a version: %s", r.Body)
		}
		// random: every candidate, in some order.
		if got := firstProviders(t, p.Must(200, "GET", ext+"&strategy=random", "1.39", nil)); len(got) != 3 {
			t.Errorf("random: %v", got)
		}
		for _, tc := range []struct{ path, version, want string }{
			{ext + "&strategy=fullest", "1.39", `strategy \"fullest\": use default, pack, spread or random`},
			{ext + "&strategy=pack&strategy=spread", "1.39", "strategy is given more than once"},
			{ext + "&prefer_trait=CUSTOM_NOPE", "1.39", "No such trait(s): CUSTOM_NOPE"},
			{ext + "&prefer_trait=CUSTOM_FAST:heavy", "1.39", "the weight after ':' must be a finite number"},
			{ext + "&prefer_trait=CUSTOM_FAST:Inf", "1.39", "the weight after ':' must be a finite number"},
			{ext + "&prefer_trait=:1", "1.39", "expected NAME[:WEIGHT]"},
			{ext + "&prefer_member_of=rack1:1", "1.39", "is not an aggregate uuid"},
			{ext + "&prefer=CUSTOM_FAST", "1.39", "'prefer' does not match any of the regexes"},
			{ext + "&resources=VCPU:x", "1.39", "expected positive integer amount"},
			{ext, "1.9", "needs microversion 1.10 or later"},
		} {
			r := p.Must(400, "GET", tc.path, tc.version, nil)
			if !contains(r.Body, tc.want) {
				t.Errorf("%s: %s, want %q", tc.path, r.Body, tc.want)
			}
		}
		// The standard endpoint's policy rule.
		req, _ := http.NewRequest("GET", p.URL+ext+"&strategy=pack", nil)
		req.Header.Set("X-Auth-Token", "user")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a non-admin got %d, want 403", resp.StatusCode)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzRankedQueryStrings sends arbitrary query strings to the ranked
// candidates extension: never a server error.
func FuzzRankedQueryStrings(f *testing.F) {
	h := fuzzServer(f)
	for _, q := range []string{"", "resources=VCPU:1&strategy=pack", "resources=VCPU:1&strategy=spread&limit=1",
		"resources=VCPU:1&prefer_trait=HW_CPU_X86_AVX:2,CUSTOM_X", "resources=VCPU:1&prefer_member_of=" + fuzzRP + ":-1.5",
		"strategy=%ff", "prefer_trait=%00:1", "prefer_trait=:", "prefer_member_of=x:1e999", "%ff=1&strategy=random", "strategy&prefer_trait"} {
		f.Add(uint8(39), q)
	}
	f.Fuzz(func(t *testing.T, minor uint8, q string) {
		req, err := http.NewRequest("GET", "/allot/v1/allocation_candidates", nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = q
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1."+strconv.Itoa(int(minor)%40))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at 1.%d", int(minor)%40))
	})
}

// The server's order (allot serve --candidate-order) applies to the
// standard endpoint; the extension's strategy overrides it per request.
func TestServerCandidateOrder(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	svc := placement.New(st, placement.Options{Logger: testserver.Quiet, Search: engine.SearchOptions{Order: engine.OrderPack}})
	srv := httptest.NewServer(placementapi.New(svc, placementapi.Options{Logger: testserver.Quiet}).Handler())
	t.Cleanup(srv.Close)
	get := func(path string) []string {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.39")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		return firstProviders(t, testserver.Response{Status: resp.StatusCode, Body: body})
	}
	send := func(method, path string, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.39")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	var hosts []string
	for i, used := range []int{1, 5} {
		rp := uuid.NewString()
		send("POST", "/resource_providers", fmt.Sprintf(`{"name": "h%d", "uuid": %q}`, i, rp))
		send("PUT", "/resource_providers/"+rp+"/inventories", `{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}}`)
		send("PUT", "/allocations/"+uuid.NewString(), fmt.Sprintf(`{"allocations": {%q: {"resources": {"VCPU": %d}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"}`, rp, used))
		hosts = append(hosts, rp)
	}
	if got := get("/allocation_candidates?resources=VCPU:1"); !equalStrings(got, []string{hosts[1], hosts[0]}) {
		t.Errorf("server order pack: %v, want the fuller host first", got)
	}
	if got := get("/allot/v1/allocation_candidates?resources=VCPU:1&strategy=spread"); !equalStrings(got, []string{hosts[0], hosts[1]}) {
		t.Errorf("strategy spread over the server's pack: %v", got)
	}
}
