package engine

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"allot/internal/model"
	"allot/internal/query"
)

// SearchOptions bound and order a candidate search.
type SearchOptions struct {
	// MaxCandidates caps how many candidates are generated (<= 0: no cap).
	MaxCandidates int
	// Budget caps the time spent generating (0: no budget).
	Budget time.Duration
	// Randomize samples the limit at random (and shuffles the result)
	// instead of taking the first candidates in the deterministic order:
	// the same as Order = OrderRandom.
	Randomize bool
	// Order ranks candidates before the limit applies (see rank.go).
	Order Order
	// Prefer ranks trees meeting soft constraints first, by weight (see
	// rank.go).
	Prefer []Preference
	// Seed makes a randomized search repeatable (0: a random seed).
	Seed uint64
	// Done, when closed, stops the search as the budget does (a request's
	// context: its deadline passed or its client left).
	Done <-chan struct{}
	// trace, when set (by tests), sees the anchor and round of every
	// candidate kept, in generation order.
	trace func(anchor *provider, round int)
}

// Result is the answer to a candidates query.
type Result struct {
	Requests  []Request
	Summaries []Summary
	// Truncated is set when the cap or the time budget stopped generation;
	// Capped when it was the cap.
	Truncated, Capped bool
	// Stats explain the search.
	Stats Stats
	// arena holds Requests and Summaries until Release.
	arena *resultArena
}

// Request is one allocation request: the consolidated amounts per provider
// and which providers satisfied which group.
type Request struct {
	Allocations []ProviderAmounts
	Mappings    []Mapping
}

// ProviderAmounts is what one request takes from one provider.
type ProviderAmounts struct {
	UUID    string
	Amounts []ClassAmount
}

// ClassAmount is an amount of one class.
type ClassAmount struct {
	Class  string
	Amount int64
}

// Mapping names the providers that satisfied one request group.
type Mapping struct {
	Suffix    string
	Providers []string
}

// Summary describes a provider of a tree involved in the result.
type Summary struct {
	UUID       string
	ParentUUID string
	RootUUID   string
	Resources  []SummaryResource
	Traits     []string
	// Version identifies the summary's content: it is fresh after every
	// change of the provider and unique in the process (never reused, not
	// even by another Engine), so a renderer may key what it derived from
	// the summary by it. Zero means unversioned (keep nothing).
	Version uint64
}

// summaryVersions numbers provider contents for Summary.Version, across
// every Engine of the process.
var summaryVersions atomic.Uint64

// SummaryResource is a provider's capacity and usage of one class.
type SummaryResource struct {
	Class    string
	Capacity int64
	Used     int64
}

// Stats count what the search looked at.
type Stats struct {
	Roots      int // roots tested against the class masks (no selective filter)
	Anchors    int // trees that could satisfy every group
	Partials   int // per-group partial solutions
	Steps      int // search steps
	Candidates int // candidates generated before the limit
}

// resolvedGroup is a request group with names resolved to ids.
type resolvedGroup struct {
	suffix     string
	granular   bool
	amounts    []amount
	traits     traitSet
	aggs       aggSet
	inTree     *provider // the root of the in_tree provider, or nil
	noInTree   bool      // in_tree named an unknown provider
	allSharing bool      // filled during the search
}

// partial is one way to satisfy one group under one anchor tree.
type partial struct {
	anchor *provider
	allocs []palloc
	provs  []*provider // providers mapped to the group
	// sharingOnly is set when every provider of the partial is a sharing
	// provider (such a partial may repeat under several anchors).
	sharingOnly bool
	// foreign is set when a provider of the partial is outside the anchor's
	// tree (a sharing provider serving it).
	foreign bool
}

type palloc struct {
	p      *provider
	in     *inv
	amount int64
}

// errUnknownClassCandidates and errUnknownTraitsCandidates word unknown
// names as GET /allocation_candidates does.
func errUnknownClassCandidates(name string) error {
	return model.BadRequest("Invalid resource class in resources parameter: No such resource class %s.", name)
}

func errUnknownTraitsCandidates(names []string) error {
	return model.BadRequest("No such trait(s): %s.", sortedNames(names))
}

// Candidates answers GET /allocation_candidates over the index.
func (e *Engine) Candidates(q query.Candidates, opts SearchOptions) (res *Result, err error) {
	err = e.withSearch(q, opts, func(s *search) { res = s.run() })
	return res, err
}

// withSearch runs fn on a resolved search of q under the index's read
// lock, with recycled working memory; a query naming unknown classes or
// traits is the error, and fn does not run.
func (e *Engine) withSearch(q query.Candidates, opts SearchOptions, fn func(*search)) error {
	e.rlockPrepared()
	defer e.mu.RUnlock()
	sc := scratchPool.Get().(*scratch)
	sc.passMarks = passMarksFree.get()
	defer func() {
		sc.reset()
		passMarksFree.put(sc.passMarks)
		sc.passMarks = nil
		scratchPool.Put(sc)
	}()
	s := &search{e: e, q: q, opts: opts, start: time.Now(), scratch: sc}
	if err := s.resolve(); err != nil {
		return err
	}
	fn(s)
	return nil
}

// scratch is the memory a search uses internally, recycled between
// searches (nothing in a Result points into it).
type scratch struct {
	partSlab    slab[partial]
	pallocs     slab[palloc]
	provs       slab[*provider]
	combos      slab[*partial]
	partPtrs    slab[*partial]
	lists       slab[[]*partial]
	partBuf     []*partial
	treeBuf     []*provider
	pairScratch [][]pair
	pairLists   [][]pair
	choice      []pair
	// Buffers of the last stages: results, anchor iterators, rendering.
	results      [][]*partial
	iterSlab     slab[anchorIter]
	ints         slab[int]
	iters        []*anchorIter
	deferred     []*anchorIter
	deferredC    [][]*partial
	anchorBuf    []*provider
	unionBuf     []*provider
	consolidated []palloc
	renderRoots  []*provider
	renderProvs  []*provider
	// Ranking: anchors with their keys, preferences met.
	rankBuf  []rankedAnchor
	prefMet  []bool
	shareBuf []int64
	// seenCombos holds the keys of the sharing-only candidates kept.
	seenCombos map[string]bool
	// The marks of the current pass, lent by passMarksFree for the
	// search.
	*passMarks
}

// newPass starts a fresh "seen" pass over n providers.
func (sc *scratch) newPass(n int) {
	if len(sc.marks) < n {
		// Room to spare, so that providers created one by one do not
		// reallocate the marks at every search.
		sc.marks = make([]uint32, n+n/8+64)
		sc.epoch = 0
	}
	sc.epoch++
	if sc.epoch == 0 {
		clear(sc.marks)
		sc.epoch = 1
	}
}

// see marks p and reports whether it was already seen in this pass.
func (sc *scratch) see(p *provider) bool {
	if sc.marks[p.idx] == sc.epoch {
		return true
	}
	sc.marks[p.idx] = sc.epoch
	return false
}

func (sc *scratch) reset() {
	sc.partSlab.reset()
	sc.pallocs.reset()
	sc.provs.reset()
	sc.combos.reset()
	sc.partPtrs.reset()
	sc.lists.reset()
	clear(sc.partBuf[:cap(sc.partBuf)])
	sc.partBuf = sc.partBuf[:0]
	clear(sc.treeBuf[:cap(sc.treeBuf)])
	sc.treeBuf = sc.treeBuf[:0]
	for i := range sc.pairScratch {
		clear(sc.pairScratch[i][:cap(sc.pairScratch[i])])
	}
	sc.iterSlab.reset()
	sc.ints.reset()
	sc.results = clearSlice(sc.results)
	sc.iters = clearSlice(sc.iters)
	sc.deferred = clearSlice(sc.deferred)
	sc.deferredC = clearSlice(sc.deferredC)
	sc.anchorBuf = clearSlice(sc.anchorBuf)
	sc.unionBuf = clearSlice(sc.unionBuf)
	sc.consolidated = clearSlice(sc.consolidated)
	sc.renderRoots = clearSlice(sc.renderRoots)
	sc.renderProvs = clearSlice(sc.renderProvs)
	sc.rankBuf = clearSlice(sc.rankBuf)
	clear(sc.seenCombos)
}

// clearSlice zeroes a reusable buffer up to its capacity (dropping its
// references for the garbage collector) and empties it.
func clearSlice[T any](b []T) []T {
	b = b[:cap(b)]
	clear(b)
	return b[:0]
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// passMarks are the marks of a search's passes over the providers: a
// number per provider, so the one part of a search's memory sized by the
// cloud, not by the answer. They are recycled through a freeList, which
// the garbage collector does not empty (freelist.go).
type passMarks struct {
	// marks[p.idx] == epoch means p was seen by the current pass.
	marks []uint32
	epoch uint32
}

var passMarksFree = newFreeList[passMarks]()

// search is the state of one candidates query.
type search struct {
	e      *Engine
	q      query.Candidates
	opts   SearchOptions
	start  time.Time
	groups []resolvedGroup
	root   traitSet // root_required
	empty  bool     // some filter already rules out every candidate
	subs   [][]int  // same_subtree sets as group indexes
	// subAt[d] lists the same_subtree sets complete at group depth d.
	subAt    [][]int
	isolate  bool
	prefs    []resolvedPref
	stats    Stats
	stopped  bool
	steps    int
	hasTrees bool
	// rec, when set, records what every stage removes (Explain).
	rec *recorder
	// Recycled working memory.
	*scratch
	// Why generation stopped early.
	limited, capped, outOfTime bool
}

func (s *search) resolve() error {
	e := s.e
	var err error
	if !s.q.RootRequired.Empty() {
		if s.root, err = e.resolveTraits(s.q.RootRequired, errUnknownTraitsCandidates); err != nil {
			return err
		}
	}
	index := map[string]int{}
	for _, g := range s.q.Groups {
		rg := resolvedGroup{suffix: g.Suffix, granular: g.Granular()}
		if rg.amounts, err = e.resolveAmounts(g.Resources, errUnknownClassCandidates); err != nil {
			return err
		}
		if rg.traits, err = e.resolveTraits(g.Required, errUnknownTraitsCandidates); err != nil {
			return err
		}
		rg.aggs = e.resolveAggs(g.MemberOf)
		if rg.aggs.impossible {
			s.empty = true
		}
		if g.InTree != "" {
			if p := e.byUUID[g.InTree]; p != nil {
				rg.inTree = p.root
			} else {
				s.empty = true
			}
		}
		index[g.Suffix] = len(s.groups)
		s.groups = append(s.groups, rg)
	}
	s.subAt = make([][]int, len(s.groups))
	for _, set := range s.q.SameSubtree {
		var idx []int
		maxAt := 0
		for _, suffix := range set {
			i := index[suffix]
			idx = append(idx, i)
			maxAt = max(maxAt, i)
		}
		s.subAt[maxAt] = append(s.subAt[maxAt], len(s.subs))
		s.subs = append(s.subs, idx)
	}
	s.isolate = s.q.GroupPolicy == "isolate"
	s.hasTrees = e.nParents > 0
	return s.resolvePrefs(errUnknownTraitsCandidates)
}

// rootOK applies root_required to an anchor.
func (s *search) rootOK(anchor *provider) bool {
	if s.root.empty() {
		return true
	}
	return anchor.ParentID == 0 && s.root.matches(anchor)
}

// budgetExceeded checks the time budget every so often.
func (s *search) budgetExceeded() bool {
	if s.stopped {
		return true
	}
	s.steps++
	if s.steps%1024 != 0 {
		return false
	}
	if s.opts.Budget > 0 && time.Since(s.start) > s.opts.Budget {
		s.stopped = true
	}
	if s.opts.Done != nil {
		select {
		case <-s.opts.Done:
			s.stopped = true
		default:
		}
	}
	return s.stopped
}

func (s *search) run() *Result {
	res := &Result{Requests: []Request{}, Summaries: []Summary{}}
	if s.empty {
		return res
	}
	// The generation cap: the limit itself when results are taken in
	// order, else the configured maximum.
	want := s.opts.MaxCandidates
	byLimit := false
	if s.q.Limit > 0 && !s.random() && (want <= 0 || s.q.Limit <= want) {
		want, byLimit = s.q.Limit, true
	}
	results := s.results[:0]
	full := func() bool {
		if want > 0 && len(results) >= want {
			if byLimit {
				s.limited = true
			} else {
				s.capped = true
			}
			return true
		}
		return false
	}
	round := 0
	emit := func(combo []*partial) {
		if s.keep(combo) {
			results = append(results, combo)
			if s.opts.trace != nil {
				s.opts.trace(combo[0].anchor, round)
			}
		}
	}
	// Round 0 discovers anchors in id order, one candidate each; later
	// rounds take one more candidate from each anchor in turn. Trees that
	// can be served by their own providers come first: an anchor whose
	// first candidate leans on a sharing provider is deferred to the end of
	// round 0 (local capacity before shared capacity). Ranked orders sort
	// the anchors first and defer nothing (rank.go).
	iters, deferred, deferredCombos := s.iters[:0], s.deferred[:0], s.deferredC[:0]
	ranked := s.ranked()
	found, scan := s.driverAnchors()
	anchors := s.anchorSource(found, scan, ranked)
	for a, more := anchors.next(); more; a, more = anchors.next() {
		if full() || s.budgetExceeded() {
			break
		}
		lists, ok := s.anchorPartials(a)
		if !ok {
			continue
		}
		it := s.newAnchorIter(a, lists)
		if combo, ok := it.next(s); ok {
			s.stats.Anchors++
			if !ranked && usesForeign(combo) {
				deferred = append(deferred, it)
				deferredCombos = append(deferredCombos, combo)
				continue
			}
			iters = append(iters, it)
			emit(combo)
		}
	}
	for i, it := range deferred {
		if full() {
			break
		}
		iters = append(iters, it)
		emit(deferredCombos[i])
	}
	for len(iters) > 0 && !full() && !s.stopped {
		round++
		live := iters[:0]
		for _, it := range iters {
			if full() {
				break
			}
			combo, ok := it.next(s)
			if !ok {
				continue
			}
			live = append(live, it)
			emit(combo)
		}
		iters = live
	}
	s.results, s.iters, s.deferred, s.deferredC = results, iters, deferred, deferredCombos
	s.outOfTime = s.stopped
	res.Truncated, res.Capped = s.capped || s.outOfTime, s.capped
	s.stats.Candidates = len(results)
	s.stats.Steps = s.steps

	// Limit (a random sample if asked), then render.
	if s.random() {
		seed := s.opts.Seed
		if seed == 0 {
			seed = rand.Uint64()
		}
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		r.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
		s.preferFirst(results)
	}
	if s.q.Limit > 0 && len(results) > s.q.Limit {
		results = results[:s.q.Limit]
	}
	res.Stats = s.stats
	s.render(res, results)
	return res
}

// usesForeign reports whether a combination takes from a provider outside
// its anchor's tree.
func usesForeign(combo []*partial) bool {
	for _, pt := range combo {
		if pt.foreign {
			return true
		}
	}
	return false
}

// keep applies the checks made on a whole combination: the pre-1.29 rule
// and deduplication.
func (s *search) keep(combo []*partial) bool {
	if !s.q.NestedAware && s.hasTrees {
		roots := map[*provider]*provider{}
		for _, pt := range combo {
			for _, a := range pt.allocs {
				if other, ok := roots[a.p.root]; ok && other != a.p {
					return false
				}
				roots[a.p.root] = a.p
			}
		}
	}
	sharingOnly := true
	for _, pt := range combo {
		if !pt.sharingOnly {
			sharingOnly = false
			break
		}
	}
	if sharingOnly {
		if s.seenCombos == nil {
			s.seenCombos = map[string]bool{}
		}
		k := comboKey(combo)
		if s.seenCombos[k] {
			return false
		}
		s.seenCombos[k] = true
	}
	return true
}
