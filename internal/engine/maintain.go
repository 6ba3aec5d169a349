package engine

import (
	"cmp"
	"slices"
)

// Maintenance of the derived lookups (ordered, roots, byClass, byTrait,
// aggMembers, the roots' tree class masks) as updates arrive, so that a
// write costs in proportion to what it changed. Anything that changes
// sharing (a provider starting or stopping to share, a sharing provider's
// aggregates or classes, a provider joining or leaving an aggregate a
// sharing provider is in, a move of a provider in such an aggregate or of
// a root that anchors one, the removal of a provider that anchors one)
// sets dirty instead, and Apply
// rebuilds everything once (rebuild): those lookups relate providers
// across trees, and rebuilding them is simple and correct by
// construction. TestIndexCaughtUpEqualsRebuilt (internal/placement)
// checks that both paths give the index a load from scratch gives.

// edited maintains the derived lookups after p was inserted (isNew) or
// updated in place; oldParent and oldRoot are its parent and root ids
// before, old* its classes, aggregates and traits. The tree class masks
// are recounted by finishEdits, once the tree pointers are linked.
func (e *Engine) edited(p *provider, isNew bool, oldParent, oldRoot int64, oldClasses []classID, oldAggs []aggID, oldTraits []traitID) {
	if e.dirty {
		return
	}
	// Sharing depends on which providers share (the trait), in which
	// aggregates, what classes they share, and the trees of the
	// aggregates' members. So only these rebuild: a provider that starts
	// or stops sharing, a sharing provider whose aggregates or classes
	// change, any provider joining or leaving an aggregate a sharing
	// provider is in (a new provider joined all of its own), and a
	// provider moving to another tree while in such an aggregate (the
	// trees anchored change) or while a root that anchors one. A claim on
	// a sharing provider, or a new amount of its inventory, is edited like
	// any other provider's; so is a move of a subtree that has nothing to
	// do with sharing (each provider of the subtree comes here, as its
	// root changed).
	classes := classesOf(p.invs)
	aggsChanged := changed(oldAggs, p.aggs)
	wasSharing, sharing := slices.Contains(oldTraits, e.sharesID), p.hasTrait(e.sharesID)
	moved := !isNew && (oldParent != p.ParentID || oldRoot != p.RootID)
	if wasSharing != sharing || e.sharedAggregate(aggsChanged) ||
		sharing && (len(aggsChanged) > 0 || !slices.Equal(oldClasses, classes)) ||
		moved && (e.sharedAggregate(oldAggs, p.aggs) || len(e.sharedWith[p]) > 0) {
		e.dirty = true
		return
	}
	if isNew {
		e.ordered = withProvider(e.ordered, p)
		e.renumber = true
		if p.ParentID == 0 {
			e.roots = withProvider(e.roots, p)
		}
	}
	if moved {
		switch {
		case oldParent != 0 && p.ParentID == 0:
			e.roots = withProvider(e.roots, p)
		case oldParent == 0 && p.ParentID != 0:
			// No longer a root (its masks are then never read, and
			// recounted if it becomes one again).
			e.roots = withoutProvider(e.roots, p)
		}
		// Both trees' class masks: the one p left, the one it joined.
		if old := e.byID[oldRoot]; old != nil && old != p {
			e.recount = append(e.recount, old)
		}
		e.recount = append(e.recount, p)
	}
	editLists(e.byClass, oldClasses, classes, p)
	editLists(e.byTrait, oldTraits, p.traits, p)
	editLists(e.aggMembers, oldAggs, p.aggs, p)
	if isNew || !slices.Equal(oldClasses, classes) {
		e.recount = append(e.recount, p)
	}
}

// removed maintains the derived lookups after p left the index.
func (e *Engine) removed(p *provider) {
	if e.dirty {
		return
	}
	if p.hasTrait(e.sharesID) || e.sharedAggregate(p.aggs) || len(e.sharedWith[p]) > 0 {
		e.dirty = true
		return
	}
	e.ordered = withoutProvider(e.ordered, p)
	e.renumber = true
	if p.ParentID == 0 {
		e.roots = withoutProvider(e.roots, p)
	}
	editLists(e.byClass, classesOf(p.invs), nil, p)
	editLists(e.byTrait, p.traits, nil, p)
	editLists(e.aggMembers, p.aggs, nil, p)
	if p.root != nil && p.root != p {
		e.recount = append(e.recount, p.root)
	}
}

// finishEdits completes the edits of an Apply once tree pointers are
// linked: positions in the id order (one pass over the providers, no
// allocation) and the class masks of the trees whose classes changed (a
// walk of each such tree).
func (e *Engine) finishEdits() {
	if !e.dirty {
		if e.renumber {
			for i, p := range e.ordered {
				p.idx = i
			}
		}
		for _, x := range e.recount {
			r := x.root
			if r == nil || e.byID[r.ID] != r {
				continue
			}
			r.treeClasses = 0
			var walk func(p *provider)
			walk = func(p *provider) {
				for _, in := range p.invs {
					r.treeClasses |= classBit(in.class)
				}
				for _, k := range p.kids {
					walk(k)
				}
			}
			walk(r)
		}
	}
	e.renumber = false
	e.recount = e.recount[:0]
}

// sharedAggregate reports whether a sharing provider is in any of the
// aggregates (the sharing providers are few: one per aggregate at most in
// the usual layouts).
func (e *Engine) sharedAggregate(lists ...[]aggID) bool {
	for _, sp := range e.sharing {
		for _, aggs := range lists {
			for _, a := range aggs {
				if sp.inAgg(a) {
					return true
				}
			}
		}
	}
	return false
}

// changed lists the ids in exactly one of two sorted lists.
func changed[K cmp.Ordered](a, b []K) []K {
	var out []K
	for _, k := range a {
		if _, ok := slices.BinarySearch(b, k); !ok {
			out = append(out, k)
		}
	}
	for _, k := range b {
		if _, ok := slices.BinarySearch(a, k); !ok {
			out = append(out, k)
		}
	}
	return out
}

// classesOf lists the classes of a provider's inventories (sorted, as
// the inventories are).
func classesOf(invs []inv) []classID {
	out := make([]classID, len(invs))
	for i := range invs {
		out[i] = invs[i].class
	}
	return out
}

// editLists moves p, in a lookup from keys to providers in id order, from
// the lists of the keys in old to those of the keys in cur.
func editLists[K comparable](m map[K][]*provider, old, cur []K, p *provider) {
	for _, k := range old {
		if !slices.Contains(cur, k) {
			if list := withoutProvider(m[k], p); len(list) > 0 {
				m[k] = list
			} else {
				delete(m, k)
			}
		}
	}
	for _, k := range cur {
		if !slices.Contains(old, k) {
			m[k] = withProvider(m[k], p)
		}
	}
}

// byID orders providers in a derived lookup.
func byID(p *provider, id int64) int { return cmp.Compare(p.ID, id) }

// withProvider returns list (in id order) with p inserted.
func withProvider(list []*provider, p *provider) []*provider {
	i, found := slices.BinarySearchFunc(list, p.ID, byID)
	if found {
		return list
	}
	return slices.Insert(list, i, p)
}

// withoutProvider returns list (in id order) with p removed.
func withoutProvider(list []*provider, p *provider) []*provider {
	i, found := slices.BinarySearchFunc(list, p.ID, byID)
	if !found {
		return list
	}
	return slices.Delete(list, i, i+1)
}
