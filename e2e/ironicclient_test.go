package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"allot/internal/cli"
	"allot/internal/testserver"
)

// newIronicCLI runs the real python-ironicclient ("baremetal", Debian's
// python3-ironicclient) against a Bare Metal endpoint, without Keystone.
func newIronicCLI(t *testing.T, endpoint string) *pythonCLI {
	t.Helper()
	return newPythonCLI(t, "baremetal", "apt-get install python3-ironicclient", "--os-auth-type", "none", "--os-endpoint", endpoint)
}

// allotBaremetal runs "allot baremetal ARGS -f json" in-process and decodes
// its output.
func allotBaremetal(t *testing.T, endpoint string, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append(append([]string{"baremetal", "--baremetal-url", endpoint}, args...), "-f", "json")
	if code := cli.Execute(full, &stdout, &stderr); code != 0 {
		t.Fatalf("allot %s: exit %d: %s", strings.Join(full, " "), code, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("allot %s: decode %q: %v", strings.Join(full, " "), stdout.String(), err)
	}
}

// TestIronicClient drives allot's Bare Metal API with the unmodified
// python-ironicclient ("baremetal", noauth): enroll, manage, provide, power,
// traits, allocations (create with --wait, show, list, set, unset, a failed
// one, delete), backfill of a deployed node, undeploy, maintenance, node
// set and delete. allot's own CLI reads back what ironicclient wrote.
func TestIronicClient(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	bm := newIronicCLI(t, srv.URL)

	var node map[string]any
	bm.runJSON(&node, "node", "create", "--driver", "fake-hardware", "--resource-class", "X", "--name", "e2e-1", "--property", "cpus=8")
	if node["provision_state"] != "enroll" || node["power_state"] != nil || node["resource_class"] != "X" {
		t.Fatalf("node create: %v", node)
	}
	nodeUUID, _ := node["uuid"].(string)
	bm.run("node", "manage", "e2e-1", "--wait", "10")
	bm.run("node", "provide", "e2e-1", "--wait", "10")
	bm.run("node", "power", "on", "e2e-1")
	bm.run("node", "add", "trait", "e2e-1", "CUSTOM_GPU")

	// Allocate: --wait returns the active allocation.
	var alloc map[string]any
	bm.runJSON(&alloc, "allocation", "create", "--resource-class", "X", "--trait", "CUSTOM_GPU", "--name", "e2e-alloc",
		"--extra", "team=e2e", "--wait", "30")
	if alloc["state"] != "active" || alloc["node_uuid"] != nodeUUID {
		t.Fatalf("allocation create --wait: %v", alloc)
	}
	allocUUID, _ := alloc["uuid"].(string)
	bm.runJSON(&alloc, "allocation", "show", "e2e-alloc")
	if alloc["uuid"] != allocUUID || alloc["extra"].(map[string]any)["team"] != "e2e" {
		t.Fatalf("allocation show: %v", alloc)
	}
	bm.run("allocation", "set", "e2e-alloc", "--name", "e2e-alloc2", "--extra", "tier=1")
	bm.run("allocation", "unset", "e2e-alloc2", "--extra", "team")
	var rows []map[string]any
	bm.runJSON(&rows, "allocation", "list")
	if len(rows) != 1 || rows[0]["UUID"] != allocUUID || rows[0]["Name"] != "e2e-alloc2" || rows[0]["State"] != "active" || rows[0]["Node UUID"] != nodeUUID {
		t.Fatalf("allocation list: %v", rows)
	}
	var mine map[string]any
	allotBaremetal(t, srv.URL, &mine, "allocation", "show", allocUUID)
	if extra, _ := mine["extra"].(map[string]any); extra["tier"] != 1.0 || extra["team"] != nil {
		t.Fatalf("allot baremetal allocation show after set/unset: %v", mine)
	}
	bm.runJSON(&rows, "node", "list")
	if len(rows) != 1 || rows[0]["Instance UUID"] != allocUUID || rows[0]["Power State"] != "power on" || rows[0]["Provisioning State"] != "available" {
		t.Fatalf("node list: %v", rows)
	}
	bm.runJSON(&node, "node", "show", "e2e-1", "--fields", "uuid", "allocation_uuid", "traits")
	if node["allocation_uuid"] != allocUUID {
		t.Fatalf("node show --fields: %v", node)
	}

	// The only node is taken: a second allocation fails, and --wait says why.
	out, errs, ok := bm.exec("allocation", "create", "--resource-class", "X", "--name", "e2e-fail", "--wait", "30")
	if ok || !strings.Contains(errs, "no available nodes match the resource class X") {
		t.Fatalf("allocation create --wait of an impossible allocation: ok=%v\nstdout:\n%s\nstderr:\n%s", ok, out, errs)
	}
	out = bm.run("allocation", "delete", "e2e-alloc2", "e2e-fail")
	if !strings.Contains(out, "Deleted allocation e2e-alloc2") || !strings.Contains(out, "Deleted allocation e2e-fail") {
		t.Fatalf("allocation delete: %s", out)
	}

	// Deploy without an allocation, backfill one, undeploy (which deletes it).
	bm.run("node", "deploy", "e2e-1", "--wait", "10")
	bm.runJSON(&alloc, "allocation", "create", "--node", "e2e-1", "--name", "e2e-legacy")
	if alloc["state"] != "active" || alloc["node_uuid"] != nodeUUID || alloc["resource_class"] != "X" {
		t.Fatalf("backfill: %v", alloc)
	}
	bm.run("node", "undeploy", "e2e-1", "--wait", "10")
	var list []map[string]any
	allotBaremetal(t, srv.URL, &list, "allocation", "list")
	if len(list) != 0 {
		t.Fatalf("allocations after undeploy: %v", list)
	}

	// Maintenance, power off, set, delete.
	bm.run("node", "maintenance", "set", "e2e-1", "--reason", "disk swap")
	allotBaremetal(t, srv.URL, &node, "node", "show", "e2e-1")
	if node["maintenance"] != true || node["maintenance_reason"] != "disk swap" {
		t.Fatalf("after maintenance set: %v", node)
	}
	bm.run("node", "maintenance", "unset", "e2e-1")
	bm.run("node", "power", "off", "e2e-1")
	bm.run("node", "set", "e2e-1", "--property", "cpus=16", "--extra", "rack=r1")
	allotBaremetal(t, srv.URL, &node, "node", "show", "e2e-1")
	if node["maintenance"] != false || node["power_state"] != "power off" || node["properties"].(map[string]any)["cpus"] != 16.0 ||
		node["extra"].(map[string]any)["rack"] != "r1" {
		t.Fatalf("after maintenance unset, power off, set: %v", node)
	}

	// Filtered lists: ironicclient asks for /v1/nodes/?... and
	// /v1/allocations/?... (with a slash before the query).
	t.Run("filtered lists", func(t *testing.T) {
		bm.runJSON(&rows, "node", "list", "--provision-state", "available", "--resource-class", "X")
		if len(rows) != 1 || rows[0]["Name"] != "e2e-1" {
			t.Errorf("node list --provision-state: %v", rows)
		}
		bm.runJSON(&rows, "allocation", "list", "--state", "active")
		if len(rows) != 0 {
			t.Errorf("allocation list --state active: %v", rows)
		}
	})

	out = bm.run("node", "delete", "e2e-1")
	if !strings.Contains(out, "Deleted node e2e-1") {
		t.Fatalf("node delete: %s", out)
	}
	allotBaremetal(t, srv.URL, &list, "node", "list")
	if len(list) != 0 {
		t.Fatalf("nodes after delete: %v", list)
	}
}
