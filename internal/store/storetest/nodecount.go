package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// testCountNodes: CountNodes and CountNodeAllocationsByOwner group what
// ListNodes and ListNodeAllocations list, for every node or allocation and
// for one project or owner (the lists are the oracle).
func testCountNodes(t *testing.T, s *store.Store) {
	ctx := context.Background()
	str := func(v string) *string { return &v }
	owners := []*string{nil, str("p1"), str("p2")}
	write(t, s, func(tx *store.Tx) error {
		var allocs []int64
		for i, st := range []string{model.AllocActive, model.AllocActive, model.AllocError, model.AllocAllocating, model.AllocActive} {
			id, err := tx.CreateNodeAllocation(ctx, model.NodeAllocation{UUID: uuid.NewString(), State: st, ResourceClass: "gold", Owner: owners[i%3]})
			if err != nil {
				return err
			}
			allocs = append(allocs, id)
		}
		states := []string{model.StateEnroll, "manageable", model.StateAvailable, model.StateActive}
		for i := range 40 {
			n := model.Node{UUID: uuid.NewString(), Driver: "fake-hardware", ProvisionState: states[i%4], Maintenance: i%5 == 0,
				Owner: owners[i%3], Lessee: owners[(i/3)%3]}
			if i%3 != 0 {
				n.PowerState = str([]string{"power on", "power off"}[i%2])
			}
			if i%7 != 0 {
				n.ResourceClass = str([]string{"gold", "silver"}[i%2])
			}
			id, err := tx.CreateNode(ctx, n)
			if err != nil {
				return err
			}
			if i < 2 { // two nodes with an allocation each
				n.ID, n.AllocationID = id, allocs[i]
				if err := tx.UpdateNode(ctx, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
	key := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, project := range owners {
		t.Run("project="+key(project), func(t *testing.T) {
			want, got := map[string]int{}, map[string]int{}
			wantAllocs, gotAllocs := map[string]int{}, map[string]int{}
			read(t, s, func(tx *store.Tx) error {
				nodes, err := tx.ListNodes(ctx, model.NodeFilter{Project: project})
				if err != nil {
					return err
				}
				for _, n := range nodes {
					want[fmt.Sprintf("%s/%s/%v/%s/%v", n.ProvisionState, key(n.PowerState), n.Maintenance, key(n.ResourceClass), n.AllocationID != 0)]++
				}
				counts, err := tx.CountNodes(ctx, project)
				if err != nil {
					return err
				}
				for _, c := range counts {
					got[fmt.Sprintf("%s/%s/%v/%s/%v", c.ProvisionState, key(c.PowerState), c.Maintenance, key(c.ResourceClass), c.Allocated)] += c.Count
				}
				allocs, err := tx.ListNodeAllocations(ctx, model.NodeAllocationFilter{Owner: project})
				if err != nil {
					return err
				}
				for _, a := range allocs {
					wantAllocs[a.State+"/"+key(a.Owner)]++
				}
				byOwner, err := tx.CountNodeAllocationsByOwner(ctx, project)
				for _, c := range byOwner {
					gotAllocs[c.State+"/"+key(c.Owner)] += c.Count
				}
				return err
			})
			if len(want) == 0 {
				t.Fatal("the seed has no nodes here: the test checks nothing")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("CountNodes\n got %v\nwant %v (from ListNodes)", got, want)
			}
			if !reflect.DeepEqual(gotAllocs, wantAllocs) {
				t.Errorf("CountNodeAllocationsByOwner\n got %v\nwant %v (from ListNodeAllocations)", gotAllocs, wantAllocs)
			}
		})
	}
}
