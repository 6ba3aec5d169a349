package engine

import (
	"sort"

	"allot/internal/model"
)

// Capacity sums the index's inventories per resource class, over the
// whole cloud and per tree, and returns for each class the n fullest and
// n emptiest trees (by used / capacity; ties by more used first, then by
// root uuid). One pass over the providers and one sort per class.
func (e *Engine) Capacity(n int) model.Capacity {
	e.prepare()
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := model.Capacity{Revision: e.rev, Providers: len(e.ordered), Roots: len(e.roots),
		Classes: []model.ClassCapacity{}, Fullest: map[string][]model.RootCapacity{}, Emptiest: map[string][]model.RootCapacity{}}
	classes := map[classID]*model.ClassCapacity{}
	// perRoot[class] is the class summed over each tree.
	perRoot := map[classID]treeSums{}
	for _, p := range e.ordered {
		for _, in := range p.invs {
			c := classes[in.class]
			if c == nil {
				c = &model.ClassCapacity{ResourceClass: e.classNames[in.class]}
				classes[in.class] = c
				perRoot[in.class] = treeSums{}
			}
			addInventory(c, &in)
			perRoot[in.class].add(p, &in)
		}
	}
	for id, c := range classes {
		out.Classes = append(out.Classes, *c)
		roots := perRoot[id].list()
		sort.Slice(roots, func(i, j int) bool { return fuller(roots[i], roots[j]) })
		k := min(n, len(roots))
		out.Fullest[c.ResourceClass] = roots[:k:k]
		emptiest := make([]model.RootCapacity, 0, k)
		for i := len(roots) - 1; i >= len(roots)-k; i-- {
			emptiest = append(emptiest, roots[i])
		}
		out.Emptiest[c.ResourceClass] = emptiest
	}
	sort.Slice(out.Classes, func(i, j int) bool { return out.Classes[i].ResourceClass < out.Classes[j].ResourceClass })
	return out
}

// fuller orders trees fullest first: by the share of capacity in use
// (a tree without capacity but with usage counts as full), then by more
// used, then by uuid.
func fuller(a, b model.RootCapacity) bool {
	ra, rb := share(a), share(b)
	if ra != rb {
		return ra > rb
	}
	if a.Used != b.Used {
		return a.Used > b.Used
	}
	return a.UUID < b.UUID
}

// share is the tree's used / capacity, with a tree of no capacity full
// when anything is used and empty otherwise.
func share(r model.RootCapacity) float64 {
	if r.Capacity <= 0 {
		if r.Used > 0 {
			return 2 // above any tree within its capacity
		}
		return 0
	}
	return float64(r.Used) / float64(r.Capacity)
}
