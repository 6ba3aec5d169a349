package engine

import (
	"cmp"
	"math"
	"slices"
)

// Ranked orders (pack, spread, and any order with preferences) sort the
// anchor trees before generation; the search then takes one candidate per
// tree in that order, then a second from each, and so on, stopping at the
// limit. So a limit of N (N at most the number of trees with a candidate)
// keeps the first candidate of the N best-ranked trees, and generates no
// more than N candidates. Ranking itself looks at every anchor: keying
// them is one pass over the providers of the A anchor trees (and the
// sharing providers they may use), building a heap O(A), then each anchor
// taken costs O(log A): O(A + k log A) when the search stops after k
// anchors (about the limit), O(A log A) when it takes them all.
//
// A tree's rank key, compared in this order:
//
//  1. its preference score, higher first: the sum of the weights of the
//     preferences it meets. A tree meets a trait preference when its root
//     or any provider of the tree has the trait, an aggregate preference
//     when its root or any provider of the tree is directly in the
//     aggregate (sharing providers do not count: they are not the tree).
//  2. its fullness, for pack highest first, for spread lowest first (the
//     default order and random skip this step).
//  3. its id, lowest first: equal trees keep Placement's order, so the
//     answer is deterministic.
//
// Fullness is the mean, over the resource classes the query asks for (in
// any group), of used / capacity of that class summed over the providers of
// the tree and the sharing providers the tree may use; a class with no
// capacity there is left out of the mean, and a tree with none of the
// classes has fullness 0. The mean of per-class ratios is unit-free (a sum
// of used over a sum of capacity across classes would let MEMORY_MB, in
// thousands, drown VCPU), and unlike the maximum it keeps telling apart
// trees whose bottleneck class is equally full.

// Preference is a soft constraint: trees that meet it rank higher by its
// weight (lower when the weight is negative), without excluding the others.
// Exactly one of Trait and Aggregate is set.
type Preference struct {
	// Trait is a trait name; an unknown one is refused as in required.
	Trait string
	// Aggregate is an aggregate's uuid; one no provider is in matches
	// nothing, as in member_of.
	Aggregate string
	// Weight is added to the score of every tree that meets it.
	Weight float64
}

// resolvedPref is a Preference with its name resolved.
type resolvedPref struct {
	trait  traitID
	agg    aggID
	isAgg  bool
	weight float64
}

// resolvePrefs resolves the search's preferences: an unknown trait is the
// error unknown returns; an unknown aggregate is dropped (nothing is in it).
func (s *search) resolvePrefs(unknown func(names []string) error) error {
	var missing []string
	for _, p := range s.opts.Prefer {
		switch {
		case p.Aggregate != "":
			if id, ok := s.e.aggByUUID[p.Aggregate]; ok {
				s.prefs = append(s.prefs, resolvedPref{agg: id, isAgg: true, weight: p.Weight})
			}
		case !s.e.knownTrait[p.Trait]:
			if !slices.Contains(missing, p.Trait) {
				missing = append(missing, p.Trait)
			}
		default:
			s.prefs = append(s.prefs, resolvedPref{trait: s.e.traitByName[p.Trait], weight: p.Weight})
		}
	}
	if len(missing) > 0 {
		return unknown(missing)
	}
	return nil
}

// ranked reports whether the search sorts its anchors before generation.
func (s *search) ranked() bool {
	if s.random() {
		return false
	}
	return s.opts.Order == OrderPack || s.opts.Order == OrderSpread || len(s.opts.Prefer) > 0
}

// random reports whether the search samples the limit at random.
func (s *search) random() bool {
	return s.opts.Randomize || s.opts.Order == OrderRandom
}

// rankedAnchor is an anchor with its rank key: its preference score and
// key, the fullness signed so that lower ranks first (pack: -fullness).
type rankedAnchor struct {
	p     *provider
	score float64
	key   float64
}

// anchorList hands out anchors: in the order found, or ranked (best
// first) from a binary heap. Every ranked anchor is keyed (O(A)) and the
// heap built (O(A)); each anchor taken then costs O(log A), so a limited
// search that stops after k anchors pays O(A + k log A), one that takes
// them all O(A log A). In the order found, a scan of the roots (scan set:
// no group had a selective filter) tests each root as it is taken, so
// that one that stops after k anchors pays for about k roots.
type anchorList struct {
	ranked bool
	list   []*provider
	i      int
	heap   []rankedAnchor
	// scan, when set, keeps only the roots of list the search's class
	// masks allow (treeMayServe).
	scan *search
}

// anchorSource returns the anchors in search order; scan says that found
// is every root, still to be tested with treeMayServe (driverAnchors).
func (s *search) anchorSource(found []*provider, scan, ranked bool) anchorList {
	if !ranked {
		l := anchorList{list: found}
		if scan {
			l.scan = s
		}
		return l
	}
	if scan {
		// Ranking keys every anchor anyway: test the roots first.
		kept := s.anchorBuf[:0]
		s.stats.Roots += len(found)
		for _, root := range found {
			if s.treeMayServe(root) {
				kept = append(kept, root)
			}
		}
		s.anchorBuf, found = kept, kept
	}
	rc := s.rankClasses()
	if rc.full && len(found) > len(s.e.roots)/8 {
		s.sumShared(&rc)
	}
	h := s.rankBuf[:0]
	for _, a := range found {
		score, full := s.rankKey(a, &rc)
		switch s.opts.Order {
		case OrderPack:
			full = -full
		case OrderSpread:
		default:
			full = 0
		}
		h = append(h, rankedAnchor{p: a, score: score, key: full})
	}
	s.rankBuf = h
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	return anchorList{ranked: true, heap: h}
}

// next returns the next anchor, or false when there is none left.
func (l *anchorList) next() (*provider, bool) {
	if !l.ranked {
		for l.i < len(l.list) {
			p := l.list[l.i]
			l.i++
			if l.scan == nil {
				return p, true
			}
			l.scan.stats.Roots++
			if l.scan.treeMayServe(p) {
				return p, true
			}
		}
		return nil, false
	}
	n := len(l.heap)
	if n == 0 {
		return nil, false
	}
	best := l.heap[0].p
	l.heap[0] = l.heap[n-1]
	l.heap = l.heap[:n-1]
	siftDown(l.heap, 0)
	return best, true
}

// before reports whether x ranks before y: higher score, then lower key,
// then lower id.
func (x *rankedAnchor) before(y *rankedAnchor) bool {
	if x.score != y.score {
		return x.score > y.score
	}
	if x.key != y.key {
		return x.key < y.key
	}
	return x.p.ID < y.p.ID
}

// siftDown restores the heap order of h below i.
func siftDown(h []rankedAnchor, i int) {
	for {
		best, l := i, 2*i+1
		if l < len(h) && h[l].before(&h[best]) {
			best = l
		}
		if r := l + 1; r < len(h) && h[r].before(&h[best]) {
			best = r
		}
		if best == i {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}

// rankClasses are the classes fullness is measured over.
type rankClasses struct {
	ids []classID
	// mask has the bits of ids (classBit), to skip the sharing providers
	// of a tree when none has any of them.
	mask uint64
	// full is set when the order measures fullness.
	full bool
	// shared, when not nil, holds per root (by idx) and class the used and
	// capacity of the sharing providers it may use: [2*(idx*len(ids)+ci)].
	shared []int64
}

// rankClasses lists the classes the query asks for, each once, when the
// order measures fullness (none otherwise).
func (s *search) rankClasses() rankClasses {
	var rc rankClasses
	if s.opts.Order != OrderPack && s.opts.Order != OrderSpread {
		return rc
	}
	rc.full = true
	for gi := range s.groups {
		for _, a := range s.groups[gi].amounts {
			if !slices.Contains(rc.ids, a.class) {
				rc.ids = append(rc.ids, a.class)
				rc.mask |= classBit(a.class)
			}
		}
	}
	return rc
}

// rankSums accumulates used and capacity per class of rankClasses.
type rankSums struct {
	used, capacity [8]int64
	more           [][2]int64 // beyond 8 classes
}

func (r *rankSums) add(p *provider, ids []classID) {
	for ci, c := range ids {
		in := p.inventory(c)
		if in == nil {
			continue
		}
		if ci < 8 {
			r.used[ci] += in.Used
			r.capacity[ci] += in.Capacity()
		} else {
			r.more[ci-8][0] += in.Used
			r.more[ci-8][1] += in.Capacity()
		}
	}
}

// rankKey computes an anchor's preference score and fullness (see the top
// of this file).
func (s *search) rankKey(a *provider, rc *rankClasses) (score, full float64) {
	var sums rankSums
	if len(rc.ids) > 8 {
		sums.more = make([][2]int64, len(rc.ids)-8)
	}
	met := s.prefMet[:0]
	for range s.prefs {
		met = append(met, false)
	}
	s.visitTree(a, func(p *provider) {
		if rc.full {
			sums.add(p, rc.ids)
		}
		for i, pr := range s.prefs {
			if !met[i] && (pr.isAgg && p.inAgg(pr.agg) || !pr.isAgg && p.hasTrait(pr.trait)) {
				met[i] = true
			}
		}
	})
	if rc.shared != nil {
		at := 2 * a.idx * len(rc.ids)
		for ci := range rc.ids {
			if ci < 8 {
				sums.used[ci] += rc.shared[at+2*ci]
				sums.capacity[ci] += rc.shared[at+2*ci+1]
			} else {
				sums.more[ci-8][0] += rc.shared[at+2*ci]
				sums.more[ci-8][1] += rc.shared[at+2*ci+1]
			}
		}
	} else if rc.full && a.sharedClasses&rc.mask != 0 {
		for _, sp := range s.e.sharedWith[a] {
			if sp.root != a {
				sums.add(sp, rc.ids)
			}
		}
	}
	for i, pr := range s.prefs {
		if met[i] {
			score += pr.weight
		}
	}
	s.prefMet = met
	n := 0
	for ci := range rc.ids {
		u, c := sums.used[min(ci, 7)], sums.capacity[min(ci, 7)]
		if ci >= 8 {
			u, c = sums.more[ci-8][0], sums.more[ci-8][1]
		}
		if c > 0 {
			full += float64(u) / float64(c)
			n++
		}
	}
	if n > 0 {
		full /= float64(n)
	}
	if math.IsNaN(full) {
		full = 0
	}
	return score, full
}

// sumShared adds up, for every root at once, what the sharing providers
// it may use have of the ranked classes: one pass over the sharing
// providers' anchor lists instead of a lookup per anchor (worth it when
// most roots are anchors).
func (s *search) sumShared(rc *rankClasses) {
	k := len(rc.ids)
	need := 2 * len(s.e.ordered) * k
	if cap(s.shareBuf) < need {
		s.shareBuf = make([]int64, need)
	}
	buf := s.shareBuf[:need]
	clear(buf)
	for _, sp := range s.e.sharing {
		for ci, c := range rc.ids {
			in := sp.inventory(c)
			if in == nil {
				continue
			}
			used, capacity := in.Used, in.Capacity()
			for _, root := range s.e.sharingAnchors[sp] {
				if root != sp.root {
					at := 2 * (root.idx*k + ci)
					buf[at] += used
					buf[at+1] += capacity
				}
			}
		}
	}
	rc.shared = buf
}

// visitTree calls fn on root and every provider below it, depth first.
func (s *search) visitTree(root *provider, fn func(p *provider)) {
	fn(root)
	for _, k := range root.kids {
		s.visitTree(k, fn)
	}
}

// prefScore is an anchor's preference score alone (for random order, whose
// sample is sorted by it).
func (s *search) prefScore(a *provider) float64 {
	score, _ := s.rankKey(a, &rankClasses{})
	return score
}

// preferFirst stably sorts a random sample by its trees' preference
// scores, highest first (nothing to do without preferences).
func (s *search) preferFirst(results [][]*partial) {
	if len(s.prefs) == 0 {
		return
	}
	scores := map[*provider]float64{}
	score := func(a *provider) float64 {
		v, ok := scores[a]
		if !ok {
			v = s.prefScore(a)
			scores[a] = v
		}
		return v
	}
	slices.SortStableFunc(results, func(x, y []*partial) int {
		return cmp.Compare(score(y[0].anchor), score(x[0].anchor))
	})
}
