package engine

import (
	"cmp"
	"slices"

	"allot/internal/model"
)

// The web console's views of the index (GET /allot/v1/capacity/...,
// /allot/v1/resource_providers/{uuid}/sharing): each one pass over the
// providers under the read lock.

// addInventory adds one inventory to a class's sums.
func addInventory(c *model.ClassCapacity, in *inv) {
	c.Providers++
	c.Total += in.Total
	c.Reserved += in.Reserved
	c.Capacity += in.Capacity()
	c.Used += in.Used
	c.Free += in.Free()
}

// treeSums sums one class's inventories per tree, keyed by the tree's
// root.
type treeSums map[*provider]*model.RootCapacity

// add adds p's inventory in to the sums of p's tree.
func (s treeSums) add(p *provider, in *inv) {
	root := p.root
	if root == nil {
		root = p
	}
	r := s[root]
	if r == nil {
		r = &model.RootCapacity{UUID: root.UUID, Name: root.Name}
		s[root] = r
	}
	r.Capacity += in.Capacity()
	r.Used += in.Used
	r.Free += in.Free()
}

// list returns the trees' sums, in no particular order.
func (s treeSums) list() []model.RootCapacity {
	out := make([]model.RootCapacity, 0, len(s))
	for _, r := range s {
		out = append(out, *r)
	}
	return out
}

// AggregateCapacity sums, per aggregate, the inventories of the providers
// that are in it or whose root is in it, per class; ordered by aggregate
// UUID. An aggregate appears when a provider is in it, with or without
// inventory.
func (e *Engine) AggregateCapacity() (rev int64, aggs []model.AggregateCapacity) {
	e.rlockPrepared()
	defer e.mu.RUnlock()
	type sums struct {
		providers int
		classes   map[classID]*model.ClassCapacity
	}
	byAgg := map[aggID]*sums{}
	var seen []aggID
	for _, p := range e.ordered {
		// The provider's own aggregates and its root's, each once.
		seen = append(seen[:0], p.aggs...)
		if p.root != nil && p.root != p {
			for _, a := range p.root.aggs {
				if !slices.Contains(seen, a) {
					seen = append(seen, a)
				}
			}
		}
		for _, a := range seen {
			s := byAgg[a]
			if s == nil {
				s = &sums{classes: map[classID]*model.ClassCapacity{}}
				byAgg[a] = s
			}
			s.providers++
			for i := range p.invs {
				in := &p.invs[i]
				c := s.classes[in.class]
				if c == nil {
					c = &model.ClassCapacity{ResourceClass: e.classNames[in.class]}
					s.classes[in.class] = c
				}
				addInventory(c, in)
			}
		}
	}
	aggs = make([]model.AggregateCapacity, 0, len(byAgg))
	for a, s := range byAgg {
		out := model.AggregateCapacity{UUID: e.aggUUIDs[a], Providers: s.providers, Classes: make([]model.ClassCapacity, 0, len(s.classes))}
		for _, c := range s.classes {
			out.Classes = append(out.Classes, *c)
		}
		slices.SortFunc(out.Classes, func(x, y model.ClassCapacity) int { return cmp.Compare(x.ResourceClass, y.ResourceClass) })
		aggs = append(aggs, out)
	}
	slices.SortFunc(aggs, func(x, y model.AggregateCapacity) int { return cmp.Compare(x.UUID, y.UUID) })
	return e.rev, aggs
}

// RootShares sums one class over every tree that has it and returns the
// trees in the order of their root's name, then UUID, each with its
// share in use (per mille) and, for the trees from offset to offset+limit,
// the sums. An unknown class, or one no provider has, gives no trees.
func (e *Engine) RootShares(class string, offset, limit int) model.RootShares {
	e.rlockPrepared()
	defer e.mu.RUnlock()
	out := model.RootShares{Revision: e.rev, ResourceClass: class, UsedPermille: []int64{}, Offset: offset, Roots: []model.RootCapacity{}}
	id, ok := e.classByName[class]
	if !ok {
		return out
	}
	perRoot := treeSums{}
	for _, p := range e.byClass[id] {
		perRoot.add(p, p.inventory(id))
	}
	roots := perRoot.list()
	slices.SortFunc(roots, func(x, y model.RootCapacity) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.UUID, y.UUID))
	})
	out.Count = len(roots)
	out.UsedPermille = make([]int64, len(roots))
	for i, r := range roots {
		out.UsedPermille[i] = permille(r)
	}
	if offset < len(roots) {
		out.Roots = roots[offset:min(offset+limit, len(roots))]
	}
	return out
}

// permille is a tree's used / capacity in thousandths, rounded down; a
// tree with usage and no capacity is full (1000).
func permille(r model.RootCapacity) int64 {
	if r.Capacity <= 0 {
		if r.Used > 0 {
			return 1000
		}
		return 0
	}
	return r.Used * 1000 / r.Capacity
}

// Sharing returns a provider's sharing relations, naming at most limit of
// the trees it serves; ok is false for an unknown provider.
func (e *Engine) Sharing(uuid string, limit int) (s model.Sharing, ok bool) {
	e.rlockPrepared()
	defer e.mu.RUnlock()
	p := e.byUUID[uuid]
	if p == nil {
		return s, false
	}
	s = model.Sharing{UUID: p.UUID, Shares: p.hasTrait(e.sharesID), Aggregates: make([]string, 0, len(p.aggs)),
		Serves: []model.ProviderRef{}, SharedBy: []model.ProviderRef{}}
	for _, a := range p.aggs {
		s.Aggregates = append(s.Aggregates, e.aggUUIDs[a])
	}
	slices.Sort(s.Aggregates)
	byName := func(x, y model.ProviderRef) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.UUID, y.UUID))
	}
	if s.Shares {
		anchors := e.sharingAnchors[p]
		s.ServesCount = len(anchors)
		refs := make([]model.ProviderRef, 0, len(anchors))
		for _, r := range anchors {
			refs = append(refs, model.ProviderRef{UUID: r.UUID, Name: r.Name})
		}
		slices.SortFunc(refs, byName)
		s.Serves = refs[:min(limit, len(refs))]
	}
	root := p.root
	if root == nil {
		root = p
	}
	for _, sp := range e.sharedWith[root] {
		s.SharedBy = append(s.SharedBy, model.ProviderRef{UUID: sp.UUID, Name: sp.Name})
	}
	slices.SortFunc(s.SharedBy, byName)
	return s, true
}
