package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPlacementClaim runs "allot placement claim" against a real server:
// the table, -f json, a gang refused, usage errors.
func TestPlacementClaim(t *testing.T) {
	srv := startPlacement(t)
	for _, name := range []string{"cn1", "cn2"} {
		r := srv.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": name})
		rp := r.JSON()["uuid"].(string)
		srv.Must(200, "PUT", "/resource_providers/"+rp+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4}, "MEMORY_MB": map[string]any{"total": 4096}},
		})
	}
	const (
		c1 = "11111111-0000-4000-8000-000000000001"
		c2 = "11111111-0000-4000-8000-000000000002"
		c3 = "11111111-0000-4000-8000-000000000003"
		c4 = "11111111-0000-4000-8000-000000000004"
	)
	r := runCLI(t, srv.URL, args("placement claim "+c1+" --project-id p --user-id u --resources VCPU:3,MEMORY_MB:1024 --strategy pack")...)
	if r.code != ExitOK || !strings.Contains(r.stdout, c1) || !strings.Contains(r.stdout, "cn1") ||
		!strings.Contains(r.stdout, "MEMORY_MB=1024, VCPU=3") {
		t.Fatalf("claim: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := srv.Must(200, "GET", "/allocations/"+c1, "1.39", nil); !strings.Contains(string(got.Body), `"VCPU":3`) {
		t.Errorf("the claim is not in GET /allocations: %s", got.Body)
	}

	// A gang of two on distinct trees, 2 VCPUs each: only cn2 has room.
	r = runCLI(t, srv.URL, args("placement claim "+c2+" "+c3+" --project-id p --user-id u --resources VCPU:2 --distinct root")...)
	if r.code != ExitAPIError || !strings.Contains(r.stderr, "gang claim of 2 consumers does not fit") {
		t.Errorf("gang that does not fit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, srv.URL, args("placement claim "+c2+" "+c3+" --project-id p --user-id u --resources VCPU:1 --distinct root --idempotency-key k -f json")...)
	var doc struct {
		Claims []struct {
			ConsumerUUID string                    `json:"consumer_uuid"`
			Allocations  map[string]map[string]any `json:"allocations"`
		} `json:"claims"`
	}
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &doc) != nil || len(doc.Claims) != 2 {
		t.Fatalf("gang -f json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for rp := range doc.Claims[0].Allocations {
		if _, same := doc.Claims[1].Allocations[rp]; same {
			t.Errorf("distinct root put both consumers on %s", rp)
		}
	}
	if again := runCLI(t, srv.URL, args("placement claim "+c2+" "+c3+" --project-id p --user-id u --resources VCPU:1 --distinct root --idempotency-key k -f json")...); again.stdout != r.stdout {
		t.Errorf("replay differs:\n%s\nfirst:\n%s", again.stdout, r.stdout)
	}

	for _, c := range []struct {
		args string
		code int
		want string
	}{
		{"placement claim " + c4 + " --resources VCPU:1", ExitUsage, "--project-id"},
		{"placement claim nope --project-id p --user-id u --resources VCPU:1", ExitUsage, "not a UUID"},
		{"placement claim --project-id p --user-id u --resources VCPU:1", ExitUsage, "CONSUMER_UUID"},
		{"placement claim " + c4 + " --project-id p --user-id u", ExitUsage, "at least one resource"},
		{"placement claim " + c4 + " " + c3 + " --project-id p --user-id u --resources VCPU:1 --consumer-generation 1", ExitUsage, "one consumer"},
		{"placement claim " + c4 + " --project-id p --user-id u --resources VCPU:1 --strategy fullest", ExitAPIError, "strategy"},
		{"placement claim " + c4 + " --project-id p --user-id u --resources VCPU:1 --distinct rack", ExitAPIError, "trait_prefix:PREFIX"},
		{"placement claim " + c4 + " --project-id p --user-id u --resources VCPU:100", ExitAPIError, "No allocation candidates"},
	} {
		t.Run(c.args, func(t *testing.T) {
			r := runCLI(t, srv.URL, args(c.args)...)
			if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", r.code, c.code, c.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestPlacementClaimPreferences: --prefer-trait and --prefer-member-of
// rank the claim's candidates as they rank "allocation-candidate list".
func TestPlacementClaimPreferences(t *testing.T) {
	srv := startPlacement(t)
	var hosts []string
	for _, name := range []string{"cn1", "cn2"} {
		rp := srv.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": name}).JSON()["uuid"].(string)
		srv.Must(200, "PUT", "/resource_providers/"+rp+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 4}}})
		hosts = append(hosts, rp)
	}
	srv.Must(201, "PUT", "/traits/CUSTOM_FAST", "1.39", nil)
	srv.Must(200, "PUT", "/resource_providers/"+hosts[1]+"/traits", "1.39", map[string]any{"resource_provider_generation": 1, "traits": []string{"CUSTOM_FAST"}})
	agg := "22222222-0000-4000-8000-000000000001"
	srv.Must(200, "PUT", "/resource_providers/"+hosts[1]+"/aggregates", "1.39", map[string]any{"resource_provider_generation": 2, "aggregates": []string{agg}})
	for i, c := range []struct {
		flags string
		want  string // the host claimed, by name
	}{
		{"", "cn1"},
		{"--prefer-trait CUSTOM_FAST:2", "cn2"},
		{"--prefer-trait CUSTOM_FAST --prefer-member-of " + agg + ":-3", "cn1"},
		{"--prefer-member-of " + agg + ",HW_NOPE:0 --prefer-trait CUSTOM_FAST:-1", ""},
	} {
		consumer := "33333333-0000-4000-8000-00000000000" + string(rune('1'+i))
		r := runCLI(t, srv.URL, args("placement claim "+consumer+" --project-id p --user-id u --resources VCPU:1 -f value -c provider "+c.flags)...)
		if c.want == "" { // an aggregate that is not a uuid
			if r.code != ExitAPIError || !strings.Contains(r.stderr, `prefer_member_of "HW_NOPE" is not an aggregate uuid`) {
				t.Errorf("%s: exit %d\n%s%s", c.flags, r.code, r.stdout, r.stderr)
			}
			continue
		}
		if r.code != ExitOK || strings.TrimSpace(r.stdout) != c.want {
			t.Errorf("%s: exit %d, claimed %q, want %s\n%s", c.flags, r.code, r.stdout, c.want, r.stderr)
		}
	}
	r := runCLI(t, srv.URL, args("placement claim 33333333-0000-4000-8000-000000000009 --project-id p --user-id u --resources VCPU:1 --prefer-trait CUSTOM_FAST:heavy")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "the weight after ':' must be a number") {
		t.Errorf("bad weight: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
