package e2e

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/noauth"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/allocations"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"allot/internal/testserver"
)

// TestGophercloudBaremetal drives allot's Bare Metal API with gophercloud's
// baremetal client (noauth), the way a Go scheduler or deploy tool would:
// enroll nodes, make them available, allocate by class and traits,
// backfill, patch, list with filters, delete. Calls gophercloud has no
// typed function for (node traits, backfill, allocation PATCH) go through
// its ServiceClient, so the requests still carry its headers and encoding.
func TestGophercloudBaremetal(t *testing.T) {
	for _, be := range testserver.Backends {
		t.Run(be, func(t *testing.T) { gophercloudScenario(t, testserver.StartBaremetal(t, testserver.OpenStore(t, be))) })
	}
}

func gophercloudScenario(t *testing.T, srv *testserver.Baremetal) {
	ctx := context.Background()
	client, err := noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: srv.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	client.Microversion = "1.79"
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Enroll four nodes and make them available (one of them a GPU node).
	ids := map[string]string{}
	for _, spec := range []struct{ name, rc string }{{"gold-1", "baremetal-gold"}, {"gold-2", "baremetal-gold"}, {"gpu-1", "baremetal-gpu"}, {"deployed-1", "baremetal-gold"}} {
		n, err := nodes.Create(ctx, client, nodes.CreateOpts{Driver: "fake-hardware", Name: spec.name, ResourceClass: spec.rc}).Extract()
		must("create node "+spec.name, err)
		if n.ProvisionState != "enroll" || n.PowerState != "" {
			t.Fatalf("new node %s: %s / %q", spec.name, n.ProvisionState, n.PowerState)
		}
		ids[spec.name] = n.UUID
		for _, target := range []nodes.TargetProvisionState{nodes.TargetManage, nodes.TargetProvide} {
			must("provision "+string(target), nodes.ChangeProvisionState(ctx, client, n.UUID, nodes.ProvisionStateOpts{Target: target}).ExtractErr())
		}
		must("power on", nodes.ChangePowerState(ctx, client, n.UUID, nodes.PowerStateOpts{Target: nodes.PowerOn}).ExtractErr())
	}
	_, err = client.Put(ctx, client.ServiceURL("nodes", ids["gpu-1"], "traits"), map[string]any{"traits": []string{"CUSTOM_GPU"}}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusNoContent}})
	must("set traits", err)
	// deployed-1 is deployed outside the allocation API, for backfilling.
	must("deploy", nodes.ChangeProvisionState(ctx, client, ids["deployed-1"], nodes.ProvisionStateOpts{Target: nodes.TargetActive}).ExtractErr())
	n, err := nodes.Get(ctx, client, "gpu-1").Extract()
	must("get node by name", err)
	if n.ProvisionState != "available" || n.PowerState != "power on" || strings.Join(n.Traits, ",") != "CUSTOM_GPU" {
		t.Fatalf("gpu-1: %+v", n)
	}

	wait := func(id string) *allocations.Allocation {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			a, err := allocations.Get(ctx, client, id).Extract()
			must("get allocation", err)
			if a.State != "allocating" {
				return a
			}
			if time.Now().After(deadline) {
				t.Fatalf("allocation %s still allocating", id)
			}
		}
	}

	// Allocate by class, and by class and traits.
	a, err := allocations.Create(ctx, client, allocations.CreateOpts{ResourceClass: "baremetal-gold", Name: "web-1", Extra: map[string]string{"team": "web"}}).Extract()
	must("create allocation", err)
	if a.State != "allocating" {
		t.Fatalf("new allocation: %+v", a)
	}
	web := wait(a.UUID)
	if web.State != "active" || (web.NodeUUID != ids["gold-1"] && web.NodeUUID != ids["gold-2"]) {
		t.Fatalf("web-1: %+v", web)
	}
	a, err = allocations.Create(ctx, client, allocations.CreateOpts{ResourceClass: "baremetal-gpu", Traits: []string{"CUSTOM_GPU"}}).Extract()
	must("create gpu allocation", err)
	if gpu := wait(a.UUID); gpu.State != "active" || gpu.NodeUUID != ids["gpu-1"] {
		t.Fatalf("gpu allocation: %+v", gpu)
	}
	a, err = allocations.Create(ctx, client, allocations.CreateOpts{ResourceClass: "baremetal-gold", Traits: []string{"CUSTOM_GPU"}, Name: "impossible"}).Extract()
	must("create impossible allocation", err)
	if bad := wait(a.UUID); bad.State != "error" || !strings.Contains(bad.LastError, "no suitable nodes have the requested traits CUSTOM_GPU") {
		t.Fatalf("impossible allocation: %+v", bad)
	}
	n, err = nodes.Get(ctx, client, web.NodeUUID).Extract()
	must("get allocated node", err)
	if n.AllocationUUID != web.UUID || n.InstanceUUID != web.UUID {
		t.Fatalf("allocated node: allocation %q instance %q", n.AllocationUUID, n.InstanceUUID)
	}

	// Backfill the deployed node.
	var backfill allocations.Allocation
	_, err = client.Post(ctx, client.ServiceURL("allocations"), map[string]any{"node": "deployed-1", "name": "legacy-1"},
		&backfill, &gophercloud.RequestOpts{OkCodes: []int{http.StatusCreated}})
	must("backfill", err)
	if backfill.State != "active" || backfill.NodeUUID != ids["deployed-1"] || backfill.ResourceClass != "baremetal-gold" {
		t.Fatalf("backfill: %+v", backfill)
	}

	// Patch the name and extra (JSON patch, as ironicclient sends it).
	var patched allocations.Allocation
	_, err = client.Patch(ctx, client.ServiceURL("allocations", "web-1"), []map[string]any{
		{"op": "replace", "path": "/name", "value": "web-01"},
		{"op": "add", "path": "/extra/owner", "value": "alice"},
	}, &patched, &gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	must("patch allocation", err)
	if patched.Name != "web-01" || patched.Extra["owner"] != "alice" || patched.Extra["team"] != "web" {
		t.Fatalf("patched: %+v", patched)
	}

	// List with filters, one item per page: gophercloud follows "next",
	// which keeps the filters.
	names := func(opts allocations.ListOpts) []string {
		t.Helper()
		pages, err := allocations.List(client, opts).AllPages(ctx)
		must("list allocations", err)
		all, err := allocations.ExtractAllocations(pages)
		must("extract allocations", err)
		var out []string
		for _, a := range all {
			out = append(out, a.Name)
		}
		sort.Strings(out)
		return out
	}
	if got := strings.Join(names(allocations.ListOpts{State: "active", ResourceClass: "baremetal-gold", Limit: 1}), ","); got != "legacy-1,web-01" {
		t.Errorf("active gold allocations = %s", got)
	}
	if got := strings.Join(names(allocations.ListOpts{State: "error"}), ","); got != "impossible" {
		t.Errorf("failed allocations = %s", got)
	}
	if got := strings.Join(names(allocations.ListOpts{Node: "deployed-1"}), ","); got != "legacy-1" {
		t.Errorf("allocations of deployed-1 = %s", got)
	}
	pages, err := nodes.List(client, nodes.ListOpts{ProvisionState: nodes.Available, Fields: []string{"uuid", "name"}}).AllPages(ctx)
	must("list nodes", err)
	avail, err := nodes.ExtractNodes(pages)
	must("extract nodes", err)
	if len(avail) != 3 {
		t.Errorf("%d available nodes, want 3", len(avail))
	}

	// Delete: the web allocation frees its node; the backfilled one is on an
	// active node, so Ironic's rule refuses it until maintenance.
	must("delete allocation", allocations.Delete(ctx, client, web.UUID).ExtractErr())
	if _, err := allocations.Get(ctx, client, web.UUID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("deleted allocation: %v", err)
	}
	n, err = nodes.Get(ctx, client, web.NodeUUID).Extract()
	must("get freed node", err)
	if n.AllocationUUID != "" || n.InstanceUUID != "" {
		t.Errorf("freed node: allocation %q instance %q", n.AllocationUUID, n.InstanceUUID)
	}
	err = allocations.Delete(ctx, client, backfill.UUID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) || !strings.Contains(err.Error(), "because the node is active") {
		t.Errorf("delete on active node: %v", err)
	}
	must("maintenance", nodes.SetMaintenance(ctx, client, "deployed-1", nodes.MaintenanceOpts{Reason: "decommission"}).ExtractErr())
	must("delete backfilled allocation", allocations.Delete(ctx, client, backfill.UUID).ExtractErr())
	must("delete node", nodes.Delete(ctx, client, "deployed-1").ExtractErr())
	if _, err := nodes.Get(ctx, client, "deployed-1").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("deleted node: %v", err)
	}
}
