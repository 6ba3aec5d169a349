package engine

// anchorIter walks, depth first, the combinations of one partial per group
// under one anchor tree, pruning every prefix that already breaks capacity
// (usage included), group_policy=isolate or same_subtree.
type anchorIter struct {
	anchor *provider
	lists  [][]*partial
	idx    []int
	depth  int
	combo  []*partial
	done   bool
	// pruned has a bit per tree stage (1 << stage) that cut a prefix.
	pruned uint16
	// yielded counts the combinations returned (explained searches only).
	yielded int
}

func (s *search) newAnchorIter(anchor *provider, lists [][]*partial) *anchorIter {
	idx := s.ints.take(len(lists))
	for i := range idx {
		idx[i] = -1
	}
	it := s.iterSlab.one()
	*it = anchorIter{anchor: anchor, lists: lists, idx: idx, combo: s.partPtrs.take(len(lists))}
	return it
}

// next returns the next valid combination (a fresh slice), or false when
// the anchor is exhausted or the search stopped.
func (it *anchorIter) next(s *search) ([]*partial, bool) {
	if it.done {
		return nil, false
	}
	n := len(it.lists)
	for {
		if s.budgetExceeded() {
			return nil, false
		}
		d := it.depth
		it.idx[d]++
		if it.idx[d] >= len(it.lists[d]) {
			// Exhausted this level: backtrack.
			it.idx[d] = -1
			if d == 0 {
				it.done = true
				if s.rec != nil && it.yielded == 0 {
					s.rec.exhausted(it.anchor, it.pruned)
				}
				return nil, false
			}
			it.depth--
			continue
		}
		pt := it.lists[d][it.idx[d]]
		if st := s.prefixStage(it.combo[:d], pt, d); st != tsNone {
			it.pruned |= 1 << st
			continue
		}
		it.combo[d] = pt
		if d == n-1 {
			out := s.combos.take(n)
			copy(out, it.combo)
			if s.rec != nil {
				it.yielded++
				s.rec.yielded(it.anchor, out)
			}
			return out, true
		}
		it.depth++
	}
}

// prefixStage runs the tree stages on adding pt at depth d to the partial
// combination prefix, in order: group_policy=isolate, capacity of the
// consolidated amounts (usage included), same_subtree. It returns the
// first stage that rejects it, or tsNone.
func (s *search) prefixStage(prefix []*partial, pt *partial, d int) treeStage {
	g := &s.groups[d]
	if s.isolate && g.granular {
		mine := pt.provs[0]
		for i, other := range prefix {
			if s.groups[i].granular && other.provs[0] == mine {
				return tsIsolate
			}
		}
	}
	// Capacity of the consolidated amounts, usage included.
	for _, a := range pt.allocs {
		sum := consolidated(prefix, a)
		if sum != a.amount && !a.in.CanAllocateCombined(sum) {
			return tsCapacity
		}
	}
	for _, si := range s.subAt[d] {
		if !s.sameSubtree(s.subs[si], prefix, pt, d) {
			return tsSameSubtree
		}
	}
	return tsNone
}

// sameSubtree reports whether, among the providers mapped to the groups of
// one same_subtree set, one is an ancestor (or self) of all the others.
func (s *search) sameSubtree(groups []int, prefix []*partial, pt *partial, d int) bool {
	var provs []*provider
	add := func(p *provider) {
		for _, x := range provs {
			if x == p {
				return
			}
		}
		provs = append(provs, p)
	}
	for _, gi := range groups {
		var part *partial
		if gi == d {
			part = pt
		} else {
			part = prefix[gi]
		}
		for _, p := range part.provs {
			add(p)
		}
	}
	if len(provs) <= 1 {
		return true
	}
	for _, cand := range provs {
		all := true
		for _, p := range provs {
			if !isAncestorOrSelf(cand, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// isAncestorOrSelf reports whether a is p or one of p's ancestors.
func isAncestorOrSelf(a, p *provider) bool {
	for x := p; x != nil; x = x.parent {
		if x == a {
			return true
		}
	}
	return false
}

// consolidated is what a combination takes of a's inventory: a's amount
// plus what the partials of prefix take of the same inventory.
func consolidated(prefix []*partial, a palloc) int64 {
	sum := a.amount
	for _, other := range prefix {
		for _, b := range other.allocs {
			if b.in == a.in {
				sum += b.amount
			}
		}
	}
	return sum
}
