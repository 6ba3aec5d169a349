package engine

import (
	"cmp"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"allot/internal/model"
)

// referenceAggregates computes AggregateCapacity from the provider states
// alone: a provider counts in its own aggregates and its root's.
func referenceAggregates(cloud []model.ProviderState) []model.AggregateCapacity {
	byUUID := map[string]model.ProviderState{}
	for _, p := range cloud {
		byUUID[p.UUID] = p
	}
	sums := map[string]map[string]*model.ClassCapacity{}
	members := map[string]int{}
	for _, p := range cloud {
		aggs := map[string]bool{}
		for _, a := range p.Aggregates {
			aggs[a] = true
		}
		for _, a := range byUUID[p.RootUUID].Aggregates {
			aggs[a] = true
		}
		for a := range aggs {
			members[a]++
			if sums[a] == nil {
				sums[a] = map[string]*model.ClassCapacity{}
			}
			for _, in := range p.Inventories {
				c := sums[a][in.ResourceClass]
				if c == nil {
					c = &model.ClassCapacity{ResourceClass: in.ResourceClass}
					sums[a][in.ResourceClass] = c
				}
				capacity := int64(float64(in.Total-in.Reserved) * in.AllocationRatio)
				c.Providers++
				c.Total += in.Total
				c.Reserved += in.Reserved
				c.Capacity += capacity
				c.Used += in.Used
				c.Free += max(capacity-in.Used, 0)
			}
		}
	}
	out := []model.AggregateCapacity{}
	for a, classes := range sums {
		ac := model.AggregateCapacity{UUID: a, Providers: members[a], Classes: []model.ClassCapacity{}}
		for _, c := range classes {
			ac.Classes = append(ac.Classes, *c)
		}
		slices.SortFunc(ac.Classes, func(x, y model.ClassCapacity) int { return cmp.Compare(x.ResourceClass, y.ResourceClass) })
		out = append(out, ac)
	}
	slices.SortFunc(out, func(x, y model.AggregateCapacity) int { return cmp.Compare(x.UUID, y.UUID) })
	return out
}

// TestConsoleViewsAgainstReference checks AggregateCapacity, and
// RootShares against Capacity's per-tree sums, on random clouds with
// usage (some over-committed).
func TestConsoleViewsAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*17+3))
		cloud := randomCloud(r)
		for i := range cloud {
			for j := range cloud[i].Inventories {
				in := &cloud[i].Inventories[j]
				in.Reserved = int64(r.IntN(2))
				in.Used = int64(r.IntN(int(in.Total) + 3))
			}
		}
		e := newEngineWith(cloud)
		if _, got := e.AggregateCapacity(); !reflect.DeepEqual(got, referenceAggregates(cloud)) {
			t.Fatalf("seed %d: aggregates\n got %+v\nwant %+v", seed, got, referenceAggregates(cloud))
		}
		all := referenceCapacity(cloud, len(cloud))
		for _, c := range all.Classes {
			trees := slices.Clone(all.Fullest[c.ResourceClass])
			slices.SortFunc(trees, func(x, y model.RootCapacity) int {
				return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.UUID, y.UUID))
			})
			offset, limit := r.IntN(len(trees)+1), 1+r.IntN(3)
			got := e.RootShares(c.ResourceClass, offset, limit)
			if got.Count != len(trees) || len(got.UsedPermille) != len(trees) || !reflect.DeepEqual(got.Roots, trees[offset:min(offset+limit, len(trees))]) {
				t.Fatalf("seed %d %s [%d:+%d]: %+v, trees %+v", seed, c.ResourceClass, offset, limit, got, trees)
			}
			for i, tr := range trees {
				want := int64(0)
				switch {
				case tr.Capacity > 0:
					want = tr.Used * 1000 / tr.Capacity
				case tr.Used > 0:
					want = 1000
				}
				if got.UsedPermille[i] != want {
					t.Fatalf("seed %d %s tree %s: %d‰, want %d", seed, c.ResourceClass, tr.Name, got.UsedPermille[i], want)
				}
			}
		}
	}
}
