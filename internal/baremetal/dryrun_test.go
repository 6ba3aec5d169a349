package baremetal

import (
	"errors"
	"reflect"
	"testing"

	"allot/internal/model"
)

// TestDryRunAllocation checks each node's verdict and the pick against a
// small cloud, and that a dry run leaves no allocation behind.
func TestDryRunAllocation(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "gpu-1", rc: "gold", traits: []string{"CUSTOM_GPU"}, owner: "p1"})
	e.node(nodeSpec{name: "plain", rc: "gold"})
	e.node(nodeSpec{name: "broken", rc: "gold", maintenance: true, noPower: true, traits: []string{"CUSTOM_GPU"}})
	e.node(nodeSpec{name: "fresh", rc: "gold", state: "manageable"})
	e.node(nodeSpec{name: "silver", rc: "silver", traits: []string{"CUSTOM_GPU"}})
	uuidOf := func(name string) string { return e.getNode(name).UUID }

	type verdict struct {
		name    string
		reasons []string
	}
	for _, tc := range []struct {
		name  string
		in    AllocationCreate
		nodes []verdict // reasons nil: fits
		pick  []string  // names
	}{{
		name: "class and traits",
		in:   AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_GPU"}},
		nodes: []verdict{
			{"gpu-1", nil},
			{"plain", []string{"lacking traits CUSTOM_GPU"}},
			{"broken", []string{"in maintenance", "with no known power state (no power action yet)"}},
			{"fresh", []string{"in provision state manageable", "lacking traits CUSTOM_GPU"}},
		},
		pick: []string{"gpu-1"},
	}, {
		name: "any of the nodes that fit",
		in:   AllocationCreate{ResourceClass: ptr("gold")},
		nodes: []verdict{
			{"gpu-1", nil}, {"plain", nil},
			{"broken", []string{"in maintenance", "with no known power state (no power action yet)"}},
			{"fresh", []string{"in provision state manageable"}},
		},
		pick: []string{"gpu-1", "plain"},
	}, {
		name:  "the node named like the allocation first",
		in:    AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("plain")},
		nodes: []verdict{{"gpu-1", nil}, {"plain", nil}, {"broken", []string{"in maintenance", "with no known power state (no power action yet)"}}, {"fresh", []string{"in provision state manageable"}}},
		pick:  []string{"plain"},
	}, {
		name: "candidates in their order, of any class",
		in:   AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"silver", "plain", "silver"}},
		nodes: []verdict{
			{"silver", []string{"of resource class silver"}},
			{"plain", nil},
		},
		pick: []string{"plain"},
	}, {
		name: "owner",
		in:   AllocationCreate{ResourceClass: ptr("gold"), Owner: ptr("p1"), CandidateNodes: []string{"gpu-1", "plain"}},
		nodes: []verdict{
			{"gpu-1", nil},
			{"plain", []string{"neither owned nor leased by project p1"}},
		},
		pick: []string{"gpu-1"},
	}, {
		name:  "a class nobody has",
		in:    AllocationCreate{ResourceClass: ptr("bronze")},
		nodes: []verdict{},
		pick:  []string{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.DryRunAllocation(e.ctx, tc.in)
			e.must(err, "dry run")
			want := DryRun{Nodes: []NodeVerdict{}, WouldPick: []string{}}
			for _, v := range tc.nodes {
				want.Nodes = append(want.Nodes, NodeVerdict{UUID: uuidOf(v.name), Name: v.name, Fits: v.reasons == nil, Reasons: orList(v.reasons)})
			}
			for _, name := range tc.pick {
				want.WouldPick = append(want.WouldPick, uuidOf(name))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("dry run:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	allocs, err := e.svc.ListAllocations(e.ctx, AllocationFilter{})
	e.must(err, "list allocations")
	if len(allocs) != 0 {
		t.Errorf("a dry run left %d allocations behind", len(allocs))
	}
}

// TestDryRunAgreesWithWorker checks that the node a dry run would pick is
// the node the worker binds, and that a dry run that picks none foretells
// an allocation in error.
func TestDryRunAgreesWithWorker(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "a", rc: "gold"})
	e.node(nodeSpec{name: "b", rc: "gold", traits: []string{"CUSTOM_GPU"}})
	for _, in := range []AllocationCreate{
		{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_GPU"}},
		{ResourceClass: ptr("gold"), Name: ptr("a")},
		{ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_FPGA"}},
	} {
		dry, err := e.svc.DryRunAllocation(e.ctx, in)
		e.must(err, "dry run")
		a := e.allocate(in)
		switch {
		case len(dry.WouldPick) == 0 && a.State != model.AllocError:
			t.Errorf("dry run picks nothing, allocation %+v is %s", in, a.State)
		case len(dry.WouldPick) == 1 && a.NodeUUID != dry.WouldPick[0]:
			t.Errorf("dry run picks %s, the worker bound %q (%s)", dry.WouldPick[0], a.NodeUUID, a.State)
		}
		e.must(e.svc.DeleteAllocation(e.ctx, a.UUID), "delete allocation")
	}
}

// TestDryRunAllocationErrors checks that a dry run refuses what
// CreateAllocation refuses, and a backfill.
func TestDryRunAllocationErrors(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "mine", rc: "gold", owner: "p1"})
	e.node(nodeSpec{name: "theirs", rc: "gold", owner: "p2"})
	for _, tc := range []struct {
		name string
		in   AllocationCreate
		kind model.Kind
		want string
	}{
		{"no class", AllocationCreate{}, model.KindBadRequest, "resource_class field is mandatory"},
		{"bad trait", AllocationCreate{ResourceClass: ptr("gold"), Traits: []string{"gpu"}}, model.KindBadRequest, "gpu"},
		{"bad name", AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("a b")}, model.KindBadRequest, "invalid name"},
		{"bad uuid", AllocationCreate{ResourceClass: ptr("gold"), UUID: "nope"}, model.KindBadRequest, "Expected UUID"},
		{"unknown candidate", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"ghost"}}, model.KindBadRequest, "Nodes cannot be found: ghost"},
		{"candidate outside the project", AllocationCreate{ResourceClass: ptr("gold"), CandidateNodes: []string{"mine", "theirs"}, CandidateProject: "p1"},
			model.KindBadRequest, "Nodes cannot be found: theirs"},
		{"backfill", AllocationCreate{Node: "mine"}, model.KindBadRequest, "leave node out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.DryRunAllocation(e.ctx, tc.in)
			wantErr(t, err, tc.kind, tc.want)
		})
	}
}

// TestDryRunChecksHideNodes checks that a node the checks refuse gets no
// verdict and cannot be picked.
func TestDryRunChecksHideNodes(t *testing.T) {
	e := newEnv(t)
	mine := e.node(nodeSpec{name: "mine", rc: "gold", owner: "p1"})
	e.node(nodeSpec{name: "theirs", rc: "gold", owner: "p2"})
	hide := Check{Node: func(n *model.Node) error {
		if deref(n.Owner) != "p1" {
			return errors.New("hidden")
		}
		return nil
	}}
	got, err := e.svc.DryRunAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold")}, hide)
	e.must(err, "dry run")
	want := DryRun{Nodes: []NodeVerdict{{UUID: mine.UUID, Name: "mine", Fits: true, Reasons: []string{}}}, WouldPick: []string{mine.UUID}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dry run:\n got %+v\nwant %+v", got, want)
	}
}
