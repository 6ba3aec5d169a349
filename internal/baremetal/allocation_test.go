package baremetal

import (
	"reflect"
	"strings"
	"testing"

	"allot/internal/model"
)

func TestCreateAllocationValidation(t *testing.T) {
	e := newEnv(t)
	n1 := e.node(nodeSpec{name: "n-1", rc: "gold", owner: "p1"})
	n2 := e.node(nodeSpec{name: "n-2", rc: "gold", lessee: "p1"})
	e.node(nodeSpec{name: "n-3", rc: "gold", owner: "p2"})
	taken, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("taken")})
	e.must(err, "create allocation")
	missing := "0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b"
	for _, tc := range []struct {
		name  string
		in    AllocationCreate
		kind  model.Kind
		want  string
		cands []string // the candidate UUIDs stored, when created
	}{
		{"class only", AllocationCreate{ResourceClass: ptr("gold")}, model.KindInternal, "", []string{}},
		{"candidates by name and uuid, in order", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"n-2", strings.ToUpper(n1.UUID)}},
			model.KindInternal, "", []string{n2.UUID, n1.UUID}},
		{"candidates a project may use", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"n-1", "n-2"}, CandidateProject: "p1"},
			model.KindInternal, "", []string{n1.UUID, n2.UUID}},
		{"uuid and name", AllocationCreate{ResourceClass: ptr("gold"), UUID: strings.ToUpper(missing), Name: ptr("a-1")}, model.KindInternal, "", []string{}},
		{"no resource class", AllocationCreate{}, model.KindBadRequest, "The resource_class field is mandatory when not backfilling", nil},
		{"empty resource class", AllocationCreate{ResourceClass: ptr("")}, model.KindBadRequest, "The resource_class field is mandatory when not backfilling", nil},
		{"invalid trait", AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"gpu"}}, model.KindBadRequest, `Invalid trait "gpu"`, nil},
		{"invalid uuid", AllocationCreate{ResourceClass: ptr("gold"), UUID: "xyz"}, model.KindBadRequest, "Expected UUID for uuid: xyz", nil},
		{"invalid name", AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("a b")}, model.KindBadRequest, "Cannot create allocation with invalid name 'a b'", nil},
		{"unknown candidates", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"n-1", "nope", missing, "a b"}},
			model.KindBadRequest, "Nodes cannot be found: nope, " + missing + ", a b", nil},
		{"candidates of another project", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"n-1", "n-3"}, CandidateProject: "p1"},
			model.KindBadRequest, "Nodes cannot be found: n-3", nil},
		{"duplicate name", AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("taken")}, model.KindConflict, "An allocation with name taken already exists.", nil},
		{"duplicate uuid", AllocationCreate{ResourceClass: ptr("gold"), UUID: taken.UUID}, model.KindConflict, "An allocation with UUID " + taken.UUID + " already exists.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := e.svc.ListAllocations(e.ctx, AllocationFilter{})
			e.must(err, "list allocations")
			a, err := e.svc.CreateAllocation(e.ctx, tc.in)
			wantErr(t, err, tc.kind, tc.want)
			if err != nil {
				after, err := e.svc.ListAllocations(e.ctx, AllocationFilter{})
				e.must(err, "list allocations")
				if len(after) != len(before) {
					t.Errorf("a refused allocation was stored: %d allocations, had %d", len(after), len(before))
				}
				return
			}
			if a.State != model.AllocAllocating || a.NodeUUID != "" || a.LastError != nil || a.Traits == nil || a.Extra == nil {
				t.Errorf("new allocation: %+v", a)
			}
			if !reflect.DeepEqual(a.CandidateNodes, tc.cands) {
				t.Errorf("candidate nodes %v, want %v", a.CandidateNodes, tc.cands)
			}
			if tc.in.UUID != "" && a.UUID != strings.ToLower(tc.in.UUID) {
				t.Errorf("uuid %s, want %s", a.UUID, strings.ToLower(tc.in.UUID))
			}
			// Nothing is claimed before a worker binds it.
			e.wantClaim(a.UUID, "", "")
		})
	}
}

// TestAllocationProcessing runs the worker's step on one allocation among
// various nodes: it is bound to the expected node, with its claim in
// Placement, or fails with a last_error that says why.
func TestAllocationProcessing(t *testing.T) {
	const u1, u2 = "1a1a1a1a-1a1a-4a1a-8a1a-1a1a1a1a1a1a", "2b2b2b2b-2b2b-4b2b-8b2b-2b2b2b2b2b2b"
	gold := func(name string) nodeSpec { return nodeSpec{name: name, rc: "gold"} }
	for _, tc := range []struct {
		name  string
		nodes []nodeSpec
		// before are allocations processed first.
		before []AllocationCreate
		in     AllocationCreate
		// node is the name of the node the allocation gets ("" when it fails
		// with lastError, after "Failed to process allocation U: ").
		node      string
		lastError string
	}{
		{"by class", []nodeSpec{{name: "silver-1", rc: "silver"}, gold("gold-1")}, nil,
			AllocationCreate{ResourceClass: ptr("gold")}, "gold-1", ""},
		{"by traits", []nodeSpec{gold("gold-1"), {name: "gold-2", rc: "gold", traits: []string{"CUSTOM_GPU", "HW_CPU_X86_AVX2"}}, gold("gold-3")}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_GPU"}}, "gold-2", ""},
		{"traits no node has", []nodeSpec{gold("gold-1"), {name: "gold-2", rc: "gold", traits: []string{"CUSTOM_FPGA"}}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_GPU", "CUSTOM_FPGA"}}, "",
			"no suitable nodes have the requested traits CUSTOM_FPGA, CUSTOM_GPU (2 nodes of that class: 1 lacking traits CUSTOM_GPU, CUSTOM_FPGA, 1 lacking traits CUSTOM_GPU)"},
		{"no node of the class", []nodeSpec{{name: "silver-1", rc: "silver"}}, nil,
			AllocationCreate{ResourceClass: ptr("gold")}, "", "no available nodes match the resource class gold"},
		// Classes match exactly, as in Ironic, although both spellings
		// stand for the same Placement class.
		{"a class spelled otherwise", []nodeSpec{gold("gold-1")}, nil,
			AllocationCreate{ResourceClass: ptr("GOLD")}, "", "no available nodes match the resource class GOLD"},
		{"candidate by name", []nodeSpec{gold("gold-1"), gold("gold-2"), gold("gold-3")}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"gold-3"}}, "gold-3", ""},
		{"candidate by uuid", []nodeSpec{{name: "gold-1", rc: "gold", uuid: u1}, {name: "gold-2", rc: "gold", uuid: u2}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{u2}}, "gold-2", ""},
		{"candidates of another class", []nodeSpec{gold("gold-1"), {name: "silver-1", rc: "silver"}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"silver-1"}}, "",
			"none of the requested nodes are available and match the resource class gold (1 nodes of that class: 1 not among the candidate nodes)"},
		{"candidate in maintenance", []nodeSpec{gold("gold-1"), {name: "gold-2", rc: "gold", maintenance: true}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"gold-2"}}, "",
			"none of the requested nodes are available and match the resource class gold (2 nodes of that class: 1 not among the candidate nodes, 1 in maintenance)"},
		{"every kind of unallocatable node", []nodeSpec{
			{name: "manageable", rc: "gold", state: "manageable"},
			{name: "no-power", rc: "gold", noPower: true},
			{name: "maintenance", rc: "gold", maintenance: true},
			{name: "instance", rc: "gold", instance: "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e"},
			{name: "active", rc: "gold", state: "active"},
			{name: "enroll", rc: "gold", state: "enroll"},
		}, nil, AllocationCreate{ResourceClass: ptr("gold")}, "",
			"no available nodes match the resource class gold (6 nodes of that class: 1 in provision state manageable, " +
				"1 with no known power state (no power action yet), 1 in maintenance, 1 associated with an instance, " +
				"1 in provision state active, 1 in provision state enroll)"},
		{"the owner's node", []nodeSpec{{name: "gold-1", rc: "gold", owner: "p2"}, {name: "gold-2", rc: "gold", owner: "p1"}, gold("gold-3")}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1")}, "gold-2", ""},
		{"the lessee's node", []nodeSpec{{name: "gold-1", rc: "gold", owner: "p2"}, {name: "gold-2", rc: "gold", owner: "p2", lessee: "p1"}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1")}, "gold-2", ""},
		{"owned or leased", []nodeSpec{{name: "gold-1", rc: "gold", owner: "p2"}, {name: "gold-2", rc: "gold", owner: "p1", maintenance: true},
			{name: "gold-3", rc: "gold", owner: "p2", lessee: "p1"}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1")}, "gold-3", ""},
		{"no node of the owner", []nodeSpec{{name: "gold-1", rc: "gold", owner: "p2"}, gold("gold-2")}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1")}, "",
			"no available nodes match the resource class gold (2 nodes of that class: 2 neither owned nor leased by project p1)"},
		{"an owner's traits", []nodeSpec{{name: "gold-1", rc: "gold", owner: "p1"}, {name: "gold-2", rc: "gold", traits: []string{"CUSTOM_GPU"}}}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1"), Traits: []string{"CUSTOM_GPU"}}, "",
			"no suitable nodes have the requested traits CUSTOM_GPU (2 nodes of that class: 1 lacking traits CUSTOM_GPU, 1 neither owned nor leased by project p1)"},
		{"named like the allocation", []nodeSpec{gold("gold-1"), gold("gold-2"), gold("gold-3"), gold("gold-4"), gold("gold-5")}, nil,
			AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("gold-4")}, "gold-4", ""},
		{"the node is taken", []nodeSpec{gold("gold-1")}, []AllocationCreate{{ResourceClass: ptr("gold")}},
			AllocationCreate{ResourceClass: ptr("gold")}, "",
			"no available nodes match the resource class gold (1 nodes of that class: 1 associated with an instance)"},
		{"the free node", []nodeSpec{gold("gold-1"), gold("gold-2")}, []AllocationCreate{{ResourceClass: ptr("gold"), CandidateNodes: []string{"gold-1"}}},
			AllocationCreate{ResourceClass: ptr("gold")}, "gold-2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			for _, spec := range tc.nodes {
				e.node(spec)
			}
			for _, in := range tc.before {
				if a := e.allocate(in); a.State != model.AllocActive {
					t.Fatalf("earlier allocation: %+v", a)
				}
			}
			a := e.allocate(tc.in)
			if tc.node == "" {
				want := "Failed to process allocation " + a.UUID + ": " + tc.lastError + "."
				if a.State != model.AllocError || deref(a.LastError) != want || a.NodeUUID != "" {
					t.Errorf("allocation %s, node %q, last_error:\n got %q\nwant %q", a.State, a.NodeUUID, deref(a.LastError), want)
				}
				if a.Worker != "" || !a.LeaseUntil.IsZero() {
					t.Errorf("a failed allocation keeps its lease: %q until %v", a.Worker, a.LeaseUntil)
				}
				e.wantClaim(a.UUID, "", "")
				return
			}
			n := e.getNode(tc.node)
			if a.State != model.AllocActive || a.NodeUUID != n.UUID || a.LastError != nil || a.Worker != "" {
				t.Fatalf("allocation %s on %q (last_error %q), want active on %s (%s)", a.State, a.NodeUUID, deref(a.LastError), tc.node, n.UUID)
			}
			if deref(n.InstanceUUID) != a.UUID || n.AllocationUUID != a.UUID {
				t.Errorf("node %s: instance %q, allocation %q, want both %s", tc.node, deref(n.InstanceUUID), n.AllocationUUID, a.UUID)
			}
			if !reflect.DeepEqual(n.InstanceInfo["traits"], toAny(orList(tc.in.Traits))) {
				t.Errorf("instance_info traits %v, want %v", n.InstanceInfo["traits"], tc.in.Traits)
			}
			// Placement: one unit of the node's class on its provider, held
			// by the allocation's UUID in the owner's project.
			e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 1)
			v, err := e.pl.GetConsumerAllocations(e.ctx, a.UUID)
			e.must(err, "consumer")
			project := DefaultProject
			if tc.in.Owner != nil {
				project = *tc.in.Owner
			}
			if v.Consumer.ProjectID != project || v.Consumer.UserID != DefaultUser || v.Consumer.ConsumerType != ConsumerType {
				t.Errorf("consumer %+v, want project %s, user %s, type %s", v.Consumer, project, DefaultUser, ConsumerType)
			}
			got, err := e.svc.GetNodeAllocation(e.ctx, tc.node)
			if err != nil || got.UUID != a.UUID {
				t.Errorf("the node's allocation: %v, %v", got.UUID, err)
			}
		})
	}
}

// toAny turns JSON-decoded-like lists of strings into []any.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestAllocationDeletedWhileAllocating checks that the worker leaves alone
// an allocation deleted before it was processed.
func TestAllocationDeletedWhileAllocating(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
	a, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold")})
	e.must(err, "create allocation")
	e.must(e.svc.DeleteAllocation(e.ctx, a.UUID), "delete allocation")
	e.process()
	if got := e.getNode("gold-1"); got.InstanceUUID != nil || got.AllocationUUID != "" {
		t.Errorf("node taken by a deleted allocation: %+v", got)
	}
	e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
	e.wantClaim(a.UUID, "", "")
}

func TestBackfill(t *testing.T) {
	inst := "4d4d4d4d-4d4d-4d4d-8d4d-4d4d4d4d4d4d"
	other := "5e5e5e5e-5e5e-4e5e-8e5e-5e5e5e5e5e5e"
	for _, tc := range []struct {
		name string
		node nodeSpec // named n-1, class gold unless set
		in   AllocationCreate
		kind model.Kind
		want string // %s: the node's UUID, %c: the other node's
		uuid string // the allocation's UUID, when it is known
	}{
		{"deployed with an instance", nodeSpec{state: "active", instance: inst}, AllocationCreate{}, model.KindInternal, "", inst},
		{"deployed without an instance", nodeSpec{state: "active"}, AllocationCreate{Name: ptr("legacy")}, model.KindInternal, "", ""},
		{"with matching class, traits and candidates", nodeSpec{state: "active", traits: []string{"CUSTOM_GPU"}},
			AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_GPU"}, CandidateNodes: []string{"n-1", "n-2"}, UUID: other},
			model.KindInternal, "", other},
		{"every mismatch", nodeSpec{}, AllocationCreate{ResourceClass: ptr("silver"), Traits: []string{"CUSTOM_GPU"}, CandidateNodes: []string{"n-2"}},
			model.KindConflict, `Cannot backfill an allocation for node %s: Node must be in the "active" state, but the current state is "available"; ` +
				"Resource class gold does not match the requested resource class silver; the node's traits [] lack the requested traits [CUSTOM_GPU]; " +
				"Candidate nodes must be empty or contain the target node, but got [%c].", ""},
		{"no resource class", nodeSpec{state: "active", rc: "-"}, AllocationCreate{}, model.KindBadRequest,
			"Cannot backfill an allocation for node %s: the node has no resource class", ""},
		{"another instance", nodeSpec{state: "active", instance: inst}, AllocationCreate{UUID: other}, model.KindConflict,
			"Node %s is associated with instance " + inst + ".", ""},
		{"unknown node", nodeSpec{state: "active"}, AllocationCreate{Node: "nope"}, model.KindBadRequest, "Node nope could not be found.", ""},
		{"unknown candidate", nodeSpec{state: "active"}, AllocationCreate{CandidateNodes: []string{"nope"}}, model.KindBadRequest, "Nodes cannot be found: nope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.node.name = "n-1"
			switch tc.node.rc {
			case "":
				tc.node.rc = "gold"
			case "-":
				tc.node.rc = ""
			}
			n := e.node(tc.node)
			n2 := e.node(nodeSpec{name: "n-2", rc: "gold"})
			if tc.in.Node == "" {
				tc.in.Node = "n-1"
			}
			a, err := e.svc.CreateAllocation(e.ctx, tc.in)
			wantErr(t, err, tc.kind, strings.ReplaceAll(strings.ReplaceAll(tc.want, "%s", n.UUID), "%c", n2.UUID))
			if err != nil {
				// Nothing was stored.
				if all, err := e.svc.ListAllocations(e.ctx, AllocationFilter{}); err != nil || len(all) != 0 {
					t.Errorf("a refused backfill left allocations: %v, %v", all, err)
				}
				if got := e.getNode("n-1"); got.AllocationUUID != "" || deref(got.InstanceUUID) != tc.node.instance {
					t.Errorf("a refused backfill changed the node: %+v", got)
				}
				return
			}
			if a.State != model.AllocActive || a.NodeUUID != n.UUID || (tc.uuid != "" && a.UUID != tc.uuid) || a.ResourceClass != "gold" {
				t.Errorf("backfilled allocation: %+v", a)
			}
			got := e.getNode("n-1")
			if got.ProvisionState != model.StateActive || deref(got.InstanceUUID) != a.UUID || got.AllocationUUID != a.UUID {
				t.Errorf("backfilled node: state %s, instance %q, allocation %q", got.ProvisionState, deref(got.InstanceUUID), got.AllocationUUID)
			}
			e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 1)
			// A deployed node's allocation stays until the node is undeployed.
			wantErr(t, e.svc.DeleteAllocation(e.ctx, a.UUID), model.KindConflict,
				"Cannot remove allocation "+a.UUID+" for node "+n.UUID+", because the node is active (and maintenance mode is off)")
			e.must(e.svc.SetProvisionState(e.ctx, "n-1", "undeploy"), "undeploy")
			_, err = e.svc.GetAllocation(e.ctx, a.UUID)
			wantErr(t, err, model.KindNotFound, "Allocation "+a.UUID+" could not be found.")
			e.wantClaim(a.UUID, "", "")
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
		})
	}
}

func TestGetAndListAllocations(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
	bound := e.allocate(AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("bound")})
	failed := e.allocate(AllocationCreate{ResourceClass: ptr("silver"), Name: ptr("failed"), Owner: ptr("p1")})
	for _, tc := range []struct {
		ident string
		kind  model.Kind
		want  string
		uuid  string
	}{
		{"bound", model.KindInternal, "", bound.UUID},
		{bound.UUID, model.KindInternal, "", bound.UUID},
		{strings.ToUpper(failed.UUID), model.KindInternal, "", failed.UUID},
		{"nope", model.KindNotFound, "Allocation nope could not be found.", ""},
		{"a b", model.KindBadRequest, "Expected UUID or name for allocation_ident: a b", ""},
	} {
		t.Run(tc.ident, func(t *testing.T) {
			a, err := e.svc.GetAllocation(e.ctx, tc.ident)
			wantErr(t, err, tc.kind, tc.want)
			if err == nil && a.UUID != tc.uuid {
				t.Errorf("got %s, want %s", a.UUID, tc.uuid)
			}
		})
	}
	active, errState := model.AllocActive, model.AllocError
	for _, tc := range []struct {
		name string
		f    AllocationFilter
		want []string
	}{
		{"all", AllocationFilter{}, []string{bound.UUID, failed.UUID}},
		{"active", AllocationFilter{NodeAllocationFilter: model.NodeAllocationFilter{State: &active}}, []string{bound.UUID}},
		{"error", AllocationFilter{NodeAllocationFilter: model.NodeAllocationFilter{State: &errState}}, []string{failed.UUID}},
		{"by class", AllocationFilter{NodeAllocationFilter: model.NodeAllocationFilter{ResourceClass: ptr("silver")}}, []string{failed.UUID}},
		{"by owner", AllocationFilter{NodeAllocationFilter: model.NodeAllocationFilter{Owner: ptr("p1")}}, []string{failed.UUID}},
		{"by node", AllocationFilter{NodeAllocationFilter: model.NodeAllocationFilter{NodeID: &n.ID}}, []string{bound.UUID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, err := e.svc.ListAllocations(e.ctx, tc.f)
			e.must(err, "list allocations")
			var got []string
			for _, a := range all {
				got = append(got, a.UUID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPatchAllocation(t *testing.T) {
	e := newEnv(t)
	a, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("a-1"), Extra: map[string]any{"k": "v"}})
	e.must(err, "create allocation")
	_, err = e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("other")})
	e.must(err, "create allocation")
	for _, tc := range []struct {
		name  string
		patch string
		kind  model.Kind
		want  string
		after model.NodeAllocation // name and extra after the patch
	}{
		{"rename", `[{"op": "replace", "path": "/name", "value": "a-2"}]`, model.KindInternal, "",
			model.NodeAllocation{Name: ptr("a-2"), Extra: map[string]any{"k": "v"}}},
		{"extra", `[{"op": "add", "path": "/extra/n", "value": 1}, {"op": "remove", "path": "/extra/k"}]`, model.KindInternal, "",
			model.NodeAllocation{Name: ptr("a-2"), Extra: map[string]any{"n": float64(1)}}},
		{"remove the name", `[{"op": "remove", "path": "/name"}]`, model.KindInternal, "",
			model.NodeAllocation{Extra: map[string]any{"n": float64(1)}}},
		{"name again", `[{"op": "add", "path": "/name", "value": "a-1"}]`, model.KindInternal, "",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"invalid name", `[{"op": "replace", "path": "/name", "value": "a b"}]`, model.KindBadRequest, "Cannot update allocation with invalid name 'a b'",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"name taken", `[{"op": "replace", "path": "/name", "value": "other"}]`, model.KindConflict, "An allocation with name other already exists.",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"resource class", `[{"op": "add", "path": "/resource_class", "value": "silver"}]`, model.KindBadRequest,
			"Cannot patch /resource_class. Only the following can be updated: name, extra",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"node", `[{"op": "replace", "path": "/node_uuid", "value": "x"}]`, model.KindBadRequest,
			"Cannot patch /node_uuid. Only the following can be updated: name, extra",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"missing member", `[{"op": "remove", "path": "/extra/nope"}]`, model.KindBadRequest,
			"Reason: can't remove a non-existent object 'nope'",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
		{"not a patch", `{"op": "remove"}`, model.KindBadRequest, "Schema error for patch",
			model.NodeAllocation{Name: ptr("a-1"), Extra: map[string]any{"n": float64(1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.PatchAllocation(e.ctx, a.UUID, []byte(tc.patch))
			wantErr(t, err, tc.kind, tc.want)
			if err == nil && (deref(got.Name) != deref(tc.after.Name) || !reflect.DeepEqual(got.Extra, tc.after.Extra)) {
				t.Errorf("patched: name %q, extra %v", deref(got.Name), got.Extra)
			}
			stored := e.getAllocation(a.UUID)
			if deref(stored.Name) != deref(tc.after.Name) || !reflect.DeepEqual(stored.Extra, tc.after.Extra) ||
				stored.ResourceClass != "gold" || stored.State != model.AllocAllocating {
				t.Errorf("stored: name %q, extra %v, class %s, state %s; want name %q, extra %v",
					deref(stored.Name), stored.Extra, stored.ResourceClass, stored.State, deref(tc.after.Name), tc.after.Extra)
			}
		})
	}
	_, err = e.svc.PatchAllocation(e.ctx, "nope", []byte(`[{"op": "add", "path": "/extra/k", "value": 1}]`))
	wantErr(t, err, model.KindNotFound, "Allocation nope could not be found.")
}

// TestDeleteAllocation checks when an allocation may go and that its node
// and its Placement claim are released with it.
func TestDeleteAllocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		// state of the allocation before the delete: allocating, error,
		// active (on an available node) or deployed (its node deployed).
		state       string
		maintenance bool
		// byNode deletes through the node's allocation sub-resource.
		byNode bool
		kind   model.Kind
		want   string // %a: the allocation's UUID, %s: the node's
	}{
		{"allocating", "allocating", false, false, model.KindInternal, ""},
		{"error", "error", false, false, model.KindInternal, ""},
		{"active", "active", false, false, model.KindInternal, ""},
		{"active through the node", "active", false, true, model.KindInternal, ""},
		{"deployed", "deployed", false, false, model.KindConflict,
			"Cannot remove allocation %a for node %s, because the node is active (and maintenance mode is off)"},
		{"deployed through the node", "deployed", false, true, model.KindConflict,
			"Cannot remove allocation %a for node %s, because the node is active (and maintenance mode is off)"},
		{"deployed in maintenance", "deployed", true, false, model.KindInternal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
			var a model.NodeAllocation
			switch tc.state {
			case "allocating":
				var err error
				a, err = e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold")})
				e.must(err, "create allocation")
			case "error":
				a = e.allocate(AllocationCreate{ResourceClass: ptr("silver")})
			default:
				a = e.allocate(AllocationCreate{ResourceClass: ptr("gold")})
			}
			if tc.state == "deployed" {
				e.must(e.svc.SetProvisionState(e.ctx, "gold-1", "deploy"), "deploy")
			}
			if tc.maintenance {
				e.must(e.svc.SetMaintenance(e.ctx, "gold-1", true, nil), "maintenance")
			}
			var err error
			if tc.byNode {
				err = e.svc.DeleteNodeAllocation(e.ctx, "gold-1")
			} else {
				err = e.svc.DeleteAllocation(e.ctx, a.UUID)
			}
			wantErr(t, err, tc.kind, strings.ReplaceAll(strings.ReplaceAll(tc.want, "%a", a.UUID), "%s", n.UUID))
			got := e.getNode("gold-1")
			if err != nil {
				if e.getAllocation(a.UUID).State != model.AllocActive || got.AllocationUUID != a.UUID {
					t.Errorf("a refused delete changed the allocation or the node: %+v", got)
				}
				e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
				return
			}
			_, err = e.svc.GetAllocation(e.ctx, a.UUID)
			wantErr(t, err, model.KindNotFound, "Allocation "+a.UUID+" could not be found.")
			if got.InstanceUUID != nil || got.AllocationUUID != "" {
				t.Errorf("node keeps instance %q, allocation %q", deref(got.InstanceUUID), got.AllocationUUID)
			}
			e.wantClaim(a.UUID, "", "")
			if tc.state != "deployed" {
				// The node is free again: the next allocation takes it.
				e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
				if next := e.allocate(AllocationCreate{ResourceClass: ptr("gold")}); next.NodeUUID != n.UUID {
					t.Errorf("the released node was not given again: %+v", next)
				}
			}
		})
	}
}

func TestNodeAllocationSubresource(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "gold-1", rc: "gold"})
	for _, tc := range []struct {
		node string
		kind model.Kind
		want string
	}{
		{"gold-1", model.KindNotFound, "Allocation for node gold-1 was not found"},
		{"nope", model.KindBadRequest, "Node nope could not be found."},
		{"a b", model.KindBadRequest, "Expected a logical name or UUID but received a b."},
	} {
		t.Run(tc.node, func(t *testing.T) {
			_, err := e.svc.GetNodeAllocation(e.ctx, tc.node)
			wantErr(t, err, tc.kind, tc.want)
			wantErr(t, e.svc.DeleteNodeAllocation(e.ctx, tc.node), tc.kind, tc.want)
		})
	}
}

// TestUndeployReleasesClaim follows a node through allocation, deployment
// and undeployment: the allocation and its claim go with the instance.
func TestUndeployReleasesClaim(t *testing.T) {
	for _, verb := range []string{"undeploy", "deleted"} {
		t.Run(verb, func(t *testing.T) {
			e := newEnv(t)
			n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
			a := e.allocate(AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{}})
			e.must(e.svc.SetProvisionState(e.ctx, "gold-1", "deploy"), "deploy")
			e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 1)
			e.must(e.svc.SetProvisionState(e.ctx, "gold-1", verb), verb)
			got := e.getNode("gold-1")
			if got.ProvisionState != model.StateAvailable || got.InstanceUUID != nil || got.AllocationUUID != "" || len(got.InstanceInfo) != 0 {
				t.Errorf("undeployed node: state %s, instance %q, allocation %q, instance_info %v",
					got.ProvisionState, deref(got.InstanceUUID), got.AllocationUUID, got.InstanceInfo)
			}
			_, err := e.svc.GetAllocation(e.ctx, a.UUID)
			wantErr(t, err, model.KindNotFound, "Allocation "+a.UUID+" could not be found.")
			e.wantClaim(a.UUID, "", "")
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
		})
	}
}

// TestAllocatedNodeChangesState checks the node provider's unit while an
// allocated node leaves the available state: it stays claimed (not
// reserved on top of the claim), and once released it is withheld until
// the node is available again.
func TestAllocatedNodeChangesState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(e *env)
		undo   func(e *env)
	}{
		{"manageable",
			func(e *env) { e.must(e.svc.SetProvisionState(e.ctx, "gold-1", "manage"), "manage") },
			func(e *env) { e.must(e.svc.SetProvisionState(e.ctx, "gold-1", "provide"), "provide") }},
		{"maintenance",
			func(e *env) { e.must(e.svc.SetMaintenance(e.ctx, "gold-1", true, ptr("fan")), "maintenance") },
			func(e *env) { e.must(e.svc.SetMaintenance(e.ctx, "gold-1", false, nil), "maintenance off") }},
		{"class removed",
			func(e *env) { e.patchNode("gold-1", `[{"op": "remove", "path": "/resource_class"}]`) },
			func(e *env) { e.patchNode("gold-1", `[{"op": "add", "path": "/resource_class", "value": "gold"}]`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
			a := e.allocate(AllocationCreate{ResourceClass: ptr("gold")})
			tc.change(e)
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 1)
			e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
			e.must(e.svc.DeleteAllocation(e.ctx, a.UUID), "delete allocation")
			e.wantClaim(a.UUID, "", "")
			if tc.name == "class removed" {
				if inv, ok := e.inventory(n.UUID, "CUSTOM_GOLD"); ok {
					t.Errorf("a classless node keeps an inventory once released: %+v", inv)
				}
			} else {
				e.wantUnit(n.UUID, "CUSTOM_GOLD", 1, 0)
			}
			tc.undo(e)
			e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
			if next := e.allocate(AllocationCreate{ResourceClass: ptr("gold")}); next.NodeUUID != n.UUID {
				t.Errorf("the node was not given again: %+v", next)
			}
		})
	}
}
