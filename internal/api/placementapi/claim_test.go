package placementapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// claimBody is a POST /allot/v1/claims body for consumers on a query.
func claimBody(q string, consumers ...string) map[string]any {
	cs := make([]any, len(consumers))
	for i, c := range consumers {
		cs[i] = map[string]any{"uuid": c, "project_id": "p1", "user_id": "u1"}
	}
	return map[string]any{"consumers": cs, "query": q}
}

func TestClaimAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		h1 := createProvider(t, p, "h1", "")
		setInventory(t, p, h1, 0, map[string]any{"VCPU": map[string]any{"total": 4}})
		h2 := createProvider(t, p, "h2", "")
		setInventory(t, p, h2, 0, map[string]any{"VCPU": map[string]any{"total": 4}})
		c1, c2, c3 := uuid.NewString(), uuid.NewString(), uuid.NewString()

		// No version header: the query is read at the latest microversion.
		r := p.Must(200, "POST", "/allot/v1/claims", "", claimBody("resources=VCPU:3", c1))
		claims := r.JSON()["claims"].([]any)
		got := claims[0].(map[string]any)
		if got["consumer_uuid"] != c1 || got["consumer_generation"].(float64) != 1 {
			t.Errorf("answer %s", r.Body)
		}
		allocs := got["allocations"].(map[string]any)
		if len(allocs) != 1 || got["mappings"].(map[string]any)[""] == nil {
			t.Errorf("answer %s", r.Body)
		}
		// The claim shows in Placement's own view.
		r = p.Must(200, "GET", "/allocations/"+c1, "1.39", nil)
		if !contains(r.Body, `"VCPU":3`) {
			t.Errorf("GET /allocations after a claim: %s", r.Body)
		}

		// A gang of 2 distinct trees on 2 trees, with 1 VCPU left on one: 409.
		body := claimBody("resources=VCPU:2", c2, c3)
		body["distinct"] = "root"
		r = p.Must(409, "POST", "/allot/v1/claims", "1.39", body)
		if r.ErrorCode() != "allot.claim.no_fit" || !contains(r.Body, "resources=VCPU:2") {
			t.Errorf("gang that does not fit: %s", r.Body)
		}
		body = claimBody("resources=VCPU:1", c2, c3)
		body["distinct"], body["strategy"], body["idempotency_key"] = "root", "spread", "k1"
		r = p.Must(200, "POST", "/allot/v1/claims", "1.39", body)
		again := p.Must(200, "POST", "/allot/v1/claims", "1.39", body)
		if string(again.Body) != string(r.Body) || again.Header.Get("X-Allot-Claim-Replayed") != "true" {
			t.Errorf("replay: %s (%v), first %s", again.Body, again.Header, r.Body)
		}
		body["strategy"] = "pack"
		r = p.Must(409, "POST", "/allot/v1/claims", "1.39", body)
		if r.ErrorCode() != "allot.claim.idempotency_key_reused" {
			t.Errorf("reused key: %s", r.Body)
		}
	})
}

// TestClaimAPIBadInput: bad bodies are 4xx that name the problem.
func TestClaimAPIBadInput(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	c := uuid.NewString()
	good := func(edit func(m map[string]any)) map[string]any {
		m := claimBody("resources=VCPU:1", c)
		edit(m)
		return m
	}
	for _, tc := range []struct {
		name    string
		version string
		body    any
		status  int
		detail  string
	}{
		{"not JSON", "", "{", 400, "Malformed JSON"},
		{"no consumers", "", map[string]any{"query": "resources=VCPU:1"}, 400, "consumers"},
		{"empty consumers", "", good(func(m map[string]any) { m["consumers"] = []any{} }), 400, "consumers"},
		{"no query", "", good(func(m map[string]any) { delete(m, "query") }), 400, "query"},
		{"unknown key", "", good(func(m map[string]any) { m["limit"] = 1 }), 400, "limit"},
		{"bad uuid", "", claimBody("resources=VCPU:1", "nope"), 400, "uuid"},
		{"no project", "", good(func(m map[string]any) { delete(m["consumers"].([]any)[0].(map[string]any), "project_id") }), 400, "project_id"},
		{"twice the same consumer", "", claimBody("resources=VCPU:1", c, c), 400, "named twice"},
		{"bad strategy", "", good(func(m map[string]any) { m["strategy"] = "fullest" }), 400, "strategy"},
		{"bad distinct", "", good(func(m map[string]any) { m["distinct"] = "rack" }), 400, "trait_prefix:PREFIX"},
		{"bad query", "", claimBody("resources=VCPU", c), 400, "Invalid query in the claim"},
		{"unknown parameter", "", claimBody("resources=VCPU:1&color=red", c), 400, "Invalid query in the claim"},
		{"old version for the query", "1.36", claimBody("resources=VCPU:1&root_required=CUSTOM_X&same_subtree=_A", c), 400, "Invalid query"},
		{"version before candidates", "1.9", claimBody("resources=VCPU:1", c), 400, "1.10"},
		{"unknown class", "", claimBody("resources=CUSTOM_NOPE:1", c), 400, "CUSTOM_NOPE"},
		{"no resources", "", claimBody("required=HW_CPU_X86_AVX", c), 400, ""},
		{"nothing fits", "", claimBody("resources=VCPU:1", c), 409, "No allocation candidates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Do("POST", "/allot/v1/claims", tc.version, tc.body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.detail) {
				t.Errorf("status %d, body %s; want %d with %q", r.Status, r.Body, tc.status, tc.detail)
			}
		})
	}
	// A JSON content type is required, and the policy is allocations:manage.
	r := p.Do("POST", "/allot/v1/claims", "", nil)
	if r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("no body: %d %s", r.Status, r.Body)
	}
}
