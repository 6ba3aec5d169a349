package e2e

import (
	"encoding/json"
	"testing"

	"allot/internal/testserver"
)

// newOpenstackCLI runs the real OpenStack client (python3-openstackclient
// with osc-placement) against a Placement endpoint, as the admin.
func newOpenstackCLI(t *testing.T, endpoint string) *pythonCLI {
	t.Helper()
	return newPythonCLI(t, "openstack", "apt-get install python3-openstackclient python3-osc-placement",
		"--os-auth-type", "admin_token", "--os-token", "admin", "--os-endpoint", endpoint, "--os-placement-api-version", "1.39")
}

// TestOpenStackCLI drives allot with the unmodified OpenStack client
// (osc-placement): providers, inventories, traits, aggregates, candidates
// (plain, required trait, granular), allocations and usages.
func TestOpenStackCLI(t *testing.T) {
	srv := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	osc := newOpenstackCLI(t, srv.URL)
	const (
		rp       = "e2e00000-0000-0000-0000-000000000001"
		child    = "e2e00000-0000-0000-0000-000000000002"
		agg      = "e2ea0000-0000-0000-0000-000000000001"
		consumer = "e2ec0000-0000-0000-0000-000000000001"
	)

	var created map[string]any
	osc.runJSON(&created, "resource", "provider", "create", "e2e-host", "--uuid", rp)
	if created["uuid"] != rp || created["name"] != "e2e-host" || created["root_provider_uuid"] != rp {
		t.Fatalf("resource provider create: %v", created)
	}
	osc.runJSON(&created, "resource", "provider", "create", "e2e-numa", "--uuid", child, "--parent-provider", rp)
	if created["parent_provider_uuid"] != rp {
		t.Fatalf("resource provider create --parent-provider: %v", created)
	}

	var list []map[string]any
	osc.runJSON(&list, "resource", "provider", "list")
	if len(list) != 2 {
		t.Fatalf("resource provider list: %v", list)
	}
	osc.runJSON(&list, "resource", "provider", "list", "--in-tree", child, "--name", "e2e-host")
	if len(list) != 1 || list[0]["uuid"] != rp {
		t.Fatalf("resource provider list --in-tree --name: %v", list)
	}

	var invs []map[string]any
	osc.runJSON(&invs, "resource", "provider", "inventory", "set", rp,
		"--resource", "MEMORY_MB=4096", "--resource", "MEMORY_MB:reserved=512")
	osc.runJSON(&invs, "resource", "provider", "inventory", "set", child,
		"--resource", "VCPU=8", "--resource", "VCPU:allocation_ratio=4.0")
	if len(invs) != 1 || invs[0]["resource_class"] != "VCPU" || invs[0]["total"] != 8.0 || invs[0]["allocation_ratio"] != 4.0 {
		t.Fatalf("resource provider inventory set: %v", invs)
	}
	osc.run("resource", "provider", "trait", "set", rp, "--trait", "HW_CPU_X86_AVX2")
	var show map[string]any
	osc.runJSON(&show, "resource", "provider", "show", rp)
	var aggs []map[string]any
	osc.runJSON(&aggs, "resource", "provider", "aggregate", "set", rp, "--aggregate", agg,
		"--generation", jsonText(show["generation"]))
	if len(aggs) != 1 || aggs[0]["uuid"] != agg {
		t.Fatalf("resource provider aggregate set: %v", aggs)
	}

	// One row per (candidate, provider) in osc-placement's output.
	var rows []map[string]any
	osc.runJSON(&rows, "allocation", "candidate", "list", "--resource", "VCPU=1")
	if len(rows) != 1 || rows[0]["resource provider"] != child || rows[0]["allocation"] != "VCPU=1" || rows[0]["inventory used/capacity"] != "VCPU=0/32" {
		t.Fatalf("allocation candidate list --resource VCPU=1: %v", rows)
	}
	osc.runJSON(&rows, "allocation", "candidate", "list", "--resource", "VCPU=2", "--resource", "MEMORY_MB=1024",
		"--required", "HW_CPU_X86_AVX2", "--member-of", agg, "--limit", "5")
	if len(rows) != 2 {
		t.Fatalf("allocation candidate list with required and member-of: %v", rows)
	}
	osc.runJSON(&rows, "allocation", "candidate", "list", "--resource", "MEMORY_MB=1024",
		"--group", "1", "--resource", "VCPU=2", "--group-policy", "isolate")
	if len(rows) != 2 {
		t.Fatalf("allocation candidate list --group: %v", rows)
	}
	osc.runJSON(&rows, "allocation", "candidate", "list", "--resource", "VCPU=1", "--forbidden", "HW_CPU_X86_AVX2")
	if len(rows) != 1 {
		t.Fatalf("allocation candidate list --forbidden (the trait is on the root, which gives no VCPU): %v", rows)
	}

	var allocs []map[string]any
	osc.runJSON(&allocs, "resource", "provider", "allocation", "set", consumer,
		"--allocation", "rp="+child+",VCPU=2", "--allocation", "rp="+rp+",MEMORY_MB=1024",
		"--project-id", "demo", "--user-id", "alice", "--consumer-type", "INSTANCE")
	if len(allocs) != 2 || allocs[0]["consumer_type"] != "INSTANCE" {
		t.Fatalf("resource provider allocation set: %v", allocs)
	}
	osc.runJSON(&rows, "resource", "provider", "usage", "show", child)
	if len(rows) != 1 || rows[0]["usage"] != 2.0 {
		t.Fatalf("resource provider usage show: %v", rows)
	}
	osc.runJSON(&allocs, "resource", "provider", "allocation", "unset", consumer, "--provider", rp)
	if len(allocs) != 1 || allocs[0]["resource_provider"] != child {
		t.Fatalf("resource provider allocation unset: %v", allocs)
	}
	osc.run("resource", "provider", "allocation", "delete", consumer)
	osc.run("resource", "provider", "delete", child)
	osc.runJSON(&list, "resource", "provider", "list")
	if len(list) != 1 {
		t.Fatalf("after delete: %v", list)
	}
}

func jsonText(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
