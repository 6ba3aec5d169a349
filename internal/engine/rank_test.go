package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"allot/internal/model"
	"allot/internal/query"
)

// The ranked orders are checked against the brute-force reference of
// reference_test.go: on random clouds and queries, pack, spread and
// preferences return the same set of candidates as the default order; the
// generation goes round by round, trees in the order of a rank key this
// file computes on its own from the cloud (rank.go's definition); and a
// limited answer is the prefix of the unlimited one, so it keeps the
// best-ranked trees.

// testRankKey is rank.go's key of one tree, computed from the cloud.
type testRankKey struct {
	score, full float64
	id          int64
}

// testRankKeys computes every root's rank key for q, order and prefs.
func testRankKeys(cloud []model.ProviderState, q query.Candidates, order Order, prefs []Preference) map[int64]testRankKey {
	// The engine's class order (per group, by class id: refClasses'
	// order), so that the floating-point sums are the same.
	var classes []string
	for _, g := range q.Groups {
		amounts := append([]query.Amount(nil), g.Resources...)
		slices.SortStableFunc(amounts, func(a, b query.Amount) int {
			return cmp.Compare(slices.Index(refClasses, a.Class), slices.Index(refClasses, b.Class))
		})
		for _, a := range amounts {
			if !slices.Contains(classes, a.Class) {
				classes = append(classes, a.Class)
			}
		}
	}
	shared := map[int64][]*model.ProviderState{} // root -> sharing providers it may use
	for i := range cloud {
		sp := &cloud[i]
		if !slices.Contains(sp.Traits, model.SharesViaAggregate) {
			continue
		}
		seen := map[int64]bool{}
		for _, m := range cloud {
			for _, a := range sp.Aggregates {
				if slices.Contains(m.Aggregates, a) && !seen[m.RootID] {
					seen[m.RootID] = true
					if m.RootID != sp.RootID {
						shared[m.RootID] = append(shared[m.RootID], sp)
					}
				}
			}
		}
	}
	keys := map[int64]testRankKey{}
	for _, root := range cloud {
		if root.ParentID != 0 {
			continue
		}
		used, capacity := make([]int64, len(classes)), make([]int64, len(classes))
		add := func(p *model.ProviderState) {
			for ci, c := range classes {
				for _, in := range p.Inventories {
					if in.ResourceClass == c {
						used[ci] += in.Used
						capacity[ci] += in.Capacity()
					}
				}
			}
		}
		met := make([]bool, len(prefs))
		for i := range cloud {
			p := &cloud[i]
			if p.RootID != root.ID {
				continue
			}
			add(p)
			for pi, pr := range prefs {
				if pr.Trait != "" && slices.Contains(p.Traits, pr.Trait) || pr.Aggregate != "" && slices.Contains(p.Aggregates, pr.Aggregate) {
					met[pi] = true
				}
			}
		}
		k := testRankKey{id: root.ID}
		if order == OrderPack || order == OrderSpread {
			for _, sp := range shared[root.ID] {
				add(sp)
			}
			n := 0
			for ci := range classes {
				if capacity[ci] > 0 {
					k.full += float64(used[ci]) / float64(capacity[ci])
					n++
				}
			}
			if n > 0 {
				k.full /= float64(n)
			}
		}
		for pi, pr := range prefs {
			if met[pi] {
				k.score += pr.Weight
			}
		}
		keys[root.ID] = k
	}
	return keys
}

// compareRank orders two trees' keys as rank.go does.
func compareRank(x, y testRankKey, order Order) int {
	if c := cmp.Compare(y.score, x.score); c != 0 {
		return c
	}
	switch order {
	case OrderPack:
		if c := cmp.Compare(y.full, x.full); c != 0 {
			return c
		}
	case OrderSpread:
		if c := cmp.Compare(x.full, y.full); c != 0 {
			return c
		}
	}
	return cmp.Compare(x.id, y.id)
}

// randomPrefs draws zero to three preferences over the reference traits
// and aggregates.
func randomPrefs(r *rand.Rand) []Preference {
	var out []Preference
	weights := []float64{1, 2, 0.5, -1}
	for i := r.IntN(4); i > 0; i-- {
		w := weights[r.IntN(len(weights))]
		if r.IntN(2) == 0 {
			out = append(out, Preference{Trait: refTraits[r.IntN(len(refTraits))], Weight: w})
		} else {
			out = append(out, Preference{Aggregate: refAggs[r.IntN(len(refAggs))], Weight: w})
		}
	}
	return out
}

// orderedCandidates runs the engine and returns its candidates' keys in
// order, with the anchor and round of each.
func orderedCandidates(t testing.TB, e *Engine, q query.Candidates, opts SearchOptions) (keys []string, anchors []int64, rounds []int) {
	opts.trace = func(a *provider, round int) {
		anchors = append(anchors, a.ID)
		rounds = append(rounds, round)
	}
	res, err := e.Candidates(q, opts)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	defer res.Release()
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
		keys = append(keys, c.key())
	}
	return keys, anchors, rounds
}

func checkRankedAgainstReference(t testing.TB, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed*104729+3))
	cloud := randomCloud(r)
	q := randomQuery(r, cloud)
	e := newEngineWith(cloud)
	want := reference(cloud, q)
	orders := []Order{OrderPack, OrderSpread, OrderDefault}
	order := orders[r.IntN(len(orders))]
	var prefs []Preference
	if order == OrderDefault || r.IntN(2) == 0 {
		prefs = randomPrefs(r)
		if order == OrderDefault && len(prefs) == 0 {
			prefs = []Preference{{Trait: refTraits[0], Weight: 1}}
		}
	}
	opts := SearchOptions{Order: order, Prefer: prefs}
	describe := func() string {
		return fmt.Sprintf("seed %d order %q prefer %+v\nquery %+v\ncloud %+v", seed, order, prefs, q, cloud)
	}
	keys, anchors, rounds := orderedCandidates(t, e, q, opts)
	// The same set as the reference (and so as the default order).
	if len(keys) != len(want) {
		t.Fatalf("%d candidates, want %d\n%s", len(keys), len(want), describe())
	}
	for _, k := range keys {
		if _, ok := want[k]; !ok {
			t.Fatalf("invalid candidate %s\n%s", k, describe())
		}
	}
	if len(anchors) != len(keys) {
		t.Fatalf("traced %d candidates, answered %d\n%s", len(anchors), len(keys), describe())
	}
	// Round by round, trees in rank order.
	rank := testRankKeys(cloud, q, order, prefs)
	for i := 1; i < len(keys); i++ {
		if rounds[i] < rounds[i-1] {
			t.Fatalf("candidate %d in round %d after round %d\n%s", i, rounds[i], rounds[i-1], describe())
		}
		if rounds[i] == rounds[i-1] && compareRank(rank[anchors[i-1]], rank[anchors[i]], order) >= 0 {
			t.Fatalf("candidate %d: tree %d (%+v) after tree %d (%+v) in round %d\n%s", i,
				anchors[i], rank[anchors[i]], anchors[i-1], rank[anchors[i-1]], rounds[i], describe())
		}
	}
	// A limit keeps the prefix: the best-ranked trees' candidates.
	if len(keys) > 1 {
		q.Limit = 1 + r.IntN(len(keys))
		limited, _, _ := orderedCandidates(t, e, q, opts)
		if !slices.Equal(limited, keys[:q.Limit]) {
			t.Fatalf("limit %d kept %v, want the prefix %v\n%s", q.Limit, limited, keys[:q.Limit], describe())
		}
	}
	// Random order with preferences: the same set.
	q.Limit = 0
	rkeys, _, _ := orderedCandidates(t, e, q, SearchOptions{Order: OrderRandom, Prefer: prefs, Seed: seed})
	if len(rkeys) != len(want) {
		t.Fatalf("random: %d candidates, want %d\n%s", len(rkeys), len(want), describe())
	}
	for _, k := range rkeys {
		if _, ok := want[k]; !ok {
			t.Fatalf("random: invalid candidate %s\n%s", k, describe())
		}
	}
}

func TestRankedAgainstReference(t *testing.T) {
	n := uint64(3000)
	if testing.Short() {
		n = 300
	}
	for seed := uint64(1); seed <= n; seed++ {
		checkRankedAgainstReference(t, seed)
	}
}

// FuzzRankedAgainstReference explores more clouds, queries and orders.
func FuzzRankedAgainstReference(f *testing.F) {
	for s := uint64(1); s < 20; s++ {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkRankedAgainstReference(t, seed)
	})
}

// TestRankOrders checks each order on three hosts of 8 VCPU with 0, 2 and
// 6 used (the second has CUSTOM_A, the third is in an aggregate), with and
// without a limit.
func TestRankOrders(t *testing.T) {
	var cloud []model.ProviderState
	for i, used := range []int64{0, 2, 6} {
		id := int64(i + 1)
		p := model.ProviderState{Provider: model.Provider{ID: id, RootID: id,
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), Name: fmt.Sprint("host", id)}}
		p.RootUUID = p.UUID
		inv := model.DefaultInventory("VCPU", 8)
		inv.Used = used
		p.Inventories = []model.Inventory{inv}
		cloud = append(cloud, p)
	}
	cloud[1].Traits = []string{"CUSTOM_A"}
	cloud[2].Aggregates = []string{refAggs[0]}
	e := newEngineWith(cloud)
	tests := []struct {
		name   string
		order  Order
		prefer []Preference
		limit  int
		want   []int64
	}{
		{"default", OrderDefault, nil, 0, []int64{1, 2, 3}},
		{"pack", OrderPack, nil, 0, []int64{3, 2, 1}},
		{"spread", OrderSpread, nil, 0, []int64{1, 2, 3}},
		{"pack limit", OrderPack, nil, 1, []int64{3}},
		{"spread limit", OrderSpread, nil, 2, []int64{1, 2}},
		{"prefer trait", OrderSpread, []Preference{{Trait: "CUSTOM_A", Weight: 1}}, 0, []int64{2, 1, 3}},
		{"prefer aggregate", OrderDefault, []Preference{{Aggregate: refAggs[0], Weight: 2}}, 0, []int64{3, 1, 2}},
		{"weights add up", OrderPack, []Preference{{Trait: "CUSTOM_A", Weight: 1}, {Aggregate: refAggs[0], Weight: 0.5}}, 0, []int64{2, 3, 1}},
		{"negative weight", OrderPack, []Preference{{Aggregate: refAggs[0], Weight: -1}}, 0, []int64{2, 1, 3}},
		{"unknown aggregate", OrderPack, []Preference{{Aggregate: refAggs[1], Weight: 5}}, 0, []int64{3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query.Candidates{NestedAware: true, Limit: tt.limit,
				Groups: []query.Group{{Resources: []query.Amount{{Class: "VCPU", Amount: 1}}}}}
			_, anchors, _ := orderedCandidates(t, e, q, SearchOptions{Order: tt.order, Prefer: tt.prefer})
			if !slices.Equal(anchors, tt.want) {
				t.Errorf("trees %v, want %v", anchors, tt.want)
			}
		})
	}
	q := query.Candidates{NestedAware: true, Groups: []query.Group{{Resources: []query.Amount{{Class: "VCPU", Amount: 1}}}}}
	_, err := e.Candidates(q, SearchOptions{Order: OrderPack, Prefer: []Preference{{Trait: "CUSTOM_NOPE", Weight: 1}}})
	if err == nil || !model.IsKind(err, model.KindBadRequest) {
		t.Errorf("unknown preferred trait: %v, want a bad request", err)
	}
}

// TestRankSharedSumsAgree checks that the two ways of adding up the
// sharing providers' capacity (a lookup per anchor, or one pass for every
// root when most roots are anchors) give the same keys.
func TestRankSharedSumsAgree(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*31+7))
		cloud := randomCloud(r)
		q := randomQuery(r, cloud)
		e := newEngineWith(cloud)
		e.prepare()
		s := &search{e: e, q: q, opts: SearchOptions{Order: OrderPack}, scratch: &scratch{passMarks: new(passMarks)}}
		if err := s.resolve(); err != nil {
			t.Fatal(err)
		}
		perAnchor := s.rankClasses()
		bulk := s.rankClasses()
		s.sumShared(&bulk)
		for _, root := range e.roots {
			_, a := s.rankKey(root, &perAnchor)
			_, b := s.rankKey(root, &bulk)
			if a != b {
				t.Fatalf("seed %d, root %d: fullness %v per anchor, %v in bulk", seed, root.ID, a, b)
			}
		}
	}
}
