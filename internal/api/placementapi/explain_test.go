package placementapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/engine"
	"allot/internal/testserver"
)

// GET /allot/v1/allocation_candidates/explain: per group and stage what the
// search removed, the trees, the candidates and the nearest misses; the
// standard endpoint's validation, microversions and policy.
func TestExplainCandidates(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		host1 := createProvider(t, p, "host1", "")
		setInventory(t, p, host1, 0, map[string]any{"VCPU": map[string]any{"total": 8}})
		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(host1, map[string]int{"VCPU": 6}, nil))
		host2 := createProvider(t, p, "host2", "")
		setInventory(t, p, host2, 0, map[string]any{"MEMORY_MB": map[string]any{"total": 2048}})
		host3 := createProvider(t, p, "host3", "")
		setInventory(t, p, host3, 0, map[string]any{"VCPU": map[string]any{"total": 16}})
		p.Must(201, "PUT", "/traits/CUSTOM_FAST", "1.39", nil)
		p.Must(200, "PUT", "/resource_providers/"+host1+"/traits", "1.39",
			map[string]any{"resource_provider_generation": 2, "traits": []string{"CUSTOM_FAST"}})

		const ext = "/allot/v1/allocation_candidates/explain"
		explain := func(query, version string) engine.Explanation {
			t.Helper()
			r := p.Must(200, "GET", ext+"?"+query, version, nil)
			var ex engine.Explanation
			if err := json.Unmarshal(r.Body, &ex); err != nil {
				t.Fatalf("%s: %v", r.Body, err)
			}
			return ex
		}
		stages := func(ge engine.GroupExplanation) map[string]int {
			out := map[string]int{"in_candidates": ge.InCandidates}
			for _, st := range ge.Stages {
				if st.Removed > 0 {
					out[st.Stage] = st.Removed
				}
			}
			return out
		}

		// Nothing fits: host1 lacks capacity, host2 VCPU, host3 the trait.
		ex := explain("resources=VCPU:4&required=CUSTOM_FAST", "1.39")
		if ex.Candidates != 0 || ex.Providers != 3 || ex.Trees != 3 || len(ex.Groups) != 1 {
			t.Fatalf("explanation %+v", ex)
		}
		if got := stages(ex.Groups[0]); got["capacity"] != 1 || got["resource_class"] != 1 || got["required_traits"] != 1 || got["in_candidates"] != 0 {
			t.Errorf("stages %v", got)
		}
		if len(ex.NearestMisses) != 3 {
			t.Fatalf("nearest misses %+v", ex.NearestMisses)
		}
		// Closest first: host3 lacks only a trait (no shortfall), host1
		// only capacity (short 2), host2 has no VCPU at all (short 4).
		for i, want := range []struct {
			uuid, unmet string
			short       int64
		}{
			{host3, "unsuffixed group: the providers used lack trait CUSTOM_FAST", 0},
			{host1, "unsuffixed group: VCPU: needs 4, 2 free on host1", 2},
			{host2, "unsuffixed group: VCPU: no provider of the tree has it; unsuffixed group: the providers used lack trait CUSTOM_FAST", 4},
		} {
			if m := ex.NearestMisses[i]; m.Root.UUID != want.uuid || strings.Join(m.Unmet, "; ") != want.unmet || m.Shortfall != want.short {
				t.Errorf("nearest miss %d: %+v, want %+v", i, m, want)
			}
		}
		for _, st := range ex.Groups[0].Stages {
			if st.Stage == "capacity" && (len(st.Examples) != 1 || st.Examples[0].UUID != host1 || st.Examples[0].Name != "host1") {
				t.Errorf("capacity examples %+v", st.Examples)
			}
		}

		// Granular groups, older microversion; the candidate counted.
		ex = explain("resources1=VCPU:1&group_policy=none", "1.25")
		if ex.Candidates != 2 || ex.Groups[0].Suffix != "1" || ex.Groups[0].InCandidates != 2 || ex.TreesWithCandidates != 2 {
			t.Errorf("explanation %+v", ex)
		}
		// No version header: the latest.
		if ex := explain("resources=VCPU:1&root_required=CUSTOM_FAST", ""); ex.Candidates != 1 || stages(ex.Groups[0])["root_required"] != 2 {
			t.Errorf("root_required: %+v", ex)
		}

		// The standard endpoint's errors, word for word.
		for _, tc := range []struct{ query, version string }{
			{"resources=VCPU:x", "1.39"},
			{"resources=CUSTOM_NOPE:1", "1.39"},
			{"resources=VCPU:1&required=CUSTOM_NOPE", "1.39"},
			{"resources=VCPU:1&in_tree=" + uuid.NewString() + "&bogus=1", "1.39"},
			{"resources1=VCPU:1&resources2=VCPU:1", "1.39"},
			{"resources=VCPU:1&root_required=CUSTOM_FAST", "1.34"},
		} {
			std := p.Must(400, "GET", "/allocation_candidates?"+tc.query, tc.version, nil)
			got := p.Must(400, "GET", ext+"?"+tc.query, tc.version, nil)
			if detail := func(r testserver.Response) any {
				return r.JSON()["errors"].([]any)[0].(map[string]any)["detail"]
			}; detail(std) != detail(got) || std.ErrorCode() != got.ErrorCode() {
				t.Errorf("%s: %s, standard endpoint %s", tc.query, got.Body, std.Body)
			}
		}
		if r := p.Must(400, "GET", ext+"?resources=VCPU:1", "1.9", nil); !contains(r.Body, "needs microversion 1.10 or later") {
			t.Errorf("1.9: %s", r.Body)
		}

		// The standard endpoint's policy rule.
		req, _ := http.NewRequest("GET", p.URL+ext+"?resources=VCPU:1", nil)
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
