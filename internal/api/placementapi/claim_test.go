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

// The claim's preferences rank its candidates as those of GET
// /allot/v1/allocation_candidates do: the claim lands on the tree the
// ranked GET lists first, and the preferences are part of what an
// idempotency key stands for.
func TestClaimAPIPreferences(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		var hosts []string
		for _, name := range []string{"h1", "h2", "h3"} {
			rp := createProvider(t, p, name, "")
			setInventory(t, p, rp, 0, map[string]any{"VCPU": map[string]any{"total": 8}})
			hosts = append(hosts, rp)
		}
		p.Must(201, "PUT", "/traits/CUSTOM_FAST", "1.39", nil)
		gen := int(p.Must(200, "GET", "/resource_providers/"+hosts[2], "1.39", nil).JSON()["generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+hosts[2]+"/traits", "1.39",
			map[string]any{"resource_provider_generation": gen, "traits": []string{"CUSTOM_FAST"}})
		agg := uuid.NewString()
		gen = int(p.Must(200, "GET", "/resource_providers/"+hosts[1], "1.39", nil).JSON()["generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+hosts[1]+"/aggregates", "1.39",
			map[string]any{"resource_provider_generation": gen, "aggregates": []string{agg}})
		for _, c := range []struct {
			name         string
			trait, agg   []string
			query        string // the same ranking on GET /allot/v1/allocation_candidates
			wantHostSeen int
		}{
			{"a preferred trait", []string{"CUSTOM_FAST:2"}, nil, "&prefer_trait=CUSTOM_FAST:2", 2},
			{"a preferred aggregate over a trait", []string{"CUSTOM_FAST"}, []string{agg + ":3"}, "&prefer_trait=CUSTOM_FAST&prefer_member_of=" + agg + ":3", 1},
			{"a trait to avoid, several in one entry", []string{"CUSTOM_FAST:-5,CUSTOM_FAST:1"}, []string{agg + ":-1"}, "&prefer_trait=CUSTOM_FAST:-5,CUSTOM_FAST:1&prefer_member_of=" + agg + ":-1", 0},
		} {
			ranked := firstProviders(t, p.Must(200, "GET", "/allot/v1/allocation_candidates?resources=VCPU:1"+c.query, "1.39", nil))
			if ranked[0] != hosts[c.wantHostSeen] {
				t.Fatalf("%s: the ranked GET lists %v first, the test expects %s", c.name, ranked, hosts[c.wantHostSeen])
			}
			body := claimBody("resources=VCPU:1", uuid.NewString())
			if c.trait != nil {
				body["prefer_trait"] = c.trait
			}
			if c.agg != nil {
				body["prefer_member_of"] = c.agg
			}
			r := p.Must(200, "POST", "/allot/v1/claims", "1.39", body)
			allocs := r.JSON()["claims"].([]any)[0].(map[string]any)["allocations"].(map[string]any)
			if allocs[ranked[0]] == nil || len(allocs) != 1 {
				t.Errorf("%s: claimed %s, want the ranked GET's first %s", c.name, r.Body, ranked[0])
			}
		}
		body := claimBody("resources=VCPU:1", uuid.NewString())
		body["prefer_trait"], body["idempotency_key"] = []string{"CUSTOM_FAST"}, "pref-key"
		p.Must(200, "POST", "/allot/v1/claims", "1.39", body)
		body["prefer_trait"] = []string{"CUSTOM_FAST:2"}
		if r := p.Must(409, "POST", "/allot/v1/claims", "1.39", body); r.ErrorCode() != "allot.claim.idempotency_key_reused" {
			t.Errorf("same key, other preferences: %s", r.Body)
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
		{"bad weight", "", good(func(m map[string]any) { m["prefer_trait"] = []string{"CUSTOM_FAST:heavy"} }), 400,
			`Invalid preference in the claim: prefer_trait \"CUSTOM_FAST:heavy\": the weight after ':' must be a finite number.`},
		{"infinite weight", "", good(func(m map[string]any) { m["prefer_trait"] = []string{"HW_CPU_X86_AVX:1e999"} }), 400, "finite number"},
		{"no name", "", good(func(m map[string]any) { m["prefer_trait"] = []string{"HW_CPU_X86_AVX,:2"} }), 400, "expected NAME[:WEIGHT]"},
		{"aggregate not a uuid", "", good(func(m map[string]any) { m["prefer_member_of"] = []string{"rack1:2"} }), 400, `prefer_member_of \"rack1\" is not an aggregate uuid`},
		{"preferences not a list", "", good(func(m map[string]any) { m["prefer_trait"] = "HW_CPU_X86_AVX" }), 400, "prefer_trait"},
		{"empty preference", "", good(func(m map[string]any) { m["prefer_member_of"] = []string{""} }), 400, "prefer_member_of"},
		{"too many preferences", "", good(func(m map[string]any) { m["prefer_trait"] = make([]string, 65) }), 400, "prefer_trait"},
		{"unknown preferred trait", "", good(func(m map[string]any) { m["prefer_trait"] = []string{"CUSTOM_NOPE"} }), 400, "CUSTOM_NOPE"},
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
