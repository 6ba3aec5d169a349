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
// more than N candidates. Ranking itself looks at every anchor: it costs
// O(A log A) for A anchors, plus one pass over the providers of their trees
// and the sharing providers they may use.
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

// rankedAnchor is an anchor with its rank key.
type rankedAnchor struct {
	p     *provider
	score float64
	full  float64
}

// rankAnchors sorts anchors (in place) by rank key.
func (s *search) rankAnchors(anchors []*provider) []*provider {
	classes := s.askedClasses()
	keys := s.rankBuf[:0]
	for _, a := range anchors {
		score, full := s.rankKey(a, classes)
		keys = append(keys, rankedAnchor{p: a, score: score, full: full})
	}
	pack := s.opts.Order == OrderPack
	spread := s.opts.Order == OrderSpread
	slices.SortFunc(keys, func(x, y rankedAnchor) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if pack {
			if c := cmp.Compare(y.full, x.full); c != 0 {
				return c
			}
		} else if spread {
			if c := cmp.Compare(x.full, y.full); c != 0 {
				return c
			}
		}
		return cmp.Compare(x.p.ID, y.p.ID)
	})
	for i := range keys {
		anchors[i] = keys[i].p
	}
	s.rankBuf = keys
	return anchors
}

// askedClasses lists the classes the query asks for, each once.
func (s *search) askedClasses() []classID {
	var out []classID
	for gi := range s.groups {
		for _, a := range s.groups[gi].amounts {
			if !slices.Contains(out, a.class) {
				out = append(out, a.class)
			}
		}
	}
	return out
}

// rankKey computes an anchor's preference score and fullness (see the top
// of this file).
func (s *search) rankKey(a *provider, classes []classID) (score, full float64) {
	var local [8][2]int64
	sums := local[:0]
	for range classes {
		sums = append(sums, [2]int64{})
	}
	add := func(p *provider) {
		for ci, c := range classes {
			if in := p.inventory(c); in != nil {
				sums[ci][0] += in.Used
				sums[ci][1] += in.Capacity()
			}
		}
	}
	met := s.prefMet[:0]
	for range s.prefs {
		met = append(met, false)
	}
	var walk func(p *provider)
	walk = func(p *provider) {
		add(p)
		for i, pr := range s.prefs {
			if !met[i] && (pr.isAgg && p.inAgg(pr.agg) || !pr.isAgg && p.hasTrait(pr.trait)) {
				met[i] = true
			}
		}
		for _, k := range p.kids {
			walk(k)
		}
	}
	walk(a)
	if s.opts.Order == OrderPack || s.opts.Order == OrderSpread {
		for _, sp := range s.e.sharedWith[a] {
			if sp.root != a {
				add(sp)
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
	for _, sum := range sums {
		if sum[1] > 0 {
			full += float64(sum[0]) / float64(sum[1])
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

// prefScore is an anchor's preference score alone (for random order, whose
// sample is sorted by it).
func (s *search) prefScore(a *provider) float64 {
	score, _ := s.rankKey(a, nil)
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
