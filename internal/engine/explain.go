package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"allot/internal/model"
	"allot/internal/query"
)

// An explained search is the candidates search itself, run with a recorder:
// every stage that removes a provider from a group (groups.go: aloneStage,
// pairStage, comboTraitsStage) or a combination from a tree (merge.go:
// prefixStage) reports its verdict to the recorder when one is set, and
// nothing else changes. The plain search (no recorder) pays one nil test
// per verdict.

// stage is a step of a group's search that can remove a provider. The
// values are ordered as the unsuffixed group meets them (class, units,
// capacity, member_of, forbidden, then required and any-of on the
// providers used together); stPassed is last.
type stage uint8

const (
	stUnseen stage = iota // no verdict: the search stopped before
	stRootRequired
	stInTree
	stClass
	stUnits
	stCapacity
	stMemberOf
	stForbidden
	stRequired
	stAnyOf
	stPassed
)

var stageNames = [...]string{
	stUnseen:       "not_examined",
	stRootRequired: "root_required",
	stInTree:       "in_tree",
	stClass:        "resource_class",
	stUnits:        "min_max_step",
	stCapacity:     "capacity",
	stMemberOf:     "member_of",
	stForbidden:    "forbidden_traits",
	stRequired:     "required_traits",
	stAnyOf:        "any_of_traits",
	stPassed:       "passed",
}

// groupStageOrder is the order group stages are reported in.
var groupStageOrder = []stage{stClass, stCapacity, stUnits, stRequired, stForbidden, stAnyOf, stMemberOf, stInTree, stRootRequired}

// treeStage is what became of a tree (an anchor) in the search.
type treeStage uint8

const (
	tsNone         treeStage = iota
	tsIsolate                // every combination broke group_policy=isolate
	tsCapacity               // ... or the capacity of the consolidated amounts
	tsSameSubtree            // ... or same_subtree
	tsRootRequired           // the root fails root_required
	tsGroupUnmet             // some group has no provider under the tree
	tsNested                 // before 1.29: one provider per tree
	tsSharing                // only sharing providers, already listed under another tree
	tsStopped                // not examined: limit, cap or time budget reached first
	tsCandidates             // the tree gave candidates
	tsLimit                  // (providers) in a tree with candidates, cut by the limit or cap
	tsUnused                 // (providers) in a tree with candidates, in none of its combinations
)

var treeStageNames = [...]string{
	tsNone:         "none",
	tsIsolate:      "group_policy_isolate",
	tsCapacity:     "capacity_combined",
	tsSameSubtree:  "same_subtree",
	tsRootRequired: "root_required",
	tsGroupUnmet:   "group_unmet",
	tsNested:       "one_provider_per_tree",
	tsSharing:      "sharing_duplicate",
	tsStopped:      "limit_cap_or_budget",
	tsCandidates:   "candidates",
	tsLimit:        "limit_cap_or_budget",
	tsUnused:       "no_valid_combination",
}

// treeStageOrder is the order tree stages are reported in.
var treeStageOrder = []treeStage{tsGroupUnmet, tsRootRequired, tsIsolate, tsCapacity, tsSameSubtree, tsNested, tsSharing, tsUnused, tsStopped}

// The explanation's types are model's: the API answers them as they are
// and the client reads them back.
type (
	Explanation      = model.Explanation
	GroupExplanation = model.GroupExplanation
	StageCount       = model.StageCount
	ProviderRef      = model.ProviderRef
	Miss             = model.Miss
)

// ExplainExamples is how many example providers a stage lists.
const ExplainExamples = 3

// NearestMisses is how many nearest misses an explanation lists.
const NearestMisses = 5

// Explain runs the search of Candidates with every stage recording what it
// removes, and returns its answer (the same as Candidates would) with the
// explanation. It is not cut short by the selective-filter shortcut that
// picks anchor trees (every tree is examined), but it is by the limit, the
// cap and the budget, as the plain search is.
func (e *Engine) Explain(q query.Candidates, opts SearchOptions) (*Result, *Explanation, error) {
	return e.explain(q, opts, nil)
}

// explain is Explain; inspect, when set (tests), sees the recorder.
func (e *Engine) explain(q query.Candidates, opts SearchOptions, inspect func(*recorder)) (res *Result, ex *Explanation, err error) {
	err = e.withSearch(q, opts, func(s *search) {
		// Unknown in_tree and aggregates make the plain search give up
		// early; explained, the stages remove everything instead.
		s.empty = false
		for gi, g := range q.Groups {
			if g.InTree != "" && s.groups[gi].inTree == nil {
				s.groups[gi].noInTree = true
			}
		}
		s.rec = newRecorder(e, len(s.groups))
		s.rec.s = s
		res = s.run()
		ex = s.rec.explain(s, res)
		if inspect != nil {
			inspect(s.rec) // the test keeps it: not pooled
		} else {
			s.rec.release()
		}
		s.rec = nil
	})
	return res, ex, err
}

// recorder collects the verdicts of an explained search.
type recorder struct {
	e *Engine
	// status[g][p.idx] is the verdict on provider p for group g: the first
	// stage that removed it, or stPassed once it passed under any tree.
	status [][]stage
	// Per root (by idx): what became of the tree, the groups unmet, and
	// whether it yielded combinations (1) not all of sharing providers (2).
	tree  []treeStage
	unmet []uint64
	yield []uint8
	// The unsuffixed group under one tree: verdicts pending the
	// combinations (tmp by idx, for the providers touched).
	tmp          []stage
	touched      []*provider
	emptyVerdict stage
	// miss[g][root.idx] scores the tree for the unsuffixed group g, as
	// missUnsuffixed would (nil for granular groups), recorded by the
	// search (treeAt) for every tree it examines.
	miss [][]missCount
	// s is the search recorded (tests inspect it).
	s *search
	// The unsuffixed group under one tree, for the nearest misses: per
	// class, the furthest stage a provider reached (best) and the provider
	// that comes closest to supplying it (closest, its count and its
	// amount's own stage); over the classes, the sum (treeScore) and the
	// closest providers that have the class (used).
	best        stage
	closest     *provider
	closestMiss missCount
	closestAst  stage
	treeScore   missCount
	used        []*provider
}

// startClass begins one class of the unsuffixed group under a tree.
func (r *recorder) startClass() {
	r.best, r.closest = stUnseen, nil
}

// pair records the verdict st of treeAt on p for one class (amount am) of
// the unsuffixed group, and scores p for the nearest misses from its
// inventory in (looked up here unless judged: pairStage ran on it).
func (r *recorder) pair(g *resolvedGroup, p *provider, in *inv, judged bool, st stage, am amount, hasAggs, anchorInAggs bool) {
	r.pending(p, st)
	r.best = max(r.best, st)
	// The amount's own stage: st when pairStage stopped at it.
	ast := st
	switch {
	case !judged:
		in = p.inventory(am.class)
		ast = amountStage(in, am.n)
	case st > stCapacity:
		ast = stPassed
	}
	if x := classMiss(g, p, in, am.n, ast, anchorInAggs, hasAggs); r.closest == nil || x.less(r.closestMiss) {
		r.closestMiss, r.closest, r.closestAst = x, p, ast
	}
}

// endClass adds the closest provider of one class to the tree's score
// (missUnsuffixed's rule: a class no provider of the tree has counts once,
// for its whole amount).
func (r *recorder) endClass(am amount) {
	switch {
	case r.closest == nil:
	case r.closestAst == stClass:
		r.treeScore.n++
		r.treeScore.short += am.n
	default:
		r.treeScore.n += r.closestMiss.n
		r.treeScore.short += r.closestMiss.short
		r.used = append(r.used, r.closest)
	}
}

// endGroup records the score of the unsuffixed group gi under the tree of
// a (tree: its providers): the classes' closest providers plus the
// required trait sets none of them has (the tree's providers when the
// group asks for no resources). With partial set the search stopped at a
// class no provider supplies before judging them all: the score of the
// classes judged is recorded as a lower bound (missCount.bound), which
// the nearest misses complete only for the trees that can make the list.
func (r *recorder) endGroup(gi int, g *resolvedGroup, a *provider, tree []*provider, partial bool) {
	m := r.treeScore
	if partial {
		m.bound = true
	} else {
		used := r.used
		if len(g.amounts) == 0 {
			used = tree
		}
		m.n += unmetTraitSets(g, used)
	}
	r.treeMiss(gi, a, m)
	r.treeScore, r.used = missCount{}, r.used[:0]
}

// missCount is a missScore without the words: unmet requirements and
// shortfall. A recorded score with bound set is a lower bound of the
// tree's (the classes after the first one no provider supplies are not
// scored).
type missCount struct {
	n     int
	short int64
	bound bool
}

func (m missCount) less(o missCount) bool {
	return m.n < o.n || m.n == o.n && m.short < o.short
}

// treeMiss records the score of the tree of a for the unsuffixed group gi.
func (r *recorder) treeMiss(gi int, a *provider, m missCount) {
	if len(r.miss[gi]) == 0 {
		r.miss[gi] = resize(r.miss[gi], len(r.tree))
	}
	r.miss[gi][a.idx] = m
}

// classMiss counts what p (with inventory in of the class, nil: none)
// misses to supply n of a class in the unsuffixed group: what
// missClass(words=false) counts, without looking the inventory up again.
// st is amountStage(in, n).
func classMiss(g *resolvedGroup, p *provider, in *inv, n int64, st stage, anchorOK, hasAggs bool) missCount {
	var m missCount
	if st != stPassed {
		m = missCount{n: 1, short: n}
		if st == stCapacity {
			m.short = n - in.Free()
		}
	}
	if hasAggs {
		if !anchorOK {
			for _, set := range g.aggs.allOf {
				ok := false
				for _, id := range set {
					if p.inAgg(id) {
						ok = true
						break
					}
				}
				if !ok {
					m.n++
				}
			}
		}
		for _, f := range g.aggs.forbidden {
			if p.inAgg(f) {
				m.n++
			}
		}
	}
	for _, f := range g.traits.forbidden {
		if p.hasTrait(f) {
			m.n++
		}
	}
	return m
}

// unmetTraitSets counts the required trait sets none of used has a trait
// of.
func unmetTraitSets(g *resolvedGroup, used []*provider) int {
	n := 0
	for _, set := range g.traits.allOf {
		ok := false
		for _, p := range used {
			if hasAnyTrait(p, set) {
				ok = true
				break
			}
		}
		if !ok {
			n++
		}
	}
	return n
}

// recorderPool keeps recorders between explained searches: a recorder
// holds a few slices the size of the cloud per group, which would
// otherwise be allocated (and collected) for every query.
var recorderPool sync.Pool

// newRecorder returns a cleared recorder for a search of groups groups on
// e, from the pool when one is there.
func newRecorder(e *Engine, groups int) *recorder {
	n := len(e.ordered)
	r, _ := recorderPool.Get().(*recorder)
	if r == nil {
		r = &recorder{}
	}
	*r = recorder{e: e, status: rows(r.status, groups), tree: resize(r.tree, n),
		unmet: resize(r.unmet, n), yield: resize(r.yield, n), tmp: resize(r.tmp, n),
		touched: r.touched[:0], miss: rows(r.miss, groups), used: r.used[:0]}
	for i := range r.status {
		r.status[i] = resize(r.status[i], n)
	}
	for i := range r.miss {
		r.miss[i] = r.miss[i][:0] // sized and cleared by treeMiss if used
	}
	return r
}

// rows returns n rows, reusing buf's rows (and their storage) when there
// are enough: unlike resize it keeps what the rows hold, for the caller to
// clear.
func rows[T any](buf [][]T, n int) [][]T {
	if cap(buf) < n {
		grown := make([][]T, n)
		copy(grown, buf)
		return grown
	}
	return buf[:n]
}

// release returns r to the pool (nothing may use it after).
func (r *recorder) release() {
	r.e, r.s = nil, nil
	recorderPool.Put(r)
}

// resize returns a zeroed slice of n elements, reusing buf's storage when
// it is large enough.
func resize[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// judge records the verdict st on p for group gi: the first removal
// stands unless p passes under another tree.
func (r *recorder) judge(gi int, p *provider, st stage) {
	if cur := &r.status[gi][p.idx]; *cur == stUnseen || st == stPassed {
		*cur = st
	}
}

func (r *recorder) judgeAll(gi int, ps []*provider, st stage) {
	for _, p := range ps {
		r.judge(gi, p, st)
	}
}

// rootRejected records a tree whose root fails root_required.
func (r *recorder) rootRejected(a *provider, tree []*provider) {
	for gi := range r.status {
		r.judgeAll(gi, tree, stRootRequired)
	}
	r.tree[a.idx] = tsRootRequired
}

// groupsUnmet records a tree where the groups of mask have no partial.
func (r *recorder) groupsUnmet(a *provider, mask uint64) {
	r.tree[a.idx] = tsGroupUnmet
	r.unmet[a.idx] = mask
}

// exhausted records a tree whose combinations were all pruned.
func (r *recorder) exhausted(a *provider, pruned uint16) {
	st := tsGroupUnmet
	for _, t := range []treeStage{tsIsolate, tsCapacity, tsSameSubtree} {
		if pruned&(1<<t) != 0 {
			st = t
			break
		}
	}
	if r.tree[a.idx] == tsNone {
		r.tree[a.idx] = st
	}
}

// yielded records a combination generated under a.
func (r *recorder) yielded(a *provider, combo []*partial) {
	r.yield[a.idx] |= 1
	for _, pt := range combo {
		if !pt.sharingOnly {
			r.yield[a.idx] |= 2
			return
		}
	}
}

// startTree begins the unsuffixed group under one tree.
func (r *recorder) startTree() {
	for _, p := range r.touched {
		r.tmp[p.idx] = stUnseen
	}
	r.touched = r.touched[:0]
	r.emptyVerdict = stUnseen
}

// pending notes that p reached st for one class of the unsuffixed group
// (the furthest over its classes counts).
func (r *recorder) pending(p *provider, st stage) {
	if r.tmp[p.idx] == stUnseen {
		r.touched = append(r.touched, p)
	}
	r.tmp[p.idx] = max(r.tmp[p.idx], st)
}

func (r *recorder) pendingAll(ps []*provider) {
	for _, p := range ps {
		r.pending(p, stPassed)
	}
}

// verdict records the traits stage of one combination of the unsuffixed
// group on the providers used together (none: a resourceless group).
func (r *recorder) verdict(gi int, provs []*provider, st stage) {
	if len(provs) == 0 {
		if r.emptyVerdict == stUnseen || st == stPassed {
			r.emptyVerdict = st
		}
		return
	}
	r.judgeAll(gi, provs, st)
}

// settle closes the unsuffixed group under one tree: providers that
// passed no class keep their furthest stage; those that did are removed
// at missing (a class no provider supplies) when set, else judged by the
// combinations (verdict).
func (r *recorder) settle(gi int, missing stage) {
	for _, p := range r.touched {
		switch t := r.tmp[p.idx]; {
		case t != stPassed:
			r.judge(gi, p, t)
		case missing != stUnseen:
			r.judge(gi, p, missing)
		case r.emptyVerdict != stUnseen:
			r.judge(gi, p, r.emptyVerdict)
		}
	}
	r.startTree()
}

// explain turns the verdicts into counts once the search is over.
func (r *recorder) explain(s *search, res *Result) *Explanation {
	e := r.e
	ex := &Explanation{Providers: len(e.ordered), Trees: len(e.roots), Candidates: len(res.Requests),
		Generated: s.stats.Candidates, Limited: s.limited, Capped: s.capped, OutOfTime: s.outOfTime}
	for _, combo := range s.results {
		r.tree[combo[0].anchor.idx] = tsCandidates
	}
	for _, root := range e.roots {
		t := &r.tree[root.idx]
		if *t == tsNone {
			switch y := r.yield[root.idx]; {
			case y&2 != 0:
				*t = tsNested
			case y&1 != 0:
				*t = tsSharing
			default:
				*t = tsStopped
			}
		}
	}
	trees := newCounter(len(treeStageNames))
	for _, root := range e.roots {
		if t := r.tree[root.idx]; t == tsCandidates {
			ex.TreesWithCandidates++
		} else {
			trees.add(int(t), root)
		}
	}
	ex.TreeStages = list(trees, treeStageOrder, func(t treeStage) string { return treeStageNames[t] })

	// The providers of each group in the candidates returned.
	suffix := map[string]int{}
	for gi, g := range s.groups {
		suffix[g.suffix] = gi
	}
	inCand := make([][]bool, len(s.groups))
	for gi := range inCand {
		if len(res.Requests) > 0 { // else none: nil
			inCand[gi] = make([]bool, len(e.ordered))
		}
	}
	for _, req := range res.Requests {
		for _, m := range req.Mappings {
			gi, ok := suffix[m.Suffix]
			if !ok {
				continue
			}
			for _, u := range m.Providers {
				if p := e.byUUID[u]; p != nil {
					inCand[gi][p.idx] = true
				}
			}
		}
	}
	cut := s.limited || s.capped || s.outOfTime || len(res.Requests) < s.stats.Candidates
	for gi, g := range s.groups {
		ge := GroupExplanation{Suffix: g.suffix, Providers: len(e.ordered)}
		stages := newCounter(len(stageNames))
		tstages := newCounter(len(treeStageNames))
		// By index (p.idx == i): most providers are counted without
		// reading the provider itself.
		in := inCand[gi]
		for i, st := range r.status[gi] {
			switch {
			case in != nil && in[i]:
				ge.InCandidates++
				ge.Passed++
			case st == stUnseen:
				ge.NotExamined++
			case st != stPassed:
				stages.add(int(st), e.ordered[i])
			default:
				p := e.ordered[i]
				ge.Passed++
				t := r.tree[p.root.idx]
				if t == tsCandidates {
					t = tsUnused
					if cut {
						t = tsLimit
					}
				}
				tstages.add(int(t), p)
			}
		}
		ge.Stages = list(stages, groupStageOrder, func(st stage) string { return stageNames[st] })
		ge.TreeStages = list(tstages, treeStageOrder, func(t treeStage) string { return treeStageNames[t] })
		// tsLimit shares its name with tsStopped: fold it in.
		if n := tstages.n[tsLimit]; n > 0 {
			ge.TreeStages = foldInto(ge.TreeStages, treeStageNames[tsLimit], n, tstages.ex[tsLimit])
		}
		ex.Groups = append(ex.Groups, ge)
	}
	ex.NearestMisses = s.nearestMisses(r)
	return ex
}

// counter counts providers per stage with a few examples.
type counter struct {
	n  []int
	ex [][]ProviderRef
}

func newCounter(stages int) *counter {
	return &counter{n: make([]int, stages), ex: make([][]ProviderRef, stages)}
}

func (c *counter) add(st int, p *provider) {
	c.n[st]++
	if len(c.ex[st]) < ExplainExamples {
		c.ex[st] = append(c.ex[st], ProviderRef{UUID: p.UUID, Name: p.Name})
	}
}

// list reports every stage of order, in that order (zero counts included,
// so that an answer always has the same rows).
func list[S ~uint8](c *counter, order []S, name func(S) string) []StageCount {
	out := make([]StageCount, 0, len(order))
	for _, st := range order {
		ex := c.ex[st]
		if ex == nil {
			ex = []ProviderRef{}
		}
		out = append(out, StageCount{Stage: name(st), Removed: c.n[st], Examples: ex})
	}
	return out
}

// foldInto adds n providers (and examples) to the row named name.
func foldInto(rows []StageCount, name string, n int, ex []ProviderRef) []StageCount {
	for i := range rows {
		if rows[i].Stage == name {
			rows[i].Removed += n
			for _, x := range ex {
				if len(rows[i].Examples) < ExplainExamples {
					rows[i].Examples = append(rows[i].Examples, x)
				}
			}
		}
	}
	return rows
}

// Nearest misses. A tree that gave no candidate (and was examined) is
// scored by how many requirements it misses and by how much: a tree
// removed by root_required misses each root trait requirement it fails;
// one where groups found no provider misses, per such group, the
// requirements of the provider of the tree (or shared with it) that came
// closest to serving it alone (granular group) or, per class, of the
// closest provider for that class plus the required traits none of those
// has (unsuffixed group); a tree removed at tree level (isolate, combined
// capacity, same_subtree, one provider per tree, sharing) misses one
// requirement. Closest = fewest unmet requirements, then the smallest
// shortfall (the amounts missing, summed over classes: what the closest
// provider lacks of its capacity, or the whole amount when it has no
// inventory of the class or the amount breaks its min/max/step), then id
// order.

// missScore is an unmet-requirements count, a shortfall and the words.
type missScore struct {
	n     int
	short int64
	words []string
}

func (m *missScore) add(o missScore) {
	m.n += o.n
	m.short += o.short
	m.words = append(m.words, o.words...)
}

func (m *missScore) miss(words bool, format string, args ...any) {
	m.n++
	if words {
		m.words = append(m.words, fmt.Sprintf(format, args...))
	}
}

func (m missScore) less(o missScore) bool {
	return m.n < o.n || m.n == o.n && m.short < o.short
}

// Trees are taken in id order and the K best kept in order; the search
// has already scored every tree for the unsuffixed group (recorder.miss),
// so a tree's lower bound (that score plus one per unmet granular group)
// is known without a pass over the tree, and only the trees whose bound
// can beat the K-th best are scored further.
func (s *search) nearestMisses(r *recorder) []Miss {
	type scored struct {
		root  *provider
		score missCount
	}
	var bestBuf [NearestMisses]scored
	best := bestBuf[:0] // the K best so far, closest first
	better := func(a missCount, aID int64, b scored) bool {
		return a.less(b.score) || !b.score.less(a) && aID < b.root.ID
	}
	for _, root := range s.e.roots {
		switch r.tree[root.idx] {
		case tsCandidates, tsStopped, tsNone:
			continue
		}
		if len(best) == NearestMisses && !better(s.missBound(r, root), root.ID, best[len(best)-1]) {
			continue
		}
		x := scored{root: root, score: s.missCount(r, root)}
		i := len(best)
		for i > 0 && better(x.score, x.root.ID, best[i-1]) {
			i--
		}
		if i < NearestMisses {
			if len(best) < NearestMisses {
				best = best[:len(best)+1]
			}
			copy(best[i+1:], best[i:len(best)-1])
			best[i] = x
		}
	}
	out := []Miss{}
	for _, x := range best {
		sc := s.missOf(r, x.root, true)
		out = append(out, Miss{Root: ProviderRef{UUID: x.root.UUID, Name: x.root.Name},
			Stage: treeStageNames[r.tree[x.root.idx]], Unmet: sc.words, Shortfall: sc.short})
	}
	return out
}

// missBound is a lower bound of missCount: for a tree where groups are
// unmet, the unsuffixed group's recorded score plus one per unmet granular
// group; otherwise the score itself (cheap: no pass over the tree).
func (s *search) missBound(r *recorder, root *provider) missCount {
	if r.tree[root.idx] != tsGroupUnmet {
		return s.missCount(r, root)
	}
	var m missCount
	for gi := range s.groups {
		if r.unmet[root.idx]&(1<<min(gi, 63)) == 0 {
			continue
		}
		if len(r.miss[gi]) > 0 && !s.groups[gi].granular {
			m.n += r.miss[gi][root.idx].n
			m.short += r.miss[gi][root.idx].short
		} else {
			m.n++
		}
	}
	return m
}

// missCount scores one tree that gave no candidate, as missOf does
// without words, taking the unsuffixed group's score from the recorder.
func (s *search) missCount(r *recorder, root *provider) missCount {
	if r.tree[root.idx] != tsGroupUnmet {
		m := s.missOf(r, root, false)
		return missCount{n: m.n, short: m.short}
	}
	var m missCount
	var tree, shared []*provider
	for gi := range s.groups {
		if r.unmet[root.idx]&(1<<min(gi, 63)) == 0 {
			continue
		}
		g := &s.groups[gi]
		if len(r.miss[gi]) > 0 && !g.granular && !r.miss[gi][root.idx].bound {
			m.n += r.miss[gi][root.idx].n
			m.short += r.miss[gi][root.idx].short
			continue
		}
		if tree == nil {
			s.treeBuf = appendTree(s.treeBuf[:0], root)
			tree, shared = s.treeBuf, s.e.sharedWith[root]
		}
		var gm missScore
		if g.granular {
			gm = s.missGranular(gi, g, root, tree, shared, false)
		} else {
			gm = s.missUnsuffixed(gi, g, root, tree, shared, false)
		}
		m.n += gm.n
		m.short += gm.short
	}
	return m
}

// missOf scores one tree that gave no candidate.
func (s *search) missOf(r *recorder, root *provider, words bool) missScore {
	var m missScore
	switch t := r.tree[root.idx]; t {
	case tsRootRequired:
		for _, f := range s.root.forbidden {
			if root.hasTrait(f) {
				m.miss(words, "root %s has forbidden trait %s", root.Name, s.e.traitNames[f])
			}
		}
		for _, set := range s.root.allOf {
			if !hasAnyTrait(root, set) {
				m.miss(words, "root %s lacks trait %s", root.Name, s.traitList(set))
			}
		}
		if root.ParentID != 0 {
			m.miss(words, "%s is not a root", root.Name)
		}
	case tsGroupUnmet:
		s.treeBuf = appendTree(s.treeBuf[:0], root)
		tree := s.treeBuf
		shared := s.e.sharedWith[root]
		for gi := range s.groups {
			if r.unmet[root.idx]&(1<<min(gi, 63)) == 0 {
				continue
			}
			g := &s.groups[gi]
			var gm missScore
			if g.granular {
				gm = s.missGranular(gi, g, root, tree, shared, words)
			} else {
				gm = s.missUnsuffixed(gi, g, root, tree, shared, words)
			}
			if words {
				for i, w := range gm.words {
					gm.words[i] = groupLabel(g) + ": " + w
				}
			}
			m.add(gm)
		}
	case tsIsolate, tsCapacity, tsSameSubtree:
		if !words {
			m.n++
			break
		}
		w := treeStageWords[t]
		if d := s.treeLevelMiss(root, t); d != "" {
			w += ": " + d
		}
		m.miss(words, "%s", w)
	default:
		m.miss(words, "%s", treeStageWords[t])
	}
	return m
}

// treeLevelMiss words, for a tree that tree stage t removed, the first
// combination of its groups' partial solutions t rejects, naming the
// groups, providers and class concerned ("" if none is found). It runs
// after the search, for the few nearest misses only: the tree's partial
// solutions are computed again without the recorder.
func (s *search) treeLevelMiss(root *provider, t treeStage) string {
	rec, stats := s.rec, s.stats
	s.rec = nil
	lists, ok := s.anchorPartials(root)
	s.rec, s.stats = rec, stats
	if !ok {
		return ""
	}
	prefix := make([]*partial, 0, len(lists))
	words, steps := "", 0
	var walk func(d int) bool
	walk = func(d int) bool {
		if d == len(lists) {
			return false
		}
		for _, pt := range lists[d] {
			if steps++; steps > 10000 {
				return true // enough: keep the generic words
			}
			switch s.prefixStage(prefix, pt, d) {
			case tsNone:
				prefix = append(prefix, pt)
				if walk(d + 1) {
					return true
				}
				prefix = prefix[:d]
			case t:
				words = s.prefixWords(prefix, pt, d, t)
				return true
			}
		}
		return false
	}
	walk(0)
	return words
}

// prefixWords says why tree stage t rejects adding pt at depth d to
// prefix (prefixStage's checks, in words).
func (s *search) prefixWords(prefix []*partial, pt *partial, d int, t treeStage) string {
	g := &s.groups[d]
	switch t {
	case tsIsolate:
		mine := pt.provs[0]
		for i, other := range prefix {
			if s.groups[i].granular && other.provs[0] == mine {
				return fmt.Sprintf("%s and %s both on %s", groupLabel(&s.groups[i]), groupLabel(g), mine.Name)
			}
		}
	case tsCapacity:
		for _, a := range pt.allocs {
			sum := consolidated(prefix, a)
			if sum == a.amount || a.in.CanAllocateCombined(sum) {
				continue
			}
			class := s.e.classNames[a.in.class]
			if sum > a.in.MaxUnit {
				return fmt.Sprintf("%s: the groups together need %d on %s, above its max_unit %d", class, sum, a.p.Name, a.in.MaxUnit)
			}
			free := a.in.Free()
			return fmt.Sprintf("%s: the groups together need %d, %d free on %s", class, sum, free, a.p.Name)
		}
	case tsSameSubtree:
		for _, si := range s.subAt[d] {
			if s.sameSubtree(s.subs[si], prefix, pt, d) {
				continue
			}
			var labels, names []string
			for _, gi := range s.subs[si] {
				part := pt
				if gi != d {
					part = prefix[gi]
				}
				labels = append(labels, groupLabel(&s.groups[gi]))
				for _, p := range part.provs {
					if !slices.Contains(names, p.Name) {
						names = append(names, p.Name)
					}
				}
			}
			return fmt.Sprintf("%s are on %s, none of them above the others", strings.Join(labels, ", "), strings.Join(names, ", "))
		}
	}
	return ""
}

// treeStageWords say what a tree-level stage means for one tree.
var treeStageWords = map[treeStage]string{
	tsIsolate:     "every group is met, but not each by a provider of its own (group_policy=isolate)",
	tsCapacity:    "every group is met alone, but not all together: a provider lacks capacity for the groups combined",
	tsSameSubtree: "every group is met, but not under one subtree (same_subtree)",
	tsNested:      "the groups need several providers of one tree (before microversion 1.29)",
	tsSharing:     "served by sharing providers alone, already listed under another tree",
}

func groupLabel(g *resolvedGroup) string {
	if g.suffix == "" {
		return "unsuffixed group"
	}
	return "group " + g.suffix
}

func hasAnyTrait(p *provider, set []traitID) bool {
	for _, t := range set {
		if p.hasTrait(t) {
			return true
		}
	}
	return false
}

// traitList words a required set: "X" or "any of X, Y".
func (s *search) traitList(set []traitID) string {
	names := make([]string, len(set))
	for i, t := range set {
		names[i] = s.e.traitNames[t]
	}
	if len(names) == 1 {
		return names[0]
	}
	return "any of " + strings.Join(names, ", ")
}

// missGranular: the provider of the tree, or shared with it, that misses
// fewest of the group's requirements.
func (s *search) missGranular(gi int, g *resolvedGroup, root *provider, tree, shared []*provider, words bool) missScore {
	var best missScore
	var bestP *provider
	try := func(p *provider) {
		m := s.missAlone(gi, g, p, false)
		if bestP == nil || m.less(best) {
			best, bestP = m, p
		}
	}
	for _, p := range tree {
		try(p)
	}
	for _, p := range shared {
		if p.root != root {
			try(p)
		}
	}
	if bestP == nil {
		return missScore{n: 1, words: []string{"no provider"}}
	}
	if words {
		best = s.missAlone(gi, g, bestP, true)
	}
	return best
}

// missAlone lists every requirement of a granular group p fails.
func (s *search) missAlone(gi int, g *resolvedGroup, p *provider, words bool) missScore {
	var m missScore
	qg := s.q.Groups[gi]
	if g.noInTree {
		m.miss(words, "in_tree %s names no provider", qg.InTree)
	} else if g.inTree != nil && p.root != g.inTree {
		m.miss(words, "%s is not in the tree of %s", p.Name, qg.InTree)
	}
	for _, f := range g.traits.forbidden {
		if p.hasTrait(f) {
			m.miss(words, "%s has forbidden trait %s", p.Name, s.e.traitNames[f])
		}
	}
	for _, set := range g.traits.allOf {
		if !hasAnyTrait(p, set) {
			m.miss(words, "%s lacks trait %s", p.Name, s.traitList(set))
		}
	}
	s.missAggs(&m, gi, g, p, false, words)
	for _, am := range g.amounts {
		m.add(s.missAmount(p, am, words))
	}
	if len(g.amounts) == 0 && len(g.traits.allOf) == 0 && len(g.aggs.allOf) == 0 {
		m.miss(words, "the group asks for nothing a provider could match")
	}
	return m
}

// missAggs adds the member_of requirements p fails (anchorOK: the tree's
// root already is in the required aggregates).
func (s *search) missAggs(m *missScore, gi int, g *resolvedGroup, p *provider, anchorOK, words bool) {
	qg := s.q.Groups[gi]
	if !anchorOK {
		for i, set := range g.aggs.allOf {
			ok := false
			for _, id := range set {
				if p.inAgg(id) {
					ok = true
				}
			}
			if !ok {
				m.miss(words, "%s is not in aggregate %s", p.Name, strings.Join(qg.MemberOf.AllOf[i], " or "))
			}
		}
	}
	for _, f := range g.aggs.forbidden {
		if p.inAgg(f) {
			m.miss(words, "%s is in forbidden aggregate %s", p.Name, s.e.aggUUIDs[f])
		}
	}
}

// missAmount scores (and, with words, words) an amount p cannot supply.
// Scoring alone formats nothing: it runs for every provider of every tree
// that missed.
func (s *search) missAmount(p *provider, am amount, words bool) missScore {
	in := p.inventory(am.class)
	st := amountStage(in, am.n)
	if st == stPassed {
		return missScore{}
	}
	m := missScore{n: 1, short: am.n}
	var free int64
	if st == stCapacity {
		free = in.Free()
		m.short = am.n - free
	}
	if !words {
		return m
	}
	class := s.e.classNames[am.class]
	switch st {
	case stClass:
		m.words = append(m.words, fmt.Sprintf("%s: %s has none", class, p.Name))
	case stUnits:
		m.words = append(m.words, fmt.Sprintf("%s: %d is not allowed on %s (min_unit %d, max_unit %d, step_size %d)",
			class, am.n, p.Name, in.MinUnit, in.MaxUnit, in.StepSize))
	default:
		m.words = append(m.words, fmt.Sprintf("%s: needs %d, %d free on %s", class, am.n, free, p.Name))
	}
	return m
}

// missClass scores what p misses to supply am in the unsuffixed group:
// the amount, member_of (unless the root is in the aggregates) and
// forbidden traits.
func (s *search) missClass(gi int, g *resolvedGroup, p *provider, am amount, anchorOK, hasAggs, words bool) missScore {
	x := s.missAmount(p, am, words)
	if hasAggs {
		s.missAggs(&x, gi, g, p, anchorOK, words)
	}
	for _, f := range g.traits.forbidden {
		if p.hasTrait(f) {
			x.miss(words, "%s has forbidden trait %s", p.Name, s.e.traitNames[f])
		}
	}
	return x
}

// missUnsuffixed: per class, the provider of the tree (or shared with it)
// that comes closest to supplying it, then the required traits none of
// those providers has.
func (s *search) missUnsuffixed(gi int, g *resolvedGroup, root *provider, tree, shared []*provider, words bool) missScore {
	var m missScore
	qg := s.q.Groups[gi]
	if g.noInTree {
		m.miss(words, "in_tree %s names no provider", qg.InTree)
		return m
	}
	if g.inTree != nil && root != g.inTree {
		m.miss(words, "tree %s is not the tree of %s", root.Name, qg.InTree)
		return m
	}
	hasAggs := !g.aggs.empty()
	anchorOK := hasAggs && g.aggs.requiredOK(root)
	if hasAggs && len(g.amounts) > 0 && g.aggs.forbiddenHit(root) {
		m.miss(words, "root %s is in a forbidden aggregate", root.Name)
		return m
	}
	var usedBuf [8]*provider
	used := usedBuf[:0]
	for _, am := range g.amounts {
		var best missScore
		var bestP *provider
		for i, n := 0, len(tree); i < n+len(shared); i++ {
			var p *provider
			if i < n {
				p = tree[i]
			} else if g.inTree == nil {
				p = shared[i-n]
			} else {
				break
			}
			if x := s.missClass(gi, g, p, am, anchorOK, hasAggs, false); bestP == nil || x.less(best) {
				best, bestP = x, p
			}
		}
		if amountStage(bestP.inventory(am.class), am.n) == stClass {
			m.short += am.n
			m.miss(words, "%s: no provider of the tree has it", s.e.classNames[am.class])
			continue
		}
		if words {
			best = s.missClass(gi, g, bestP, am, anchorOK, hasAggs, true)
		}
		m.add(best)
		used = append(used, bestP)
	}
	if len(g.amounts) == 0 {
		used = tree
	}
	for _, set := range g.traits.allOf {
		ok := false
		for _, p := range used {
			if hasAnyTrait(p, set) {
				ok = true
			}
		}
		if !ok {
			m.miss(words, "the providers used lack trait %s", s.traitList(set))
		}
	}
	return m
}
