package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"allot/internal/baremetal"
	"allot/internal/client"
	"allot/internal/model"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// Fixed node and allocation identities of the bare-metal scenario.
const (
	nGold1  = "b0000000-0000-0000-0000-000000000001"
	nGold2  = "b0000000-0000-0000-0000-000000000002"
	nGPU    = "b0000000-0000-0000-0000-000000000003"
	aWeb    = "ba000000-0000-0000-0000-000000000001"
	aLegacy = "ba000000-0000-0000-0000-000000000002"
)

func newBaremetal(t *testing.T, url, version string) *client.Baremetal {
	t.Helper()
	b, err := client.NewBaremetal(url, client.Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBaremetalClient drives every typed Bare Metal method against a real
// server, on both stores.
func TestBaremetalClient(t *testing.T) {
	for _, be := range testserver.Backends {
		t.Run(be, func(t *testing.T) {
			baremetalScenario(t, testserver.StartBaremetal(t, testserver.OpenStore(t, be)))
		})
	}
}

func baremetalScenario(t *testing.T, srv *testserver.Baremetal) {
	ctx := context.Background()
	b := newBaremetal(t, srv.URL+"/v1/", "")
	resp, err := b.Do(ctx, http.MethodGet, "/v1/nodes", nil, nil)
	must(t, err)
	if resp.Version != model.V(1, 79) || b.Client().RequestedVersion() != client.Latest {
		t.Fatalf("latest answered %v (asked %s)", resp.Version, b.Client().RequestedVersion())
	}

	// Enroll three nodes and make them allocatable.
	for _, spec := range []struct{ uuid, name, rc, owner string }{{nGold1, "gold-1", "gold", ""}, {nGold2, "gold-2", "gold", ""}, {nGPU, "gpu-1", "gpu", "p1"}} {
		n, err := b.CreateNode(ctx, client.NodeCreate{Driver: "fake-hardware", UUID: spec.uuid, Name: spec.name, ResourceClass: spec.rc, Owner: spec.owner,
			Properties: map[string]any{"cpus": 8}, Extra: map[string]any{"rack": "r1"}})
		must(t, err)
		if n.UUID != spec.uuid || n.ProvisionState != "enroll" || n.PowerState != "" || n.Raw["power_state"] != nil || n.Raw["properties"].(map[string]any)["cpus"] != json.Number("8") {
			t.Fatalf("created node: %+v", n)
		}
		for _, verb := range []string{client.VerbManage, client.VerbProvide} {
			must(t, b.SetProvisionState(ctx, spec.name, verb))
			_, err := b.WaitForProvisionState(ctx, spec.name, client.ProvisionResult[verb], 5*time.Second)
			must(t, err)
		}
		must(t, b.SetPowerState(ctx, spec.name, client.PowerOn, 0))
	}
	if err := b.SetProvisionState(ctx, "gold-1", client.VerbUndeploy); !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("undeploy an available node: %v", err)
	}
	if _, err := b.CreateNode(ctx, client.NodeCreate{Driver: "ipmi"}); !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("create with another driver: %v", err)
	}

	// Traits: replace, add, remove one, list.
	must(t, b.SetNodeTraits(ctx, "gpu-1", []string{"CUSTOM_GPU", "CUSTOM_OLD"}))
	must(t, b.AddNodeTrait(ctx, "gpu-1", "HW_CPU_X86_AVX2"))
	must(t, b.RemoveNodeTrait(ctx, nGPU, "CUSTOM_OLD"))
	traits, err := b.NodeTraits(ctx, "gpu-1")
	must(t, err)
	if !reflect.DeepEqual(traits, []string{"CUSTOM_GPU", "HW_CPU_X86_AVX2"}) {
		t.Fatalf("traits: %v", traits)
	}
	if err := b.RemoveNodeTrait(ctx, "gpu-1", "CUSTOM_NOPE"); !client.IsNotFound(err) {
		t.Fatalf("remove a trait the node lacks: %v", err)
	}

	// Maintenance and PATCH.
	must(t, b.SetMaintenance(ctx, "gold-2", "disk swap"))
	n, err := b.GetNode(ctx, "gold-2")
	must(t, err)
	if !n.Maintenance || n.MaintenanceReason != "disk swap" {
		t.Fatalf("maintenance: %+v", n)
	}
	must(t, b.UnsetMaintenance(ctx, "gold-2"))
	n, err = b.UpdateNode(ctx, "gold-2", []client.PatchOp{
		{Op: "add", Path: "/extra/team", Value: "web"}, {Op: "remove", Path: "/extra/rack"}, {Op: "add", Path: "/properties/memory_mb", Value: 4096},
	})
	must(t, err)
	if n.Maintenance || !reflect.DeepEqual(n.Extra, map[string]any{"team": "web"}) || n.Properties["memory_mb"] != 4096.0 {
		t.Fatalf("patched node: %+v", n)
	}
	if _, err := b.UpdateNode(ctx, "gold-2", []client.PatchOp{{Op: "remove", Path: "/extra/nope"}}); !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("bad patch: %v", err)
	}

	// Lists: filters, fields, pages.
	listCases := []struct {
		name string
		f    client.NodeFilter
		want []string
	}{
		{"all", client.NodeFilter{}, []string{nGold1, nGold2, nGPU}},
		{"pages of one", client.NodeFilter{ListOptions: client.ListOptions{PageSize: 1}}, []string{nGold1, nGold2, nGPU}},
		{"limit", client.NodeFilter{ListOptions: client.ListOptions{Limit: 2}}, []string{nGold1, nGold2}},
		{"limit over pages", client.NodeFilter{ListOptions: client.ListOptions{Limit: 2, PageSize: 1}}, []string{nGold1, nGold2}},
		{"marker", client.NodeFilter{ListOptions: client.ListOptions{Marker: nGold1}}, []string{nGold2, nGPU}},
		{"sorted", client.NodeFilter{ListOptions: client.ListOptions{SortKey: "name", SortDir: "desc"}}, []string{nGPU, nGold2, nGold1}},
		{"class", client.NodeFilter{ResourceClass: "gold", Detail: true}, []string{nGold1, nGold2}},
		{"maintenance", client.NodeFilter{Maintenance: ptr(true)}, []string{}},
		{"state", client.NodeFilter{ProvisionState: "available", Driver: "fake-hardware"}, []string{nGold1, nGold2, nGPU}},
	}
	for _, c := range listCases {
		nodes, err := b.ListNodes(ctx, c.f)
		must(t, err)
		got := []string{}
		for _, n := range nodes {
			got = append(got, n.UUID)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("list nodes %s: %v, want %v", c.name, got, c.want)
		}
	}
	nodes, err := b.ListNodes(ctx, client.NodeFilter{ResourceClass: "gpu", Detail: true})
	must(t, err)
	if len(nodes) != 1 || nodes[0].Driver != "fake-hardware" || len(nodes[0].Traits) != 2 {
		t.Fatalf("detailed list: %+v", nodes)
	}
	nodes, err = b.ListNodes(ctx, client.NodeFilter{ListOptions: client.ListOptions{Fields: []string{"uuid", "resource_class"}}})
	must(t, err)
	if len(nodes) != 3 || nodes[0].ResourceClass != "gold" || nodes[0].Raw["name"] != nil {
		t.Fatalf("fields: %+v", nodes[0])
	}
	n, err = b.GetNode(ctx, "gpu-1", "uuid", "power_state")
	must(t, err)
	if n.UUID != nGPU || n.PowerState != client.PowerOn || len(n.Raw) != 3 {
		t.Fatalf("node with fields: %+v", n.Raw)
	}

	// Allocations: by class and traits, a failure, then the node's view.
	a, err := b.CreateAllocation(ctx, client.AllocationCreate{ResourceClass: "gpu", Traits: []string{"CUSTOM_GPU"}, Name: "web-1", UUID: aWeb,
		Extra: map[string]any{"team": "web"}, Owner: "p1"})
	must(t, err)
	if a.UUID != aWeb || a.State != client.AllocationAllocating || a.Owner != "p1" {
		t.Fatalf("new allocation: %+v", a)
	}
	a, err = b.WaitForAllocation(ctx, "web-1", 10*time.Second)
	must(t, err)
	if a.State != client.AllocationActive || a.NodeUUID != nGPU {
		t.Fatalf("allocation: %+v", a)
	}
	bad, err := b.CreateAllocation(ctx, client.AllocationCreate{ResourceClass: "gold", Traits: []string{"CUSTOM_GPU"}, Name: "impossible"})
	must(t, err)
	_, err = b.WaitForAllocation(ctx, bad.UUID, 10*time.Second)
	var failed *client.StateFailedError
	if !errors.As(err, &failed) || !strings.Contains(failed.LastError, "no suitable nodes have the requested traits CUSTOM_GPU") ||
		!strings.Contains(err.Error(), "allocation "+bad.UUID+" failed (state error): Failed to process allocation") {
		t.Fatalf("impossible allocation: %v", err)
	}
	na, err := b.GetNodeAllocation(ctx, "gpu-1")
	must(t, err)
	if na.UUID != aWeb {
		t.Fatalf("node allocation: %+v", na)
	}
	if _, err := b.GetNodeAllocation(ctx, "gold-1"); !client.IsNotFound(err) {
		t.Fatalf("allocation of a free node: %v", err)
	}
	n, err = b.GetNode(ctx, nGPU)
	must(t, err)
	if n.AllocationUUID != aWeb || n.InstanceUUID != aWeb {
		t.Fatalf("allocated node: %+v", n)
	}

	// Backfill a node deployed outside the allocation API.
	must(t, b.SetProvisionState(ctx, "gold-1", client.VerbDeploy))
	_, err = b.WaitForProvisionState(ctx, "gold-1", "active", 5*time.Second)
	must(t, err)
	legacy, err := b.CreateAllocation(ctx, client.AllocationCreate{Node: "gold-1", UUID: aLegacy, Name: "legacy-1"})
	must(t, err)
	if legacy.State != client.AllocationActive || legacy.NodeUUID != nGold1 || legacy.ResourceClass != "gold" {
		t.Fatalf("backfill: %+v", legacy)
	}

	// PATCH and list allocations.
	a, err = b.UpdateAllocation(ctx, "web-1", []client.PatchOp{{Op: "replace", Path: "/name", Value: "web-01"}, {Op: "add", Path: "/extra/tier", Value: 1}})
	must(t, err)
	if a.Name != "web-01" || a.Extra["tier"] != 1.0 || a.Extra["team"] != "web" {
		t.Fatalf("patched allocation: %+v", a)
	}
	allocCases := []struct {
		name string
		f    client.AllocationFilter
		want []string
	}{
		{"all", client.AllocationFilter{}, []string{"web-01", "impossible", "legacy-1"}},
		{"pages of one", client.AllocationFilter{ListOptions: client.ListOptions{PageSize: 1}}, []string{"web-01", "impossible", "legacy-1"}},
		{"active", client.AllocationFilter{State: "active"}, []string{"web-01", "legacy-1"}},
		{"active, pages of one", client.AllocationFilter{State: "active", ListOptions: client.ListOptions{PageSize: 1}}, []string{"web-01", "legacy-1"}},
		{"node", client.AllocationFilter{Node: "gold-1"}, []string{"legacy-1"}},
		{"class", client.AllocationFilter{ResourceClass: "gold"}, []string{"impossible", "legacy-1"}},
		{"owner", client.AllocationFilter{Owner: "p1"}, []string{"web-01"}},
		{"limit", client.AllocationFilter{ListOptions: client.ListOptions{Limit: 1}}, []string{"web-01"}},
		{"sorted", client.AllocationFilter{ListOptions: client.ListOptions{SortKey: "name"}}, []string{"impossible", "legacy-1", "web-01"}},
	}
	for _, c := range allocCases {
		allocs, err := b.ListAllocations(ctx, c.f)
		must(t, err)
		got := []string{}
		for _, a := range allocs {
			got = append(got, a.Name)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("list allocations %s: %v, want %v", c.name, got, c.want)
		}
	}
	a, err = b.GetAllocation(ctx, aLegacy, "uuid", "state")
	must(t, err)
	if a.State != "active" || a.Name != "" || len(a.Raw) != 3 {
		t.Fatalf("allocation with fields: %+v", a.Raw)
	}

	// Deletes: an allocation on an active node needs maintenance.
	if err := b.DeleteNodeAllocation(ctx, "gold-1"); !client.IsConflict(err) {
		t.Fatalf("delete the allocation of an active node: %v", err)
	}
	must(t, b.SetMaintenance(ctx, "gold-1", ""))
	must(t, b.DeleteNodeAllocation(ctx, "gold-1"))
	must(t, b.DeleteAllocation(ctx, "web-01"))
	must(t, b.DeleteAllocation(ctx, "impossible"))
	if _, err := b.GetAllocation(ctx, "web-01"); !client.IsNotFound(err) {
		t.Fatalf("deleted allocation: %v", err)
	}
	must(t, b.RemoveAllNodeTraits(ctx, "gpu-1"))
	must(t, b.DeleteNode(ctx, "gold-1"))
	if _, err := b.GetNode(ctx, "gold-1"); !client.IsNotFound(err) {
		t.Fatalf("deleted node: %v", err)
	}
	nodes, err = b.ListNodes(ctx, client.NodeFilter{})
	must(t, err)
	if len(nodes) != 2 || nodes[1].UUID != nGPU || len(nodes[1].Traits) != 0 {
		t.Fatalf("nodes left: %+v", nodes)
	}
}

// TestBaremetalVersions checks that the requested microversion is sent:
// allocations need 1.52, owner 1.60.
func TestBaremetalVersions(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	ctx := context.Background()
	cases := []struct {
		version string
		status  int // of listing allocations
		owner   bool
	}{{"1.51", http.StatusNotFound, false}, {"1.52", 0, false}, {"1.60", 0, true}, {"latest", 0, true}}
	for _, c := range cases {
		t.Run(c.version, func(t *testing.T) {
			b := newBaremetal(t, srv.URL, c.version)
			_, err := b.ListAllocations(ctx, client.AllocationFilter{})
			if c.status != 0 {
				if !client.IsStatus(err, c.status) || !strings.Contains(err.Error(), "The API version does not allow allocations") || strings.Contains(err.Error(), "{") {
					t.Fatalf("error %v, want HTTP %d", err, c.status)
				}
				return
			}
			must(t, err)
			a, err := b.CreateAllocation(ctx, client.AllocationCreate{ResourceClass: "none"})
			must(t, err)
			if _, has := a.Raw["owner"]; has != c.owner {
				t.Errorf("owner shown: %v, want %v", has, c.owner)
			}
		})
	}
	if _, err := client.NewBaremetal(srv.URL, client.Options{Version: "one"}); err == nil {
		t.Error("a malformed version was accepted")
	}
	b := newBaremetal(t, srv.URL, "1.99")
	var ae *client.APIError
	if _, err := b.ListNodes(ctx, client.NodeFilter{}); !errors.As(err, &ae) || ae.Status != http.StatusNotAcceptable || ae.Detail == "" {
		t.Fatalf("version 1.99: %#v", err)
	}
}

// TestBaremetalWaitTimeout checks the wait's time limit on an allocation no
// worker processes.
func TestBaremetalWaitTimeout(t *testing.T) {
	srv := testserver.StartBaremetalWith(t, testserver.OpenStore(t, "sqlite"), baremetal.Options{Workers: -1})
	ctx := context.Background()
	b := newBaremetal(t, srv.URL, "")
	a, err := b.CreateAllocation(ctx, client.AllocationCreate{ResourceClass: "gold", Name: "stuck"})
	must(t, err)
	start := time.Now()
	_, err = b.WaitForAllocation(ctx, "stuck", 300*time.Millisecond)
	var te *client.WaitTimeoutError
	if !errors.As(err, &te) || te.State != client.AllocationAllocating || !strings.Contains(err.Error(), "allocation stuck did not become active within 300ms") {
		t.Fatalf("wait: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("the wait took %v for a 300ms limit", d)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.WaitForAllocation(cctx, a.UUID, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
}

// TestPatchOpJSON checks the patch encoding: no value for remove, an
// explicit null otherwise.
func TestPatchOpJSON(t *testing.T) {
	cases := []struct {
		op   client.PatchOp
		want string
	}{
		{client.PatchOp{Op: "add", Path: "/extra/a", Value: 1}, `{"op":"add","path":"/extra/a","value":1}`},
		{client.PatchOp{Op: "replace", Path: "/extra", Value: nil}, `{"op":"replace","path":"/extra","value":null}`},
		{client.PatchOp{Op: "remove", Path: "/name", Value: "ignored"}, `{"op":"remove","path":"/name"}`},
	}
	for _, c := range cases {
		data, err := json.Marshal(c.op)
		must(t, err)
		if string(data) != c.want {
			t.Errorf("%+v: %s, want %s", c.op, data, c.want)
		}
	}
}
