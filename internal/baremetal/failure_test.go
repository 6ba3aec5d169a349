package baremetal

import (
	"errors"
	"reflect"
	"testing"

	"allot/internal/model"
)

// TestAllocationFailure checks that a failed allocation keeps a verdict on
// each node it was considered on, that checks hide nodes, and the 404s of
// an allocation that has not failed.
func TestAllocationFailure(t *testing.T) {
	e := newEnv(t)
	plain := e.node(nodeSpec{name: "plain", rc: "gold", owner: "p1"})
	broken := e.node(nodeSpec{name: "broken", rc: "gold", maintenance: true, owner: "p2"})
	failed := e.allocate(AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("f"), Traits: []string{"CUSTOM_GPU"}})
	if failed.State != model.AllocError {
		t.Fatalf("allocation %s, want error", failed.State)
	}
	active := e.allocate(AllocationCreate{ResourceClass: ptr("gold"), Name: ptr("ok")})
	if active.State != model.AllocActive {
		t.Fatalf("allocation %s, want active", active.State)
	}
	hideP2 := Check{Node: func(n *model.Node) error {
		if deref(n.Owner) == "p2" {
			return errors.New("hidden")
		}
		return nil
	}}
	for _, tc := range []struct {
		name   string
		ident  string
		checks []Check
		want   AllocationFailure
		kind   model.Kind
		errMsg string
	}{
		{name: "every node", ident: "f", want: AllocationFailure{Considered: 2, Nodes: []NodeVerdict{
			{UUID: plain.UUID, Name: "plain", Reasons: []string{"lacking traits CUSTOM_GPU"}},
			{UUID: broken.UUID, Name: "broken", Reasons: []string{"in maintenance", "lacking traits CUSTOM_GPU"}},
		}}},
		{name: "hidden nodes left out", ident: failed.UUID, checks: []Check{hideP2}, want: AllocationFailure{Considered: 2, Nodes: []NodeVerdict{
			{UUID: plain.UUID, Name: "plain", Reasons: []string{"lacking traits CUSTOM_GPU"}},
		}}},
		{name: "not failed", ident: "ok", kind: model.KindNotFound, errMsg: "has not failed (its state is active)"},
		{name: "unknown", ident: "ghost", kind: model.KindNotFound, errMsg: "Allocation ghost could not be found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.GetAllocationFailure(e.ctx, tc.ident, tc.checks...)
			if tc.errMsg != "" {
				wantErr(t, err, tc.kind, tc.errMsg)
				return
			}
			e.must(err, "allocation failure")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("failure:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
