package cli

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"allot/internal/client"
)

// TestCandidateRanking checks how --strategy and the --prefer options
// become the extension's ranking, and what is refused.
func TestCandidateRanking(t *testing.T) {
	p, _ := client.NewPlacement("http://127.0.0.1:1", client.Options{})
	cases := []struct {
		args    string
		want    *client.Ranking
		wantErr string
	}{
		{args: "--resources VCPU:1", want: nil},
		{args: "--resources VCPU:1 --strategy pack", want: &client.Ranking{Strategy: "pack"}},
		{args: "--resources VCPU:1 --prefer-trait CUSTOM_SSD:2 --prefer-trait CUSTOM_A,CUSTOM_B:-0.5 --prefer-member-of " + agg1,
			want: &client.Ranking{
				PreferTraits:   []client.Preference{{Name: "CUSTOM_SSD", Weight: 2}, {Name: "CUSTOM_A", Weight: 1}, {Name: "CUSTOM_B", Weight: -0.5}},
				PreferMemberOf: []client.Preference{{Name: agg1, Weight: 1}}}},
		{args: "--resources VCPU:1 --strategy fullest", wantErr: `--strategy "fullest": use default, pack, spread or random`},
		{args: "--resources VCPU:1 --prefer-trait CUSTOM_SSD:heavy", wantErr: "the weight after ':' must be a number"},
		{args: "--resources VCPU:1 --prefer-member-of :1", wantErr: "give NAME[:WEIGHT]"},
	}
	for _, c := range cases {
		t.Run(c.args, func(t *testing.T) {
			cmd, f := candidateListCommand(newClientOptions())
			if err := cmd.ParseFlags(args(c.args)); err != nil {
				t.Fatal(err)
			}
			q, err := f.query(context.Background(), p, false)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(q.Ranking, c.want) {
				t.Errorf("ranking %+v, want %+v", q.Ranking, c.want)
			}
			if strings.Contains(q.Values().Encode(), "prefer") || strings.Contains(q.Values().Encode(), "strategy") {
				t.Errorf("the standard query carries the ranking: %s", q.Values().Encode())
			}
		})
	}
}

// TestCandidateRankingEndToEnd runs the ranked list against a server: a
// preference puts cn2 first; without ranking options the standard endpoint
// answers as before.
func TestCandidateRankingEndToEnd(t *testing.T) {
	srv := startPlacement(t)
	seedCloud(t, srv.URL)
	first := func(a ...string) string {
		t.Helper()
		r := runCLI(t, srv.URL, append(args("placement allocation-candidate list -f json --resources VCPU:1"), a...)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var doc struct {
			AllocationRequests []struct {
				Allocations map[string]any `json:"allocations"`
			} `json:"allocation_requests"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.AllocationRequests) == 0 {
			t.Fatalf("document %s: %v", r.stdout, err)
		}
		for rp := range doc.AllocationRequests[0].Allocations {
			return rp
		}
		return ""
	}
	if got := first(); got == uCN2 {
		t.Errorf("default order: cn2 first")
	}
	if got := first("--strategy", "pack", "--prefer-trait", "COMPUTE_STATUS_DISABLED:3"); got != uCN2 {
		t.Errorf("preferring cn2's trait: %s first", got)
	}
	if got := first("--prefer-trait", "COMPUTE_STATUS_DISABLED:-1", "--prefer-member-of", agg1+":2"); got == uCN2 {
		t.Errorf("avoiding cn2's trait: cn2 first")
	}
	r := runCLI(t, srv.URL, args("placement allocation-candidate list --resources VCPU:1 --prefer-trait CUSTOM_NOPE")...)
	if r.code != ExitAPIError || !strings.Contains(r.stderr, "CUSTOM_NOPE") {
		t.Errorf("unknown preferred trait: exit %d: %s", r.code, r.stderr)
	}
}
