package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/query"
)

const aggX = "22222222-0000-4000-8000-000000000001"

// explainCloud is four hosts and a NUMA child:
//
//	host1  VCPU 8 (6 used), MEMORY_MB 1024   CUSTOM_A, HW_NUMA_ROOT  in aggX
//	host2  MEMORY_MB 2048                     CUSTOM_B
//	host3  VCPU 4 (max_unit 2)               CUSTOM_A, CUSTOM_C
//	host4  VCPU 16                            (no trait)
//	 numa4 (child of host4) VCPU 2            HW_NUMA_ROOT
func explainCloud() []model.ProviderState {
	host := func(id int64, parent int64, traits []string, aggs []string, invs ...model.Inventory) model.ProviderState {
		p := model.ProviderState{Provider: model.Provider{ID: id, UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), Name: fmt.Sprint("host", id)},
			Inventories: invs, Traits: traits, Aggregates: aggs}
		p.RootID, p.RootUUID = id, p.UUID
		if parent != 0 {
			p.Name = "numa4"
			p.ParentID, p.ParentUUID = parent, fmt.Sprintf("00000000-0000-4000-8000-%012d", parent)
			p.RootID, p.RootUUID = p.ParentID, p.ParentUUID
		}
		return p
	}
	inv := func(class string, total, used, maxUnit int64) model.Inventory {
		in := model.DefaultInventory(class, total)
		in.Used, in.MaxUnit = used, maxUnit
		return in
	}
	return []model.ProviderState{
		host(1, 0, []string{"CUSTOM_A", "HW_NUMA_ROOT"}, []string{aggX}, inv("VCPU", 8, 6, 8), inv("MEMORY_MB", 1024, 0, 1024)),
		host(2, 0, []string{"CUSTOM_B"}, nil, inv("MEMORY_MB", 2048, 0, 2048)),
		host(3, 0, []string{"CUSTOM_A", "CUSTOM_C"}, nil, inv("VCPU", 4, 0, 2)),
		host(4, 0, nil, nil, inv("VCPU", 16, 0, 16)),
		host(5, 4, []string{"HW_NUMA_ROOT"}, nil, inv("VCPU", 2, 0, 2)),
	}
}

func explainEngine(t *testing.T) *Engine {
	t.Helper()
	e := New()
	e.Apply(Update{Revision: 1, Full: true, Providers: explainCloud(),
		Classes: []string{"VCPU", "MEMORY_MB"},
		Traits:  []string{"CUSTOM_A", "CUSTOM_B", "CUSTOM_C", "HW_NUMA_ROOT", model.SharesViaAggregate}})
	return e
}

// counts flattens an explanation's group stages: "stage" -> removed, for
// the non-zero ones, plus "candidates" and "in" (providers in candidates).
func counts(ge GroupExplanation) map[string]int {
	out := map[string]int{"in": ge.InCandidates}
	if ge.NotExamined > 0 {
		out["not_examined"] = ge.NotExamined
	}
	for _, st := range ge.Stages {
		if st.Removed > 0 {
			out[st.Stage] = st.Removed
		}
	}
	for _, st := range ge.TreeStages {
		if st.Removed > 0 {
			out["tree:"+st.Stage] = st.Removed
		}
	}
	return out
}

func TestExplainStages(t *testing.T) {
	vcpu := func(n int64) []query.Amount { return []query.Amount{{Class: "VCPU", Amount: n}} }
	granular := func(g query.Group) query.Candidates {
		g.Suffix = "1"
		return query.Candidates{NestedAware: true, Groups: []query.Group{g}}
	}
	host := func(id int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", id) }
	tests := []struct {
		name  string
		q     query.Candidates
		group map[string]int
		trees map[string]int
		miss  string // in the first nearest miss's words
	}{
		{"capacity, class and min/max/step", granular(query.Group{Resources: vcpu(3)}),
			map[string]int{"in": 1, "capacity": 1, "resource_class": 1, "min_max_step": 2},
			map[string]int{"group_unmet": 3}, "VCPU: needs 3, 2 free on host1"},
		{"required traits", granular(query.Group{Resources: vcpu(1), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_A"}}}}),
			map[string]int{"in": 2, "required_traits": 3},
			map[string]int{"group_unmet": 2}, "lacks trait CUSTOM_A"},
		{"forbidden traits", granular(query.Group{Resources: vcpu(1), Required: query.TraitExpr{Forbidden: []string{"CUSTOM_C"}}}),
			map[string]int{"in": 3, "forbidden_traits": 1, "resource_class": 1},
			map[string]int{"group_unmet": 2}, ""},
		{"any-of traits", granular(query.Group{Resources: vcpu(1), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_B", "CUSTOM_C"}}}}),
			map[string]int{"in": 1, "any_of_traits": 3, "resource_class": 1},
			map[string]int{"group_unmet": 3}, "lacks trait any of CUSTOM_B, CUSTOM_C"},
		{"member_of", granular(query.Group{Resources: vcpu(1), MemberOf: query.AggExpr{AllOf: [][]string{{aggX}}}}),
			map[string]int{"in": 1, "member_of": 4},
			map[string]int{"group_unmet": 3}, "not in aggregate " + aggX},
		{"in_tree", granular(query.Group{Resources: vcpu(1), InTree: host(4)}),
			map[string]int{"in": 2, "in_tree": 3},
			map[string]int{"group_unmet": 3}, "is not in the tree of"},
		{"root_required", query.Candidates{NestedAware: true, RootRequired: query.TraitExpr{Forbidden: []string{"CUSTOM_A"}},
			Groups: []query.Group{{Suffix: "1", Resources: vcpu(1)}}},
			map[string]int{"in": 2, "root_required": 2, "resource_class": 1},
			map[string]int{"root_required": 2, "group_unmet": 1}, ""},
		{"unsuffixed group across a tree", query.Candidates{NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 1}}, Required: query.TraitExpr{AllOf: [][]string{{"HW_NUMA_ROOT"}}}}}},
			map[string]int{"in": 2, "required_traits": 2, "resource_class": 1},
			map[string]int{"group_unmet": 2}, "the providers used lack trait HW_NUMA_ROOT"},
		// VCPU is judged before MEMORY_MB, and a tree no provider of which
		// supplies VCPU is not judged for MEMORY_MB: host2 (memory only)
		// is removed at resource_class; host4 supplies VCPU, so it is
		// removed where its tree's MEMORY_MB ran out (resource_class).
		{"unsuffixed group stops at the first class missing", query.Candidates{NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "MEMORY_MB", Amount: 512}, {Class: "VCPU", Amount: 16}}}}},
			map[string]int{"in": 0, "min_max_step": 3, "resource_class": 2},
			map[string]int{"group_unmet": 4}, "VCPU: 16 is not allowed on host1"},
		{"isolate", query.Candidates{NestedAware: true, GroupPolicy: "isolate", Groups: []query.Group{
			{Suffix: "1", Resources: vcpu(1), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_C"}}}},
			{Suffix: "2", Resources: vcpu(1), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_C"}}}}}},
			map[string]int{"in": 0, "required_traits": 4, "tree:group_policy_isolate": 1},
			map[string]int{"group_policy_isolate": 1, "group_unmet": 3}, "not each by a provider of its own (group_policy=isolate): group 1 and group 2 both on host3"},
		{"capacity of the combination", query.Candidates{NestedAware: true, GroupPolicy: "none", Groups: []query.Group{
			{Suffix: "1", Resources: vcpu(2), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_C"}}}},
			{Suffix: "2", Resources: vcpu(2), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_C"}}}},
			{Suffix: "3", Resources: vcpu(2), Required: query.TraitExpr{AllOf: [][]string{{"CUSTOM_C"}}}}}},
			map[string]int{"in": 0, "required_traits": 4, "tree:capacity_combined": 1},
			map[string]int{"capacity_combined": 1, "group_unmet": 3}, "not all together: a provider lacks capacity for the groups combined: VCPU: the groups together need 4 on host3, above its max_unit 2"},
		{"limit", query.Candidates{NestedAware: true, Limit: 1, Groups: []query.Group{{Resources: vcpu(1)}}},
			map[string]int{"in": 1, "not_examined": 4},
			map[string]int{"limit_cap_or_budget": 3}, ""},
	}
	e := explainEngine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, ex, err := e.Explain(tc.q, SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Release()
			got := counts(ex.Groups[0])
			if fmt.Sprint(got) != fmt.Sprint(tc.group) {
				t.Errorf("group stages %v, want %v", got, tc.group)
			}
			trees := map[string]int{}
			for _, st := range ex.TreeStages {
				if st.Removed > 0 {
					trees[st.Stage] = st.Removed
				}
			}
			if fmt.Sprint(trees) != fmt.Sprint(tc.trees) {
				t.Errorf("tree stages %v, want %v", trees, tc.trees)
			}
			if ex.Candidates != len(res.Requests) || ex.Trees != 4 || ex.Providers != 5 {
				t.Errorf("candidates %d (%d returned), trees %d, providers %d", ex.Candidates, len(res.Requests), ex.Trees, ex.Providers)
			}
			if tc.miss != "" {
				if len(ex.NearestMisses) == 0 {
					t.Fatalf("no nearest miss, want %q", tc.miss)
				}
				if words := strings.Join(ex.NearestMisses[0].Unmet, "; "); !strings.Contains(words, tc.miss) {
					t.Errorf("nearest miss %q, want %q in it", words, tc.miss)
				}
			}
		})
	}
}

// The examples of a stage name the providers it removed, in id order.
func TestExplainExamples(t *testing.T) {
	e := explainEngine(t)
	q := query.Candidates{NestedAware: true, Groups: []query.Group{{Suffix: "1", Resources: []query.Amount{{Class: "MEMORY_MB", Amount: 1}}}}}
	res, ex, err := e.Explain(q, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	for _, st := range ex.Groups[0].Stages {
		if st.Stage != "resource_class" {
			continue
		}
		var names []string
		for _, x := range st.Examples {
			names = append(names, x.Name)
		}
		if got := strings.Join(names, ","); st.Removed != 3 || got != "host3,host4,numa4" {
			t.Errorf("resource_class removed %d, examples %s", st.Removed, got)
		}
	}
}

// Nearest misses come closest first: fewest unmet requirements, then the
// smallest shortfall.
func TestExplainNearestMissesOrder(t *testing.T) {
	e := explainEngine(t)
	q := query.Candidates{NestedAware: true, Groups: []query.Group{{Suffix: "1", Resources: []query.Amount{{Class: "VCPU", Amount: 8}}}}}
	res, ex, err := e.Explain(q, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	var got []string
	for _, m := range ex.NearestMisses {
		got = append(got, fmt.Sprintf("%s %d", m.Root.Name, m.Shortfall))
	}
	// host4 fits; host1 has 2 free (short 6); host2 has no VCPU and host3
	// takes 2 at most (both short 8, then in id order).
	if fmt.Sprint(got) != "[host1 6 host2 8 host3 8]" {
		t.Errorf("nearest misses %v", got)
	}
}

// TestNearestMissesScoredInSearch checks the nearest misses, whose
// unsuffixed-group scores are recorded by the search (whole, or a lower
// bound when the search stopped at an empty class) and whose trees are
// pruned by a lower bound, against scoring every tree that gave no
// candidate from scratch (missOf) and keeping the K best by score, then id.
func TestNearestMissesScoredInSearch(t *testing.T) {
	n := uint64(1500)
	if testing.Short() {
		n = 200
	}
	bounds := 0 // recorded scores that are lower bounds
	for seed := uint64(1); seed <= n; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*7919+1))
		cloud := randomCloud(r)
		q := randomQuery(r, cloud)
		e := newEngineWith(cloud)
		var rec *recorder
		res, ex, err := e.explain(q, SearchOptions{}, func(r *recorder) { rec = r })
		if err != nil {
			continue
		}
		res.Release()
		s := rec.s
		type scored struct {
			root  *provider
			score missScore
		}
		var all []scored
		for _, root := range e.roots {
			switch rec.tree[root.idx] {
			case tsCandidates, tsStopped, tsNone:
				continue
			}
			sc := s.missOf(rec, root, false)
			if rec.tree[root.idx] == tsGroupUnmet {
				// The recorded score of the unsuffixed group agrees.
				for gi := range s.groups {
					if s.groups[gi].granular || rec.unmet[root.idx]&(1<<min(gi, 63)) == 0 {
						continue
					}
					s.treeBuf = appendTree(s.treeBuf[:0], root)
					want := s.missUnsuffixed(gi, &s.groups[gi], root, s.treeBuf, e.sharedWith[root], false)
					// (A lower bound when the search stopped at a class
					// no provider supplies before judging them all.)
					got := rec.miss[gi][root.idx]
					if got.bound {
						bounds++
					}
					if !got.bound && (got.n != want.n || got.short != want.short) || got.bound && (got.n > want.n || got.short > want.short) {
						t.Fatalf("seed %d: tree %s group %d: recorded miss %+v, scored %d/%d", seed, root.Name, gi, got, want.n, want.short)
					}
				}
			}
			all = append(all, scored{root, sc})
		}
		slices.SortStableFunc(all, func(a, b scored) int {
			if a.score.less(b.score) {
				return -1
			}
			if b.score.less(a.score) {
				return 1
			}
			return cmp.Compare(a.root.ID, b.root.ID)
		})
		all = all[:min(len(all), NearestMisses)]
		if len(all) != len(ex.NearestMisses) {
			t.Fatalf("seed %d: %d nearest misses, want %d", seed, len(ex.NearestMisses), len(all))
		}
		for i, m := range ex.NearestMisses {
			if m.Root.UUID != all[i].root.UUID || m.Shortfall != all[i].score.short || len(m.Unmet) != all[i].score.n {
				t.Fatalf("seed %d: nearest miss %d is %s (%d unmet, shortfall %d), want %s (%d, %d)", seed, i,
					m.Root.Name, len(m.Unmet), m.Shortfall, all[i].root.Name, all[i].score.n, all[i].score.short)
			}
		}
	}
	if bounds == 0 {
		t.Error("no tree was scored by a lower bound: that path went untested")
	}
}
