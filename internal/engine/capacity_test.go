package engine

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"allot/internal/model"
)

// referenceCapacity computes Capacity from the provider states alone: the
// oracle of TestCapacityAgainstReference.
func referenceCapacity(cloud []model.ProviderState, n int) model.Capacity {
	out := model.Capacity{Revision: 1, Providers: len(cloud), Classes: []model.ClassCapacity{},
		Fullest: map[string][]model.RootCapacity{}, Emptiest: map[string][]model.RootCapacity{}}
	names := map[string]string{}
	classes := map[string]*model.ClassCapacity{}
	trees := map[string]map[string]*model.RootCapacity{} // class -> root uuid -> sums
	for _, p := range cloud {
		if p.ParentID == 0 {
			out.Roots++
			names[p.UUID] = p.Name
		}
	}
	for _, p := range cloud {
		for _, in := range p.Inventories {
			c := classes[in.ResourceClass]
			if c == nil {
				c = &model.ClassCapacity{ResourceClass: in.ResourceClass}
				classes[in.ResourceClass] = c
				trees[in.ResourceClass] = map[string]*model.RootCapacity{}
			}
			capacity := int64(float64(in.Total-in.Reserved) * in.AllocationRatio)
			free := max(capacity-in.Used, 0)
			c.Providers++
			c.Total += in.Total
			c.Reserved += in.Reserved
			c.Capacity += capacity
			c.Used += in.Used
			c.Free += free
			r := trees[in.ResourceClass][p.RootUUID]
			if r == nil {
				r = &model.RootCapacity{UUID: p.RootUUID, Name: names[p.RootUUID]}
				trees[in.ResourceClass][p.RootUUID] = r
			}
			r.Capacity += capacity
			r.Used += in.Used
			r.Free += free
		}
	}
	for name, c := range classes {
		out.Classes = append(out.Classes, *c)
		var roots []model.RootCapacity
		for _, r := range trees[name] {
			roots = append(roots, *r)
		}
		// Fullest first: used*cap' > used'*cap (cross-multiplied), no
		// capacity with usage above everything, then more used, then uuid.
		key := func(r model.RootCapacity) (num, den int64) {
			if r.Capacity <= 0 {
				if r.Used > 0 {
					return 2, 1
				}
				return 0, 1
			}
			return r.Used, r.Capacity
		}
		sort.Slice(roots, func(i, j int) bool {
			ni, di := key(roots[i])
			nj, dj := key(roots[j])
			if ni*dj != nj*di {
				return ni*dj > nj*di
			}
			if roots[i].Used != roots[j].Used {
				return roots[i].Used > roots[j].Used
			}
			return roots[i].UUID < roots[j].UUID
		})
		k := min(n, len(roots))
		out.Fullest[name] = append([]model.RootCapacity{}, roots[:k]...)
		var emptiest []model.RootCapacity
		for i := len(roots) - 1; i >= len(roots)-k; i-- {
			emptiest = append(emptiest, roots[i])
		}
		if emptiest == nil {
			emptiest = []model.RootCapacity{}
		}
		out.Emptiest[name] = emptiest
	}
	sort.Slice(out.Classes, func(i, j int) bool { return out.Classes[i].ResourceClass < out.Classes[j].ResourceClass })
	return out
}

// TestCapacityAgainstReference checks Capacity on random clouds, with
// usage (some over-committed) and reserved units, against the oracle.
func TestCapacityAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*31+7))
		cloud := randomCloud(r)
		for i := range cloud {
			for j := range cloud[i].Inventories {
				in := &cloud[i].Inventories[j]
				in.Reserved = int64(r.IntN(2))
				in.Used = int64(r.IntN(int(in.Total) + 3)) // sometimes beyond capacity
			}
		}
		n := 1 + r.IntN(4)
		got := newEngineWith(cloud).Capacity(n)
		want := referenceCapacity(cloud, n)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d, n %d:\n got %+v\nwant %+v", seed, n, got, want)
		}
	}
}

// TestCapacityFollowsUpdates: a removed tree leaves the sums.
func TestCapacityFollowsUpdates(t *testing.T) {
	cloud := []model.ProviderState{
		{Provider: model.Provider{ID: 1, UUID: "00000000-0000-4000-8000-000000000001", Name: "a", RootID: 1, RootUUID: "00000000-0000-4000-8000-000000000001"},
			Inventories: []model.Inventory{model.DefaultInventory("VCPU", 8)}},
		{Provider: model.Provider{ID: 2, UUID: "00000000-0000-4000-8000-000000000002", Name: "b", RootID: 2, RootUUID: "00000000-0000-4000-8000-000000000002"},
			Inventories: []model.Inventory{model.DefaultInventory("VCPU", 4)}},
	}
	e := newEngineWith(cloud)
	if got := e.Capacity(5).Classes[0].Total; got != 12 {
		t.Fatalf("VCPU total %d, want 12", got)
	}
	e.Apply(Update{Revision: 2, Removed: []int64{2}})
	got := e.Capacity(5)
	if got.Classes[0].Total != 8 || got.Providers != 1 || got.Roots != 1 || len(got.Fullest["VCPU"]) != 1 || got.Revision != 2 {
		t.Fatalf("after removing b: %+v", got)
	}
}
