package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/cli"
	"allot/internal/client"
	"allot/internal/testserver"
)

// placementEndpoint returns ALLOT_E2E_PLACEMENT_URL when set (any Placement
// API, e.g. OpenStack Placement 8.0 with noauth2), else an allot Placement
// API started in-process on SQLite.
func placementEndpoint(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("ALLOT_E2E_PLACEMENT_URL"); u != "" {
		t.Logf("against %s", u)
		return u
	}
	return testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite")).URL
}

// allotCLI runs allot's command line in-process.
func allotCLI(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--placement-url", endpoint, "--token", "admin"}, args...)
	if code := cli.Execute(full, &out, &errb); code != 0 {
		t.Fatalf("allot %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// canonicalCandidates decodes a candidates document with its allocation
// requests sorted, so that two answers compare as sets (Placement's order is
// "deterministic but undefined" and may differ between its workers).
func canonicalCandidates(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	reqs, _ := doc["allocation_requests"].([]any)
	sort.Slice(reqs, func(i, j int) bool {
		a, _ := json.Marshal(reqs[i])
		b, _ := json.Marshal(reqs[j])
		return string(a) < string(b)
	})
	for _, s := range doc["provider_summaries"].(map[string]any) {
		if traits, ok := s.(map[string]any)["traits"].([]any); ok {
			sort.Slice(traits, func(i, j int) bool { return traits[i].(string) < traits[j].(string) })
		}
	}
	return doc
}

// TestCLIScenario builds a NUMA host through allot's CLI, runs the seed
// allocation-candidates command (every option) and checks it against a
// direct GET of the same query, then claims and releases a candidate. It
// only touches providers it creates, so it can run against a shared
// Placement (ALLOT_E2E_PLACEMENT_URL).
func TestCLIScenario(t *testing.T) {
	endpoint := placementEndpoint(t)
	ctx := context.Background()
	p, err := client.NewPlacement(endpoint, client.Options{Token: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	tag := "e2e-" + uuid.NewString()[:8]
	host, numa0, numa1, pf0, pf1 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	agg, consumer := uuid.NewString(), uuid.NewString()
	t.Cleanup(func() {
		p.DeleteAllocations(ctx, consumer)
		for _, rp := range []string{pf0, pf1, numa0, numa1, host} {
			p.DeleteProvider(ctx, rp)
		}
	})
	pl := func(args ...string) string { return allotCLI(t, endpoint, append([]string{"placement"}, args...)...) }

	pl("resource-provider", "create", tag+"-host", "--uuid", host)
	pl("resource-provider", "create", tag+"-numa0", "--uuid", numa0, "--parent-provider", tag+"-host")
	pl("resource-provider", "create", tag+"-numa1", "--uuid", numa1, "--parent-provider", host)
	pl("resource-provider", "create", tag+"-pf0", "--uuid", pf0, "--parent-provider", tag+"-numa0")
	pl("resource-provider", "create", tag+"-pf1", "--uuid", pf1, "--parent-provider", tag+"-numa1")
	pl("resource-provider", "inventory", "set", tag+"-host", "MEMORY_MB=16384,DISK_GB=100", "--resource", "MEMORY_MB:reserved=512")
	pl("resource-provider", "inventory", "set", tag+"-numa0", "VCPU=8", "--resource", "VCPU:allocation_ratio=4.0")
	pl("resource-provider", "inventory", "set", tag+"-numa1", "VCPU=8")
	pl("resource-provider", "inventory", "set", tag+"-pf0", "SRIOV_NET_VF=8")
	pl("resource-provider", "inventory", "set", tag+"-pf1", "SRIOV_NET_VF=8")
	pl("resource-provider", "trait", "set", tag+"-host", "--trait", "HW_CPU_X86_AVX2")
	pl("resource-provider", "aggregate", "set", tag+"-host", "--aggregate", agg)
	if out := pl("resource-provider", "list", "--in-tree", tag+"-pf1", "-f", "value", "-c", "name"); strings.Count(out, "\n") != 5 {
		t.Fatalf("the tree has not 5 providers:\n%s", out)
	}

	seed := []string{"allocation-candidate", "list", "--resources", "VCPU:4,MEMORY_MB:2048",
		"--required", "HW_CPU_X86_AVX2", "--member-of", agg, "--in-tree", tag + "-host",
		"--root-required", "!COMPUTE_STATUS_DISABLED", "--resources-group", "_A=VCPU:1",
		"--resources-group", "_B=SRIOV_NET_VF:1", "--same-subtree", "_A,_B",
		"--group-policy", "isolate", "--limit", "10"}
	got := canonicalCandidates(t, []byte(pl(append(seed, "-f", "json")...)))
	q := url.Values{
		"resources": {"VCPU:4,MEMORY_MB:2048"}, "required": {"HW_CPU_X86_AVX2"}, "member_of": {agg},
		"in_tree": {host}, "root_required": {"!COMPUTE_STATUS_DISABLED"}, "resources_A": {"VCPU:1"},
		"resources_B": {"SRIOV_NET_VF:1"}, "same_subtree": {"_A,_B"}, "group_policy": {"isolate"}, "limit": {"10"},
	}
	resp, err := p.Do(ctx, http.MethodGet, "/allocation_candidates", q, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalCandidates(t, resp.Body)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the CLI's candidates differ from GET /allocation_candidates?%s\n got: %v\nwant: %v", q.Encode(), got, want)
	}
	n := len(want["allocation_requests"].([]any))
	if n != 4 {
		t.Errorf("%d candidates, want 4 (2 NUMA nodes for _A/_B x 2 for the unsuffixed VCPUs)", n)
	}
	table := pl(seed...)
	for _, name := range []string{tag + "-host: MEMORY_MB=2048", tag + "-pf0: SRIOV_NET_VF=1", "_A: " + tag + "-numa0", "provider summaries"} {
		if !strings.Contains(table, name) {
			t.Errorf("the table lacks %q:\n%s", name, table)
		}
	}
	if rows := strings.Count(pl(append(seed, "-f", "value")...), "\n"); rows != n {
		t.Errorf("%d value rows, want %d", rows, n)
	}

	// Claim the NUMA-0 candidate, as nova would.
	pl("allocation", "set", consumer, "--allocation", "rp="+tag+"-host,MEMORY_MB=2048",
		"--allocation", "rp="+numa0+",VCPU=5", "--allocation", "rp="+tag+"-pf0,SRIOV_NET_VF=1",
		"--project-id", tag, "--user-id", "alice", "--consumer-type", "INSTANCE")
	var usage []map[string]any
	if err := json.Unmarshal([]byte(pl("usage", "show", "--project-id", tag, "-f", "json")), &usage); err != nil {
		t.Fatal(err)
	}
	if len(usage) != 3 {
		t.Errorf("usage rows: %v", usage)
	}
	if out := pl("resource-provider", "inventory", "show", tag+"-numa0", "VCPU", "-c", "used", "-f", "value"); out != "5\n" {
		t.Errorf("numa0 VCPU used: %q", out)
	}
	pl("allocation", "unset", consumer, "--provider", tag+"-pf0")
	var allocs []map[string]any
	if err := json.Unmarshal([]byte(pl("allocation", "show", consumer, "-f", "json")), &allocs); err != nil {
		t.Fatal(err)
	}
	if len(allocs) != 2 {
		t.Errorf("after unset: %v", allocs)
	}
	pl("allocation", "delete", consumer)
	pl("resource-provider", "delete", tag+"-pf0", tag+"-pf1", tag+"-numa0", tag+"-numa1", tag+"-host")
}
