package baremetal

import (
	"reflect"
	"testing"

	"allot/internal/model"
)

// state is everything a write could change: every node and allocation.
func (e *env) state() ([]model.Node, []model.NodeAllocation) {
	e.t.Helper()
	nodes, err := e.svc.ListNodes(e.ctx, NodeFilter{})
	e.must(err, "list nodes")
	allocs, err := e.svc.ListAllocations(e.ctx, AllocationFilter{})
	e.must(err, "list allocations")
	return nodes, allocs
}

// checkEnv enrolls the objects the check tests write to: "n-1", available;
// "act-1", deployed without an allocation; "bound-1", deployed, in
// maintenance, with the backfilled allocation "bound"; and the pending
// allocation "pending".
func checkEnv(t *testing.T) *env {
	e := newEnv(t)
	e.node(nodeSpec{name: "n-1", rc: "gold", owner: "p1"})
	e.node(nodeSpec{name: "act-1", rc: "gold", state: model.StateActive})
	e.node(nodeSpec{name: "bound-1", rc: "gold", state: model.StateActive})
	_, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{Node: "bound-1", Name: ptr("bound")})
	e.must(err, "backfill bound-1")
	e.must(e.svc.SetMaintenance(e.ctx, "bound-1", true, nil), "maintenance of bound-1")
	_, err = e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("pending")})
	e.must(err, "create pending")
	return e
}

// A write runs its checks inside its transaction, on the objects it names:
// a refusal is the answer and changes nothing; a pass lets the write happen.
func TestWriteChecks(t *testing.T) {
	setTraits := func(e *env, c ...Check) error {
		return e.svc.SetNodeTraits(e.ctx, "n-1", "add", []string{"CUSTOM_X"}, c...)
	}
	tests := []struct {
		name string
		// wantNode and wantAlloc name what the node and allocation checks
		// must be shown ("" for no call).
		wantNode, wantAlloc string
		write               func(e *env, c ...Check) error
	}{
		{"patch node", "n-1", "", func(e *env, c ...Check) error {
			patch := `[{"op": "add", "path": "/extra/k", "value": "v"}]`
			_, err := e.svc.PatchNode(e.ctx, "n-1", []PatchOp{{Op: "add", Path: "/extra/k", Value: "v"}}, []byte(patch), c...)
			return err
		}},
		{"delete node", "n-1", "", func(e *env, c ...Check) error { return e.svc.DeleteNode(e.ctx, "n-1", c...) }},
		{"provision state", "n-1", "", func(e *env, c ...Check) error { return e.svc.SetProvisionState(e.ctx, "n-1", "manage", c...) }},
		{"power state", "n-1", "", func(e *env, c ...Check) error { return e.svc.SetPowerState(e.ctx, "n-1", "power off", c...) }},
		{"maintenance", "n-1", "", func(e *env, c ...Check) error { return e.svc.SetMaintenance(e.ctx, "n-1", true, nil, c...) }},
		{"traits", "n-1", "", setTraits},
		{"backfill", "act-1", "", func(e *env, c ...Check) error {
			_, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{Node: "act-1"}, c...)
			return err
		}},
		{"patch allocation", "", "pending", func(e *env, c ...Check) error {
			_, err := e.svc.PatchAllocation(e.ctx, "pending", []byte(`[{"op": "add", "path": "/extra/k", "value": "v"}]`), c...)
			return err
		}},
		{"delete allocation", "", "pending", func(e *env, c ...Check) error { return e.svc.DeleteAllocation(e.ctx, "pending", c...) }},
		{"delete node allocation", "bound-1", "bound", func(e *env, c ...Check) error {
			return e.svc.DeleteNodeAllocation(e.ctx, "bound-1", c...)
		}},
	}
	refused := model.Errorf(model.KindForbidden, "refused by the check")
	for _, tc := range tests {
		for _, refuse := range []bool{true, false} {
			name := tc.name + ", passed"
			if refuse {
				name = tc.name + ", refused"
			}
			t.Run(name, func(t *testing.T) {
				e := checkEnv(t)
				nodesBefore, allocsBefore := e.state()
				var sawNode, sawAlloc string
				answer := func() error {
					if refuse {
						return refused
					}
					return nil
				}
				c := Check{
					Node:       func(n *model.Node) error { sawNode = deref(n.Name); return answer() },
					Allocation: func(a *model.NodeAllocation) error { sawAlloc = deref(a.Name); return answer() },
				}
				err := tc.write(e, c)
				wantNode, wantAlloc := tc.wantNode, tc.wantAlloc
				if refuse && wantNode != "" {
					wantAlloc = "" // the node's check refused first
				}
				if sawNode != wantNode || sawAlloc != wantAlloc {
					t.Errorf("checks saw node %q and allocation %q, want %q and %q", sawNode, sawAlloc, wantNode, wantAlloc)
				}
				nodesAfter, allocsAfter := e.state()
				unchanged := reflect.DeepEqual(nodesBefore, nodesAfter) && reflect.DeepEqual(allocsBefore, allocsAfter)
				if refuse {
					if err != refused {
						t.Fatalf("error %v, want the check's refusal", err)
					}
					if !unchanged {
						t.Errorf("a refused write changed the store")
					}
					return
				}
				e.must(err, tc.name)
				if unchanged {
					t.Errorf("a passed write changed nothing")
				}
			})
		}
	}
}

// Without a check, a method answers a bad argument before it reads a row;
// with one, it finds the row and runs the check first, so a caller the
// check refuses learns nothing from its arguments.
func TestCheckComesBeforeArguments(t *testing.T) {
	refuse := Check{Node: func(*model.Node) error { return model.NotFound("hidden") }}
	tests := []struct {
		name  string
		write func(e *env, ident string, c ...Check) error
		bad   string // the argument error
	}{
		{"provision verb", func(e *env, ident string, c ...Check) error {
			return e.svc.SetProvisionState(e.ctx, ident, "bogus", c...)
		}, `Invalid provision state "bogus"`},
		{"power target", func(e *env, ident string, c ...Check) error {
			return e.svc.SetPowerState(e.ctx, ident, "bogus", c...)
		}, `Invalid power target "bogus"`},
		{"trait", func(e *env, ident string, c ...Check) error {
			return e.svc.SetNodeTraits(e.ctx, ident, "add", []string{"bogus"}, c...)
		}, `Invalid trait "bogus"`},
		{"patch field", func(e *env, ident string, c ...Check) error {
			_, err := e.svc.PatchNode(e.ctx, ident, []PatchOp{{Op: "add", Path: "/bogus", Value: 1}}, []byte(`[{"op": "add", "path": "/bogus", "value": 1}]`), c...)
			return err
		}, "Cannot patch /bogus"},
		{"backfill trait", func(e *env, ident string, c ...Check) error {
			_, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{Node: ident, Traits: []string{"bogus"}}, c...)
			return err
		}, `Invalid trait "bogus"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.node(nodeSpec{name: "act-1", rc: "gold", state: model.StateActive})
			wantErr(t, tc.write(e, "nope"), model.KindBadRequest, tc.bad)
			wantErr(t, tc.write(e, "act-1"), model.KindBadRequest, tc.bad)
			wantErr(t, tc.write(e, "act-1", refuse), model.KindNotFound, "hidden")
			pass := Check{Node: func(*model.Node) error { return nil }}
			wantErr(t, tc.write(e, "act-1", pass), model.KindBadRequest, tc.bad)
		})
	}
}

// A list finds its node filter and its marker in its own read: an unknown
// node is a 400, a node the check refuses is the check's answer, an
// unknown marker a 404.
func TestListResolvesNodeAndMarker(t *testing.T) {
	e := checkEnv(t)
	bound := e.getAllocation("bound")
	pending := e.getAllocation("pending")
	n1 := e.getNode("n-1")
	hide := Check{Node: func(*model.Node) error { return model.NotFound("Resource could not be found.") }}
	allocTests := []struct {
		name   string
		f      AllocationFilter
		checks []Check
		want   []string
		kind   model.Kind
		err    string
	}{
		{"by node name", AllocationFilter{Node: "bound-1"}, nil, []string{bound.UUID}, 0, ""},
		{"by node without allocation", AllocationFilter{Node: "n-1"}, nil, []string{}, 0, ""},
		{"unknown node", AllocationFilter{Node: "nope"}, nil, nil, model.KindBadRequest, "Node nope could not be found."},
		{"hidden node", AllocationFilter{Node: "bound-1"}, []Check{hide}, nil, model.KindNotFound, "Resource could not be found."},
		{"unknown node before marker", AllocationFilter{Node: "nope", Marker: "nope"}, nil, nil, model.KindBadRequest, "Node nope could not be found."},
		{"after marker", AllocationFilter{Marker: bound.UUID}, nil, []string{pending.UUID}, 0, ""},
		{"unknown marker", AllocationFilter{Marker: "nope"}, nil, nil, model.KindNotFound, "Allocation nope could not be found."},
	}
	for _, tc := range allocTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.ListAllocations(e.ctx, tc.f, tc.checks...)
			if tc.err != "" {
				wantErr(t, err, tc.kind, tc.err)
				return
			}
			e.must(err, "list allocations")
			uuids := []string{}
			for _, a := range got {
				uuids = append(uuids, a.UUID)
			}
			if !reflect.DeepEqual(uuids, tc.want) {
				t.Errorf("allocations %v, want %v", uuids, tc.want)
			}
		})
	}
	t.Run("nodes after marker", func(t *testing.T) {
		got, err := e.svc.ListNodes(e.ctx, NodeFilter{Marker: n1.UUID, NodeFilter: model.NodeFilter{Limit: 1}})
		e.must(err, "list nodes")
		if len(got) != 1 || deref(got[0].Name) != "act-1" {
			t.Errorf("nodes after n-1: %v, want act-1", got)
		}
	})
	t.Run("unknown node marker", func(t *testing.T) {
		_, err := e.svc.ListNodes(e.ctx, NodeFilter{Marker: "nope"})
		wantErr(t, err, model.KindNotFound, "Node nope could not be found.")
	})
}

// GetNodeAllocation runs the node's check, then its allocation's.
func TestGetNodeAllocationChecks(t *testing.T) {
	e := checkEnv(t)
	var saw []string
	c := Check{
		Node:       func(n *model.Node) error { saw = append(saw, "node "+deref(n.Name)); return nil },
		Allocation: func(a *model.NodeAllocation) error { saw = append(saw, "allocation "+deref(a.Name)); return nil },
	}
	a, err := e.svc.GetNodeAllocation(e.ctx, "bound-1", c)
	e.must(err, "get node allocation")
	if deref(a.Name) != "bound" || !reflect.DeepEqual(saw, []string{"node bound-1", "allocation bound"}) {
		t.Errorf("got %q after checks %v", deref(a.Name), saw)
	}
	saw = nil
	_, err = e.svc.GetNodeAllocation(e.ctx, "n-1", c)
	wantErr(t, err, model.KindNotFound, "Allocation for node n-1 was not found")
	if !reflect.DeepEqual(saw, []string{"node n-1"}) {
		t.Errorf("checks %v, want only the node's", saw)
	}
}
