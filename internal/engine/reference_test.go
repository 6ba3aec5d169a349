package engine

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/query"
)

// This file checks the engine against a brute-force reference: a direct,
// slow transcription of Placement's semantics (SPEC.md B.3-B.7) with full
// cartesian products and no pruning, on random small clouds and queries.

var (
	refClasses = []string{"VCPU", "MEMORY_MB", "DISK_GB"}
	refTraits  = []string{"CUSTOM_A", "CUSTOM_B", "CUSTOM_C", "HW_NUMA_ROOT"}
	refAggs    = []string{"11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000003"}
)

// randomCloud builds a few small trees and sharing providers.
func randomCloud(r *rand.Rand) []model.ProviderState {
	var out []model.ProviderState
	id := int64(0)
	newProv := func(parent *model.ProviderState) *model.ProviderState {
		id++
		p := model.ProviderState{Provider: model.Provider{ID: id, UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), Name: fmt.Sprint("p", id)}}
		if parent != nil {
			p.ParentID, p.ParentUUID, p.RootID, p.RootUUID = parent.ID, parent.UUID, parent.RootID, parent.RootUUID
		} else {
			p.RootID, p.RootUUID = p.ID, p.UUID
		}
		for _, c := range refClasses {
			if r.IntN(3) == 0 {
				continue
			}
			inv := model.DefaultInventory(c, int64(2+r.IntN(10)))
			inv.Reserved = int64(r.IntN(2))
			if r.IntN(4) == 0 {
				inv.AllocationRatio = 1.5
			}
			inv.MaxUnit = int64(2 + r.IntN(8))
			if r.IntN(5) == 0 {
				inv.StepSize = 2
			}
			if r.IntN(6) == 0 {
				inv.MinUnit = 2
			}
			if c := inv.Capacity(); c > 0 && r.IntN(2) == 0 {
				inv.Used = int64(r.IntN(int(c) + 1))
			}
			p.Inventories = append(p.Inventories, inv)
		}
		for _, t := range refTraits {
			if r.IntN(2) == 0 {
				p.Traits = append(p.Traits, t)
			}
		}
		for _, a := range refAggs {
			if r.IntN(4) == 0 {
				p.Aggregates = append(p.Aggregates, a)
			}
		}
		out = append(out, p)
		return &out[len(out)-1]
	}
	roots := 1 + r.IntN(4)
	for i := 0; i < roots; i++ {
		root := *newProv(nil)
		kids := r.IntN(4)
		for k := 0; k < kids; k++ {
			child := *newProv(&root)
			if r.IntN(3) == 0 {
				newProv(&child)
			}
		}
	}
	for i := r.IntN(3); i > 0; i-- {
		sp := newProv(nil)
		sp.Traits = append(sp.Traits, model.SharesViaAggregate)
		if len(sp.Aggregates) == 0 {
			sp.Aggregates = append(sp.Aggregates, refAggs[r.IntN(len(refAggs))])
		}
	}
	for i := range out {
		sort.Strings(out[i].Traits)
	}
	return out
}

func randomTraitExpr(r *rand.Rand, anyOf bool) query.TraitExpr {
	var e query.TraitExpr
	used := map[string]bool{}
	for i := r.IntN(3) - 1; i > 0; i-- {
		t := refTraits[r.IntN(len(refTraits))]
		if used[t] {
			continue
		}
		used[t] = true
		set := []string{t}
		if anyOf && r.IntN(3) == 0 {
			if u := refTraits[r.IntN(len(refTraits))]; u != t {
				set = append(set, u)
			}
		}
		e.AllOf = append(e.AllOf, set)
	}
	for i := r.IntN(3) - 1; i > 0; i-- {
		t := refTraits[r.IntN(len(refTraits))]
		if !used[t] {
			used[t] = true
			e.Forbidden = append(e.Forbidden, t)
		}
	}
	return e
}

func randomQuery(r *rand.Rand, cloud []model.ProviderState) query.Candidates {
	q := query.Candidates{NestedAware: r.IntN(6) != 0}
	amounts := func() []query.Amount {
		var out []query.Amount
		for _, c := range refClasses {
			if r.IntN(3) == 0 {
				out = append(out, query.Amount{Class: c, Amount: int64(1 + r.IntN(2))})
			}
		}
		return out
	}
	if r.IntN(3) != 0 {
		g := query.Group{Resources: amounts()}
		if len(g.Resources) == 0 {
			g.Resources = []query.Amount{{Class: "VCPU", Amount: 1}}
		}
		g.Required = randomTraitExpr(r, true)
		if r.IntN(4) == 0 {
			g.MemberOf.AllOf = [][]string{{refAggs[r.IntN(3)]}}
		}
		if r.IntN(8) == 0 {
			g.MemberOf.Forbidden = []string{refAggs[r.IntN(3)]}
		}
		if r.IntN(8) == 0 {
			g.InTree = cloud[r.IntN(len(cloud))].UUID
		}
		q.Groups = append(q.Groups, g)
	}
	n := r.IntN(4)
	if len(q.Groups) == 0 && n == 0 {
		n = 1
	}
	var suffixes []string
	for i := 1; i <= n; i++ {
		g := query.Group{Suffix: fmt.Sprint(i), Resources: amounts(), Required: randomTraitExpr(r, true)}
		if len(g.Resources) == 0 && len(g.Required.AllOf) == 0 {
			g.Required.AllOf = [][]string{{refTraits[r.IntN(len(refTraits))]}}
		}
		if r.IntN(5) == 0 {
			g.MemberOf.AllOf = [][]string{{refAggs[r.IntN(3)], refAggs[r.IntN(3)]}}
		}
		if r.IntN(8) == 0 {
			g.InTree = cloud[r.IntN(len(cloud))].UUID
		}
		q.Groups = append(q.Groups, g)
		suffixes = append(suffixes, g.Suffix)
	}
	if r.IntN(2) == 0 {
		q.GroupPolicy = "isolate"
	} else {
		q.GroupPolicy = "none"
	}
	if r.IntN(4) == 0 {
		q.RootRequired = randomTraitExpr(r, false)
	}
	// Resourceless groups must be in a same_subtree set.
	var resourceless []string
	for _, g := range q.Groups {
		if len(g.Resources) == 0 {
			resourceless = append(resourceless, g.Suffix)
		}
	}
	if len(resourceless) > 0 || (len(suffixes) > 1 && r.IntN(3) == 0) {
		set := append([]string(nil), resourceless...)
		for _, s := range suffixes {
			if r.IntN(2) == 0 && !contains(set, s) {
				set = append(set, s)
			}
		}
		if len(set) == 0 {
			set = suffixes[:1]
		}
		q.SameSubtree = [][]string{set}
	}
	return q
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// refCandidate is one candidate in normalized form.
type refCandidate struct {
	amounts  map[[2]string]int64 // (provider uuid, class) -> amount
	mappings map[string][]string
}

func (c refCandidate) key() string {
	var parts []string
	for k, v := range c.amounts {
		parts = append(parts, fmt.Sprintf("%s/%s=%d", k[0], k[1], v))
	}
	sort.Strings(parts)
	var maps []string
	for k, v := range c.mappings {
		vs := append([]string(nil), v...)
		sort.Strings(vs)
		maps = append(maps, k+":"+strings.Join(vs, ","))
	}
	sort.Strings(maps)
	return strings.Join(parts, ";") + "|" + strings.Join(maps, ";")
}

// reference computes every candidate by brute force.
func reference(cloud []model.ProviderState, q query.Candidates) map[string]refCandidate {
	byUUID := map[string]*model.ProviderState{}
	byID := map[int64]*model.ProviderState{}
	for i := range cloud {
		byUUID[cloud[i].UUID] = &cloud[i]
		byID[cloud[i].ID] = &cloud[i]
	}
	has := func(p *model.ProviderState, t string) bool { return contains(p.Traits, t) }
	inAgg := func(p *model.ProviderState, a string) bool { return contains(p.Aggregates, a) }
	aggsOK := func(p *model.ProviderState, e query.AggExpr) bool {
		for _, set := range e.AllOf {
			ok := false
			for _, a := range set {
				ok = ok || inAgg(p, a)
			}
			if !ok {
				return false
			}
		}
		return true
	}
	forbiddenAgg := func(p *model.ProviderState, e query.AggExpr) bool {
		for _, a := range e.Forbidden {
			if inAgg(p, a) {
				return true
			}
		}
		return false
	}
	traitsOK := func(ts func(string) bool, e query.TraitExpr) bool {
		for _, f := range e.Forbidden {
			if ts(f) {
				return false
			}
		}
		for _, set := range e.AllOf {
			ok := false
			for _, t := range set {
				ok = ok || ts(t)
			}
			if !ok {
				return false
			}
		}
		return true
	}
	rootOK := func(root *model.ProviderState) bool {
		if q.RootRequired.Empty() {
			return true
		}
		return traitsOK(func(t string) bool { return has(root, t) }, q.RootRequired)
	}
	inv := func(p *model.ProviderState, c string) *model.Inventory {
		for i := range p.Inventories {
			if p.Inventories[i].ResourceClass == c {
				return &p.Inventories[i]
			}
		}
		return nil
	}
	anchorsOf := func(s *model.ProviderState) []int64 {
		var out []int64
		seen := map[int64]bool{}
		for _, p := range cloud {
			for _, a := range s.Aggregates {
				if inAgg(&p, a) && !seen[p.RootID] {
					seen[p.RootID] = true
					out = append(out, p.RootID)
				}
			}
		}
		return out
	}
	type rpartial struct {
		anchor int64
		allocs map[[2]string]int64
		provs  []string
	}
	var perGroup [][]rpartial
	for _, g := range q.Groups {
		inTreeRoot := int64(0)
		if g.InTree != "" {
			p := byUUID[g.InTree]
			if p == nil {
				return nil
			}
			inTreeRoot = p.RootID
		}
		if len(g.MemberOf.AllOf) > 0 {
			any := false
			for _, p := range cloud {
				any = any || aggsOK(&p, g.MemberOf)
			}
			if !any {
				return nil
			}
		}
		var parts []rpartial
		if g.Granular() {
			for i := range cloud {
				p := &cloud[i]
				if len(g.Resources) == 0 && len(g.Required.AllOf) == 0 && len(g.MemberOf.AllOf) == 0 {
					break
				}
				if inTreeRoot != 0 && p.RootID != inTreeRoot {
					continue
				}
				if !traitsOK(func(t string) bool { return has(p, t) }, g.Required) || !aggsOK(p, g.MemberOf) || forbiddenAgg(p, g.MemberOf) {
					continue
				}
				allocs := map[[2]string]int64{}
				ok := true
				for _, a := range g.Resources {
					in := inv(p, a.Class)
					if in == nil || !in.CanAllocate(a.Amount) {
						ok = false
						break
					}
					allocs[[2]string{p.UUID, a.Class}] = a.Amount
				}
				if !ok {
					continue
				}
				if rootOK(byID[p.RootID]) {
					parts = append(parts, rpartial{anchor: p.RootID, allocs: allocs, provs: []string{p.UUID}})
				}
				if has(p, model.SharesViaAggregate) {
					for _, a := range anchorsOf(p) {
						if a != p.RootID && rootOK(byID[a]) {
							parts = append(parts, rpartial{anchor: a, allocs: allocs, provs: []string{p.UUID}})
						}
					}
				}
			}
		} else {
			type pr struct{ p, anchor int64 }
			perClass := make([][]pr, len(g.Resources))
			for ci, a := range g.Resources {
				seen := map[pr]bool{}
				addPair := func(p *model.ProviderState, anchor int64) {
					if !rootOK(byID[anchor]) {
						return
					}
					if len(g.MemberOf.AllOf) > 0 && !aggsOK(p, g.MemberOf) && !aggsOK(byID[anchor], g.MemberOf) {
						return
					}
					if forbiddenAgg(p, g.MemberOf) || forbiddenAgg(byID[anchor], g.MemberOf) {
						return
					}
					k := pr{p.ID, anchor}
					if !seen[k] {
						seen[k] = true
						perClass[ci] = append(perClass[ci], k)
					}
				}
				for i := range cloud {
					p := &cloud[i]
					in := inv(p, a.Class)
					if in == nil || !in.CanAllocate(a.Amount) {
						continue
					}
					if inTreeRoot != 0 && p.RootID != inTreeRoot {
						continue
					}
					addPair(p, p.RootID)
					if inTreeRoot == 0 && has(p, model.SharesViaAggregate) && aggsOK(p, g.MemberOf) {
						for _, anc := range anchorsOf(p) {
							addPair(p, anc)
						}
					}
				}
			}
			anchors := map[int64]bool{}
			for _, x := range perClass[0] {
				anchors[x.anchor] = true
			}
			for anchor := range anchors {
				lists := make([][]int64, len(g.Resources))
				ok := true
				for ci := range g.Resources {
					for _, x := range perClass[ci] {
						if x.anchor == anchor {
							lists[ci] = append(lists[ci], x.p)
						}
					}
					ok = ok && len(lists[ci]) > 0
				}
				if !ok {
					continue
				}
				var walk func(ci int, chosen []int64)
				walk = func(ci int, chosen []int64) {
					if ci == len(lists) {
						provs := map[int64]bool{}
						for _, id := range chosen {
							provs[id] = true
						}
						hasT := func(t string) bool {
							for id := range provs {
								if has(byID[id], t) {
									return true
								}
							}
							return false
						}
						for id := range provs {
							for _, f := range g.Required.Forbidden {
								if has(byID[id], f) {
									return
								}
							}
						}
						if !traitsOK(hasT, query.TraitExpr{AllOf: g.Required.AllOf}) {
							return
						}
						rp := rpartial{anchor: anchor, allocs: map[[2]string]int64{}}
						for i, id := range chosen {
							rp.allocs[[2]string{byID[id].UUID, g.Resources[i].Class}] = g.Resources[i].Amount
						}
						for id := range provs {
							rp.provs = append(rp.provs, byID[id].UUID)
						}
						parts = append(parts, rp)
						return
					}
					for _, id := range lists[ci] {
						walk(ci+1, append(chosen, id))
					}
				}
				walk(0, nil)
			}
		}
		if len(parts) == 0 {
			return map[string]refCandidate{}
		}
		perGroup = append(perGroup, parts)
	}
	hasTrees := false
	for _, p := range cloud {
		hasTrees = hasTrees || p.ParentID != 0
	}
	isAncestor := func(a, p int64) bool {
		for x := byID[p]; x != nil; x = byID[x.ParentID] {
			if x.ID == a {
				return true
			}
			if x.ParentID == 0 {
				break
			}
		}
		return false
	}
	suffixIndex := map[string]int{}
	granular := 0
	for i, g := range q.Groups {
		suffixIndex[g.Suffix] = i
		if g.Granular() {
			granular++
		}
	}
	out := map[string]refCandidate{}
	anchors := map[int64]bool{}
	for _, pt := range perGroup[0] {
		anchors[pt.anchor] = true
	}
	for anchor := range anchors {
		lists := make([][]rpartial, len(perGroup))
		for gi := range perGroup {
			for _, pt := range perGroup[gi] {
				if pt.anchor == anchor {
					lists[gi] = append(lists[gi], pt)
				}
			}
		}
		var walk func(gi int, chosen []rpartial)
		walk = func(gi int, chosen []rpartial) {
			if gi < len(lists) {
				for _, pt := range lists[gi] {
					walk(gi+1, append(chosen, pt))
				}
				return
			}
			if q.GroupPolicy == "isolate" {
				distinct := map[string]bool{}
				for i, pt := range chosen {
					if q.Groups[i].Granular() {
						distinct[pt.provs[0]] = true
					}
				}
				if len(distinct) != granular {
					return
				}
			}
			for _, set := range q.SameSubtree {
				ids := map[int64]bool{}
				for _, s := range set {
					for _, u := range chosen[suffixIndex[s]].provs {
						ids[byUUID[u].ID] = true
					}
				}
				if len(ids) > 1 {
					ok := false
					for a := range ids {
						all := true
						for p := range ids {
							all = all && isAncestor(a, p)
						}
						ok = ok || all
					}
					if !ok {
						return
					}
				}
			}
			c := refCandidate{amounts: map[[2]string]int64{}, mappings: map[string][]string{}}
			for i, pt := range chosen {
				for k, v := range pt.allocs {
					c.amounts[k] += v
				}
				c.mappings[q.Groups[i].Suffix] = append(c.mappings[q.Groups[i].Suffix], pt.provs...)
			}
			for k, v := range c.amounts {
				in := inv(byUUID[k[0]], k[1])
				if !in.CanAllocateCombined(v) {
					return
				}
			}
			if !q.NestedAware && hasTrees {
				roots := map[int64]string{}
				for k := range c.amounts {
					p := byUUID[k[0]]
					if other, ok := roots[p.RootID]; ok && other != p.UUID {
						return
					}
					roots[p.RootID] = p.UUID
				}
			}
			out[c.key()] = c
		}
		walk(0, nil)
	}
	return out
}

// engineCandidates runs the engine and normalizes its answer.
func engineCandidates(t testing.TB, e *Engine, q query.Candidates, opts SearchOptions) (map[string]refCandidate, *Result) {
	res, err := e.Candidates(q, opts)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	out := map[string]refCandidate{}
	for _, r := range res.Requests {
		c := refCandidate{amounts: map[[2]string]int64{}, mappings: map[string][]string{}}
		for _, pa := range r.Allocations {
			for _, a := range pa.Amounts {
				c.amounts[[2]string{pa.UUID, a.Class}] += a.Amount
			}
		}
		for _, m := range r.Mappings {
			c.mappings[m.Suffix] = append(c.mappings[m.Suffix], m.Providers...)
		}
		if _, dup := out[c.key()]; dup {
			t.Fatalf("duplicate candidate %s", c.key())
		}
		out[c.key()] = c
	}
	return out, res
}

func newEngineWith(cloud []model.ProviderState) *Engine {
	e := New()
	states := append([]model.ProviderState(nil), cloud...)
	e.Apply(Update{Revision: 1, Full: true, Providers: states, Classes: refClasses,
		Traits: append(append([]string(nil), refTraits...), model.SharesViaAggregate)})
	return e
}

func checkAgainstReference(t testing.TB, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	cloud := randomCloud(r)
	q := randomQuery(r, cloud)
	e := newEngineWith(cloud)
	want := reference(cloud, q)
	got, res := engineCandidates(t, e, q, SearchOptions{})
	describe := func() string {
		return fmt.Sprintf("seed %d\nquery %+v\ncloud %+v", seed, q, cloud)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Fatalf("engine misses candidate %s\n%s", k, describe())
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Fatalf("engine returns invalid candidate %s\n%s", k, describe())
		}
	}
	// Summaries cover exactly the trees (or, before 1.29, the providers)
	// that supply resources.
	wantSum := map[string]bool{}
	for _, c := range want {
		for k := range c.amounts {
			wantSum[k[0]] = true
		}
	}
	if q.NestedAware || !hasTrees(cloud) {
		roots := map[int64]bool{}
		for _, p := range cloud {
			if wantSum[p.UUID] {
				roots[p.RootID] = true
			}
		}
		for _, p := range cloud {
			if roots[p.RootID] {
				wantSum[p.UUID] = true
			}
		}
	}
	if len(res.Summaries) != len(wantSum) {
		t.Fatalf("%d summaries, want %d\n%s", len(res.Summaries), len(wantSum), describe())
	}
	for _, s := range res.Summaries {
		if !wantSum[s.UUID] {
			t.Fatalf("summary of %s not expected\n%s", s.UUID, describe())
		}
	}
	// Hand the memory back: the next search (below, or in the next seed)
	// reuses it, so every check also covers recycled arenas.
	res.Release()
	res.Release()
	if res.Requests != nil || res.Summaries != nil {
		t.Fatal("a released result still exposes its requests")
	}
	// A limit returns that many of the same candidates.
	if len(want) > 1 {
		q.Limit = 1 + r.IntN(len(want))
		limited, lres := engineCandidates(t, e, q, SearchOptions{})
		lres.Release()
		if len(limited) != q.Limit {
			t.Fatalf("limit %d gave %d candidates\n%s", q.Limit, len(limited), describe())
		}
		for k := range limited {
			if _, ok := want[k]; !ok {
				t.Fatalf("limited answer has invalid candidate %s\n%s", k, describe())
			}
		}
	}
}

func hasTrees(cloud []model.ProviderState) bool {
	for _, p := range cloud {
		if p.ParentID != 0 {
			return true
		}
	}
	return false
}

func TestEngineAgainstReference(t *testing.T) {
	n := uint64(3000)
	if testing.Short() {
		n = 300
	}
	for seed := uint64(1); seed <= n; seed++ {
		checkAgainstReference(t, seed)
	}
}

// FuzzEngineAgainstReference explores more random clouds and queries.
func FuzzEngineAgainstReference(f *testing.F) {
	for s := uint64(1); s < 20; s++ {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkAgainstReference(t, seed)
	})
}

// checkExplanation runs an explained search on a random cloud and query
// and checks that the explanation accounts for the answer:
//
//   - the explained search answers exactly what the plain search answers;
//   - per group, every provider of the cloud is counted exactly once:
//     in_candidates + each group stage + each tree stage + not_examined =
//     providers, and passed = in_candidates + the tree stages;
//   - every provider the brute-force reference maps to a group in some
//     candidate has the verdict "passed" for it (no stage removes a
//     provider that can serve), and every provider mapped in the answer
//     is counted in in_candidates;
//   - a provider removed from a granular group by a stage does fail that
//     stage's rule on its own (checked on the cloud's data, not with the
//     engine's code): root_required on its root, in_tree, resource class
//     absent, min/max/step, capacity, required/forbidden/any-of traits,
//     member_of;
//   - per tree, trees_with_candidates + each tree stage = trees; with no
//     limit and no truncation nothing is left unexamined, and every tree
//     that alone (with sharing providers) holds a reference candidate is
//     a tree with candidates; an empty answer has no tree with candidates.
func checkExplanation(t testing.TB, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	cloud := randomCloud(r)
	q := randomQuery(r, cloud)
	if r.IntN(4) == 0 {
		q.Limit = 1 + r.IntN(3)
	}
	e := newEngineWith(cloud)
	describe := func() string { return fmt.Sprintf("seed %d\nquery %+v\ncloud %+v", seed, q, cloud) }
	plain, pres := engineCandidates(t, e, q, SearchOptions{})
	pres.Release()
	var rec *recorder
	res, ex, err := e.explain(q, SearchOptions{}, func(r *recorder) { rec = r })
	if err != nil {
		t.Fatal(err)
	}
	explained := map[string]refCandidate{}
	for _, rq := range res.Requests {
		c := refCandidate{amounts: map[[2]string]int64{}, mappings: map[string][]string{}}
		for _, pa := range rq.Allocations {
			for _, a := range pa.Amounts {
				c.amounts[[2]string{pa.UUID, a.Class}] += a.Amount
			}
		}
		for _, m := range rq.Mappings {
			c.mappings[m.Suffix] = append(c.mappings[m.Suffix], m.Providers...)
		}
		explained[c.key()] = c
	}
	res.Release()
	if q.Limit == 0 && len(explained) != len(plain) || ex.Candidates != len(explained) {
		t.Fatalf("explained search gave %d candidates (reported %d), plain %d\n%s", len(explained), ex.Candidates, len(plain), describe())
	}
	if q.Limit == 0 {
		for k := range plain {
			if _, ok := explained[k]; !ok {
				t.Fatalf("explained search misses %s\n%s", k, describe())
			}
		}
	}
	want := reference(cloud, q)
	for k := range explained {
		if _, ok := want[k]; !ok {
			t.Fatalf("explained search returns invalid candidate %s\n%s", k, describe())
		}
	}
	byUUID := map[string]*model.ProviderState{}
	for i := range cloud {
		byUUID[cloud[i].UUID] = &cloud[i]
	}
	complete := q.Limit == 0 && !ex.Capped && !ex.OutOfTime
	for gi, g := range q.Groups {
		ge := ex.Groups[gi]
		sum := ge.InCandidates + ge.NotExamined
		passedSum := ge.InCandidates
		for _, st := range ge.Stages {
			sum += st.Removed
		}
		for _, st := range ge.TreeStages {
			sum += st.Removed
			passedSum += st.Removed
		}
		if ge.Suffix != g.Suffix || ge.Providers != len(cloud) || sum != len(cloud) || passedSum != ge.Passed {
			t.Fatalf("group %q: %d providers counted (%+v), cloud has %d\n%s", g.Suffix, sum, ge, len(cloud), describe())
		}
		if complete && ge.NotExamined != 0 {
			t.Fatalf("group %q: %d not examined in a complete search\n%s", g.Suffix, ge.NotExamined, describe())
		}
		mapped := map[string]bool{}
		for _, c := range explained {
			for _, u := range c.mappings[g.Suffix] {
				mapped[u] = true
			}
		}
		if len(mapped) != ge.InCandidates {
			t.Fatalf("group %q: %d providers in candidates, explanation says %d\n%s", g.Suffix, len(mapped), ge.InCandidates, describe())
		}
		for _, c := range want {
			for _, u := range c.mappings[g.Suffix] {
				if st := rec.status[gi][e.byUUID[u].idx]; st != stPassed && (complete || st != stUnseen) {
					t.Fatalf("group %q: %s serves the group in a reference candidate but was removed at %s\n%s", g.Suffix, u, stageNames[st], describe())
				}
			}
		}
		if !g.Granular() {
			continue
		}
		for _, p := range cloud {
			st := rec.status[gi][e.byUUID[p.UUID].idx]
			if st != stUnseen && st != stPassed && !stageHolds(st, &p, byUUID[p.RootUUID], g, q, byUUID) {
				t.Fatalf("group %q: %s removed at %s, which it passes\n%s", g.Suffix, p.UUID, stageNames[st], describe())
			}
		}
	}
	trees := ex.TreesWithCandidates
	for _, st := range ex.TreeStages {
		trees += st.Removed
		if complete && st.Stage == "limit_cap_or_budget" && st.Removed != 0 {
			t.Fatalf("%d trees not examined in a complete search\n%s", st.Removed, describe())
		}
	}
	if trees != ex.Trees {
		t.Fatalf("%d trees counted, %d in the cloud\n%s", trees, ex.Trees, describe())
	}
	if len(want) == 0 && ex.TreesWithCandidates != 0 {
		t.Fatalf("no candidates, but %d trees with candidates\n%s", ex.TreesWithCandidates, describe())
	}
	if !complete {
		return
	}
	for _, c := range want {
		roots := map[string]bool{}
		for k := range c.amounts {
			if p := byUUID[k[0]]; !contains(p.Traits, model.SharesViaAggregate) {
				roots[p.RootUUID] = true
			}
		}
		if len(roots) != 1 {
			continue
		}
		for root := range roots {
			if st := rec.tree[e.byUUID[root].idx]; st != tsCandidates {
				t.Fatalf("tree %s holds candidate %s but was removed at %s\n%s", root, c.key(), treeStageNames[st], describe())
			}
		}
	}
	if len(want) == 0 && len(ex.NearestMisses) == 0 && ex.Trees > 0 {
		t.Fatalf("no candidates and no nearest miss\n%s", describe())
	}
}

// stageHolds checks, on the cloud's data, that provider p fails the rule
// of stage st for granular group g.
func stageHolds(st stage, p, root *model.ProviderState, g query.Group, q query.Candidates, byUUID map[string]*model.ProviderState) bool {
	inv := func(class string) *model.Inventory {
		for i := range p.Inventories {
			if p.Inventories[i].ResourceClass == class {
				return &p.Inventories[i]
			}
		}
		return nil
	}
	switch st {
	case stRootRequired:
		for _, f := range q.RootRequired.Forbidden {
			if contains(root.Traits, f) {
				return true
			}
		}
		for _, set := range q.RootRequired.AllOf {
			if !contains(root.Traits, set[0]) {
				return true
			}
		}
	case stInTree:
		t := byUUID[g.InTree]
		return t == nil || t.RootUUID != p.RootUUID
	case stClass, stUnits, stCapacity:
		for _, a := range g.Resources {
			in := inv(a.Class)
			switch {
			case in == nil:
				if st == stClass {
					return true
				}
			case !in.FitsUnit(a.Amount):
				if st == stUnits {
					return true
				}
			case in.Used+a.Amount > in.Capacity():
				if st == stCapacity {
					return true
				}
			}
		}
	case stForbidden:
		for _, f := range g.Required.Forbidden {
			if contains(p.Traits, f) {
				return true
			}
		}
	case stRequired, stAnyOf:
		for _, set := range g.Required.AllOf {
			if (len(set) > 1) != (st == stAnyOf) {
				continue
			}
			ok := false
			for _, t := range set {
				ok = ok || contains(p.Traits, t)
			}
			if !ok {
				return true
			}
		}
	case stMemberOf:
		for _, f := range g.MemberOf.Forbidden {
			if contains(p.Aggregates, f) {
				return true
			}
		}
		for _, set := range g.MemberOf.AllOf {
			ok := false
			for _, a := range set {
				ok = ok || contains(p.Aggregates, a)
			}
			if !ok {
				return true
			}
		}
	}
	return false
}

// TestExplanationAccountsForEveryProvider is the oracle of explained
// searches (see checkExplanation).
func TestExplanationAccountsForEveryProvider(t *testing.T) {
	n := uint64(3000)
	if testing.Short() {
		n = 300
	}
	for seed := uint64(1); seed <= n; seed++ {
		checkExplanation(t, seed)
	}
}

// FuzzExplanation explores more random clouds and queries.
func FuzzExplanation(f *testing.F) {
	for s := uint64(1); s < 20; s++ {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkExplanation(t, seed)
	})
}
