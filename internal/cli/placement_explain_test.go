package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPlacementCandidatesExplain runs "allocation-candidate list --explain"
// against a real server: the tables, -f json.
func TestPlacementCandidatesExplain(t *testing.T) {
	srv := startPlacement(t)
	for _, h := range []struct {
		name string
		vcpu int
	}{{"cn1", 2}, {"cn2", 8}} {
		r := srv.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": h.name})
		rp := r.JSON()["uuid"].(string)
		srv.Must(200, "PUT", "/resource_providers/"+rp+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": h.vcpu}},
		})
	}
	r := runCLI(t, srv.URL, args("placement allocation-candidate list --resources VCPU:4 --explain")...)
	for _, want := range []string{"summary", "nearest misses", "VCPU: needs 4, 2 free on cn1", "capacity", "in candidates", "cn1"} {
		if r.code != ExitOK || !strings.Contains(r.stdout, want) {
			t.Fatalf("--explain: exit %d, want %q in\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	r = runCLI(t, srv.URL, args("placement allocation-candidate list --resources VCPU:4 --explain -f json")...)
	var doc struct {
		Candidates int `json:"candidates"`
		Groups     []struct {
			InCandidates int `json:"in_candidates"`
		} `json:"groups"`
	}
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &doc) != nil || doc.Candidates != 1 || len(doc.Groups) != 1 || doc.Groups[0].InCandidates != 1 {
		t.Fatalf("--explain -f json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, srv.URL, args("placement allocation-candidate list --resources CUSTOM_NOPE:1 --explain")...); r.code != ExitAPIError || !strings.Contains(r.stderr, "No such resource class CUSTOM_NOPE") {
		t.Errorf("unknown class: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
