package engine

import (
	"cmp"
	"math/bits"
	"slices"
)

// The search is anchor-centric: candidates are generated one anchor tree
// at a time (in id order), from the providers of that tree and the sharing
// providers associated with it, so that a small limit touches few trees.

// driverAnchors returns, in id order, the trees that could possibly
// satisfy every group: when a group has a selective filter (few providers
// with its class, aggregate or trait), the trees reachable from those;
// otherwise every root, and scan is set: the caller keeps the roots whose
// tree (with its sharing providers) has all the classes asked for
// (treeMayServe, one mask test per root) as it takes them, so that a
// search that stops after k anchors tests about k roots, not all of them.
func (s *search) driverAnchors() (anchors []*provider, scan bool) {
	// Two reusable buffers: the best anchor list so far and the next try.
	var best []*provider
	found := false
	spare := s.anchorBuf[:0]
	for gi := range s.groups {
		a, ok := s.groupAnchors(&s.groups[gi], len(s.e.roots)/4, spare)
		if ok && (!found || len(a) < len(best)) {
			best, spare, found = a, best, true
		} else if ok {
			spare = a
		}
		spare = spare[:0]
		if found && len(best) == 0 {
			return nil, false
		}
	}
	if found {
		s.anchorBuf = s.sortAnchors(best)
		return s.anchorBuf, false
	}
	return s.e.roots, true
}

// sortAnchors puts anchors (all roots) in id order: by sorting, or, when
// that costs more than one pass over the roots, by picking the marked roots
// from the id-ordered list of all roots.
func (s *search) sortAnchors(anchors []*provider) []*provider {
	n := len(anchors)
	if n <= 32 || n*bits.Len(uint(n)) < len(s.e.roots)/2 {
		sortProviders(anchors)
		return anchors
	}
	s.newPass(len(s.e.ordered))
	for _, a := range anchors {
		s.see(a)
	}
	anchors = anchors[:0]
	for _, root := range s.e.roots {
		if s.marks[root.idx] == s.epoch {
			anchors = append(anchors, root)
		}
	}
	return anchors
}

// treeMayServe checks the class masks of a root against every group. An
// explained search examines every tree, so that every provider is judged
// by the stages below.
func (s *search) treeMayServe(root *provider) bool {
	if s.rec != nil {
		return true
	}
	for gi := range s.groups {
		g := &s.groups[gi]
		if g.inTree != nil && g.inTree != root && !g.granular {
			return false
		}
		have := root.treeClasses | root.sharedClasses
		if !g.granular && g.inTree != nil {
			have = root.treeClasses
		}
		for _, a := range g.amounts {
			if have&classBit(a.class) == 0 {
				return false
			}
		}
	}
	return true
}

// groupAnchors over-approximates the anchors a group can be satisfied
// under, from its most selective filter, appending them to out; ok is false
// when that filter matches more than limit providers (then scanning roots
// is cheaper).
func (s *search) groupAnchors(g *resolvedGroup, limit int, out []*provider) (anchors []*provider, ok bool) {
	if s.rec != nil {
		return out, false // explaining: no shortcut, every root is examined
	}
	if g.inTree != nil && !g.granular {
		return append(out, g.inTree), true
	}
	// The most selective positive filter: a class (a provider of the tree
	// or a sharing one must have it), a required aggregate set or a
	// required trait set (some provider used must be in it / have one).
	var list []*provider
	from := fromAll
	consider := func(l []*provider, kind listSource) {
		if list == nil || len(l) < len(list) {
			list, from = l, kind
		}
	}
	for _, a := range g.amounts {
		consider(s.e.byClass[a.class], fromClass)
	}
	for _, set := range g.aggs.allOf {
		if considerUnion(s, &list, set, s.e.aggMembers, limit) {
			from = fromAggs
		}
	}
	for _, set := range g.traits.allOf {
		if considerUnion(s, &list, set, s.e.byTrait, limit) {
			from = fromTraits
		}
	}
	if list == nil {
		list = s.e.all()
	}
	if len(list) > limit {
		return out, false
	}
	s.newPass(len(s.e.ordered))
	add := func(a *provider) {
		if !s.see(a) {
			out = append(out, a)
		}
	}
	sharingAllowed := g.granular || g.inTree == nil
	if sharingAllowed && !g.granular && from == fromAggs && !s.sharingCanServe(g, list) {
		// Under a tree outside the aggregates only the members may serve:
		// the trees those members' sharing providers serve need every
		// class from them, and together they lack one.
		sharingAllowed = false
	}
	for _, p := range list {
		if g.inTree != nil && p.root != g.inTree {
			continue
		}
		if !s.mayServe(g, p, from) {
			continue
		}
		add(p.root)
		if sharingAllowed && p.hasTrait(s.e.sharesID) {
			for _, a := range s.e.sharingAnchors[p] {
				add(a)
			}
		}
	}
	return out, true
}

// listSource says which filter groupAnchors took its providers from.
type listSource int

const (
	fromAll listSource = iota
	fromClass
	fromAggs
	fromTraits
)

// mayServe reports whether p, a provider of the filter list of g, can be
// part of a candidate for g. A granular group is served by one provider,
// which must then pass every filter of the group itself. In the unsuffixed
// group a provider found by a required trait counts only if it supplies a
// class of the group (the traits are those of the providers used); one
// found by aggregate counts anyway (a root in the aggregates lets its whole
// tree serve).
func (s *search) mayServe(g *resolvedGroup, p *provider, from listSource) bool {
	if g.granular {
		return g.servesAlone(p)
	}
	if from != fromTraits || len(g.amounts) == 0 {
		return true
	}
	for _, am := range g.amounts {
		if p.inventory(am.class) != nil {
			return true
		}
	}
	return false
}

// servesAlone reports whether p by itself passes g's trait and aggregate
// filters and has room for every amount of g: what a granular group asks
// of its one provider.
func (g *resolvedGroup) servesAlone(p *provider) bool {
	return g.aloneStage(p) == stPassed
}

// aloneStage runs the stages of a granular group on one provider, in
// order: traits (forbidden, required, any-of), member_of, then each
// amount (class, min/max/step, capacity); it returns the first stage p
// fails, or stPassed.
func (g *resolvedGroup) aloneStage(p *provider) stage {
	if st := g.traits.check(p); st != stPassed {
		return st
	}
	if !g.aggs.matches(p) {
		return stMemberOf
	}
	return amountsStage(p, g.amounts)
}

// granularStage is aloneStage preceded by in_tree, for a provider examined
// under an anchor.
func (g *resolvedGroup) granularStage(p *provider) stage {
	if g.noInTree || g.inTree != nil && p.root != g.inTree {
		return stInTree
	}
	return g.aloneStage(p)
}

// sharingCanServe reports whether the sharing providers of list together
// have every class of g.
func (s *search) sharingCanServe(g *resolvedGroup, list []*provider) bool {
	var have uint64
	for _, p := range list {
		if p.hasTrait(s.e.sharesID) {
			for i := range p.invs {
				have |= classBit(p.invs[i].class)
			}
		}
	}
	for _, am := range g.amounts {
		if have&classBit(am.class) == 0 {
			return false
		}
	}
	return true
}

// considerUnion makes the union of the member lists of set the current
// list when it is smaller (or there is none yet) and at most limit long,
// and then reports true; the union is only built then, in a reused buffer
// (a longer one would be given up for the scan of the roots anyway, and
// building it would cost a query time in proportion to the cloud).
func considerUnion[K comparable](s *search, list *[]*provider, set []K, members map[K][]*provider, limit int) bool {
	n := 0
	for _, id := range set {
		n += len(members[id])
	}
	if *list != nil && n >= len(*list) || n > limit {
		return false
	}
	u := s.unionBuf[:0]
	for _, id := range set {
		u = append(u, members[id]...)
	}
	s.unionBuf = u
	*list = u
	return true
}

// anchorPartials computes, for one anchor tree, the partial solutions of
// every group; ok is false when some group has none.
//
// An explained search (s.rec set) judges every group even after one has
// failed, so that every provider of the tree gets a verdict per group.
func (s *search) anchorPartials(a *provider) ([][]*partial, bool) {
	if !s.rootOK(a) {
		if s.rec != nil {
			s.treeBuf = appendTree(s.treeBuf[:0], a)
			s.rec.rootRejected(a, s.treeBuf)
		}
		return nil, false
	}
	s.treeBuf = appendTree(s.treeBuf[:0], a)
	shared := s.e.sharedWith[a]
	lists := s.lists.take(len(s.groups))
	var unmet uint64 // explaining: the groups with no partial
	for gi := range s.groups {
		g := &s.groups[gi]
		var parts []*partial
		if g.granular {
			parts = s.granularAt(gi, g, a, s.treeBuf, shared)
		} else {
			parts = s.treeAt(gi, g, a, s.treeBuf, shared)
		}
		if len(parts) == 0 {
			if s.rec == nil {
				return nil, false
			}
			unmet |= 1 << min(gi, 63)
			continue
		}
		lists[gi] = parts
		s.stats.Partials += len(parts)
	}
	if unmet != 0 {
		s.rec.groupsUnmet(a, unmet)
		return nil, false
	}
	return lists, true
}

// granularAt: providers that alone have capacity for every class of the
// group and themselves have the traits and (direct) aggregates asked for,
// from the anchor's tree or shared with it.
func (s *search) granularAt(gi int, g *resolvedGroup, a *provider, tree, shared []*provider) []*partial {
	resourceless := len(g.amounts) == 0
	if resourceless && len(g.traits.allOf) == 0 && len(g.aggs.allOf) == 0 {
		if s.rec != nil {
			s.rec.judgeAll(gi, tree, stClass)
		}
		return nil // Placement matches nothing for a group with no positive filter
	}
	start := len(s.partBuf)
	try := func(p *provider, sharingOnly bool) {
		st := g.granularStage(p)
		if s.rec != nil {
			s.rec.judge(gi, p, st)
		}
		if st != stPassed {
			return
		}
		allocs := s.pallocs.take(len(g.amounts))
		for i, am := range g.amounts {
			allocs[i] = palloc{p: p, in: p.inventory(am.class), amount: am.n}
		}
		provs := s.provs.take(1)
		provs[0] = p
		pt := s.partSlab.one()
		*pt = partial{anchor: a, allocs: allocs, provs: provs, sharingOnly: sharingOnly, foreign: p.root != a}
		s.partBuf = append(s.partBuf, pt)
	}
	for _, p := range tree {
		try(p, p.hasTrait(s.e.sharesID))
	}
	for _, p := range shared {
		if p.root != a {
			try(p, true)
		}
	}
	return s.keepParts(start)
}

// keepParts moves the partials appended to partBuf since start into a
// slice of their own.
func (s *search) keepParts(start int) []*partial {
	n := len(s.partBuf) - start
	if n == 0 {
		return nil
	}
	out := s.partPtrs.take(n)
	copy(out, s.partBuf[start:])
	s.partBuf = s.partBuf[:start]
	return out
}

// pair is a provider able to supply one class for a candidate.
type pair struct {
	p  *provider
	in *inv
}

// treeAt: the unsuffixed group may take each class from a different
// provider of the anchor's tree, or from a sharing provider associated with
// it; together the providers used must have the required traits and none
// of them a forbidden one.
func (s *search) treeAt(gi int, g *resolvedGroup, a *provider, tree, shared []*provider) []*partial {
	rec := s.rec
	if g.noInTree || g.inTree != nil && a != g.inTree {
		if rec != nil {
			rec.judgeAll(gi, tree, stInTree)
			rec.treeMiss(gi, a, missCount{n: 1})
		}
		return nil
	}
	// The anchor's own aggregates are judged once: a provider qualifies
	// when it or its root is in the required aggregates, and neither is in
	// a forbidden one.
	hasAggs := !g.aggs.empty()
	anchorInAggs := false
	if hasAggs {
		if len(g.amounts) > 0 && g.aggs.forbiddenHit(a) {
			if rec != nil {
				rec.judgeAll(gi, tree, stMemberOf)
				rec.treeMiss(gi, a, missCount{n: 1})
			}
			return nil
		}
		anchorInAggs = g.aggs.requiredOK(a)
	}
	if rec != nil {
		rec.startTree()
	}
	lists := s.pairLists[:0]
	for ci, am := range g.amounts {
		list := s.pairBufs(ci)
		if rec != nil {
			rec.startClass()
		}
		add := func(p *provider, st stage) {
			var in *inv
			judged := st == stPassed
			if judged {
				in = p.inventory(am.class)
				st = pairStage(g, p, in, am.n, hasAggs, anchorInAggs)
			}
			if rec != nil {
				rec.pair(g, p, in, judged, st, am, hasAggs, anchorInAggs)
			}
			if st != stPassed {
				return
			}
			for _, x := range list {
				if x.p == p {
					return
				}
			}
			list = append(list, pair{p: p, in: in})
		}
		for _, p := range tree {
			add(p, stPassed)
		}
		if g.inTree == nil {
			for _, p := range shared {
				if len(g.aggs.allOf) == 0 || g.aggs.requiredOK(p) {
					add(p, stPassed)
				} else if rec != nil {
					add(p, stMemberOf)
				}
			}
		}
		s.setPairBuf(ci, list)
		if rec != nil {
			rec.endClass(am)
		}
		if len(list) == 0 {
			// No provider supplies this class: the tree is done with, and
			// the later classes are not judged, as in the plain search.
			s.pairLists = lists
			if rec != nil {
				// Every provider that supplied an earlier class is removed
				// at this class's furthest stage. The tree's score covers
				// the classes judged: a lower bound when some are left.
				rec.endGroup(gi, g, a, tree, ci < len(g.amounts)-1)
				rec.settle(gi, rec.best)
			}
			return nil
		}
		lists = append(lists, list)
	}
	s.pairLists = lists
	if rec != nil {
		if len(g.amounts) == 0 {
			// A resourceless unsuffixed group: judged on the tree as a whole.
			rec.pendingAll(tree)
		}
		rec.endGroup(gi, g, a, tree, false)
	}
	start := len(s.partBuf)
	choice := s.choice[:0]
	for range lists {
		choice = append(choice, pair{})
	}
	s.choice = choice
	var walk func(ci int)
	walk = func(ci int) {
		if ci == len(lists) {
			if pt := s.treePartial(gi, g, a, choice); pt != nil {
				s.partBuf = append(s.partBuf, pt)
			}
			return
		}
		for _, c := range lists[ci] {
			if s.budgetExceeded() {
				return
			}
			choice[ci] = c
			walk(ci + 1)
		}
	}
	walk(0)
	if rec != nil {
		rec.settle(gi, stUnseen)
	}
	return s.keepParts(start)
}

// pairStage is the stage of the unsuffixed group at which provider p, with
// inventory in (nil: none) of a class the group asks n of, stops: class,
// min/max/step, capacity, member_of (p or the anchor in the required
// aggregates, p in no forbidden one), forbidden traits (a provider with one
// can be in no combination); else stPassed. Required and any-of traits are
// judged later, on the providers used together.
func pairStage(g *resolvedGroup, p *provider, in *inv, n int64, hasAggs, anchorInAggs bool) stage {
	if st := amountStage(in, n); st != stPassed {
		return st
	}
	if hasAggs && (!(anchorInAggs || g.aggs.requiredOK(p)) || g.aggs.forbiddenHit(p)) {
		return stMemberOf
	}
	for _, f := range g.traits.forbidden {
		if p.hasTrait(f) {
			return stForbidden
		}
	}
	return stPassed
}

// pairBufs returns an empty reusable pair list for class index ci.
func (s *search) pairBufs(ci int) []pair {
	for len(s.pairScratch) <= ci {
		s.pairScratch = append(s.pairScratch, nil)
	}
	return s.pairScratch[ci][:0]
}

func (s *search) setPairBuf(ci int, l []pair) { s.pairScratch[ci] = l }

// treePartial checks the traits of one combination of providers and
// builds its partial.
func (s *search) treePartial(gi int, g *resolvedGroup, anchor *provider, choice []pair) *partial {
	var local [8]*provider
	provs := local[:0]
	sharingOnly, foreign := true, false
	for _, c := range choice {
		dup := false
		for _, p := range provs {
			if p == c.p {
				dup = true
				break
			}
		}
		if !dup {
			provs = append(provs, c.p)
			if !c.p.hasTrait(s.e.sharesID) {
				sharingOnly = false
			}
			if c.p.root != anchor {
				foreign = true
			}
		}
	}
	// Forbidden traits were judged per provider (pairStage).
	st := comboTraitsStage(g, provs)
	if s.rec != nil {
		s.rec.verdict(gi, provs, st)
	}
	if st != stPassed {
		return nil
	}
	allocs := s.pallocs.take(len(choice))
	for i, c := range choice {
		allocs[i] = palloc{p: c.p, in: c.in, amount: g.amounts[i].n}
	}
	kept := s.provs.take(len(provs))
	copy(kept, provs)
	sortProviders(kept)
	pt := s.partSlab.one()
	*pt = partial{anchor: anchor, allocs: allocs, provs: kept, sharingOnly: sharingOnly, foreign: foreign}
	return pt
}

// comboTraitsStage judges the required traits of the unsuffixed group on
// the providers used together: stRequired or stAnyOf for the first set
// none of them has a trait of, else stPassed.
func comboTraitsStage(g *resolvedGroup, provs []*provider) stage {
	if g.traits.impossible {
		return stRequired
	}
	for _, set := range g.traits.allOf {
		ok := false
		for _, t := range set {
			for _, p := range provs {
				if p.hasTrait(t) {
					ok = true
					break
				}
			}
			if ok {
				break
			}
		}
		if !ok {
			if len(set) > 1 {
				return stAnyOf
			}
			return stRequired
		}
	}
	return stPassed
}

func sortProviders(ps []*provider) {
	if len(ps) > 16 {
		slices.SortFunc(ps, func(a, b *provider) int { return cmp.Compare(a.ID, b.ID) })
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].ID < ps[j-1].ID; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
