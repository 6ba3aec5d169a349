package engine

import (
	"math/rand/v2"
	"testing"

	"allot/internal/query"
)

// sortAnchors has two strategies (sorting, or picking marked roots in id
// order); both must give the same roots in id order.
func TestSortAnchors(t *testing.T) {
	e := benchEngine(genCloud(2000, true))
	e.prepare()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 32, 33, 100, 400, len(e.roots)} {
		subset := append([]*provider(nil), e.roots...)
		r.Shuffle(len(subset), func(i, j int) { subset[i], subset[j] = subset[j], subset[i] })
		subset = subset[:n]
		want := map[*provider]bool{}
		for _, p := range subset {
			want[p] = true
		}
		s := &search{e: e, scratch: &scratch{passMarks: new(passMarks)}}
		got := s.sortAnchors(subset)
		if len(got) != n {
			t.Fatalf("n=%d: %d anchors back", n, len(got))
		}
		for i, p := range got {
			if !want[p] {
				t.Fatalf("n=%d: %s was not given", n, p.UUID)
			}
			if i > 0 && got[i-1].ID >= p.ID {
				t.Fatalf("n=%d: not in id order at %d", n, i)
			}
		}
	}
}

// A search with no selective filter tests the roots' class masks as it
// takes them: a limited one stops testing right after the root that gave
// its last candidate (one more is taken to find the search full), while an
// unlimited or ranked one tests every root once.
func TestLimitedSearchTestsFewRoots(t *testing.T) {
	q := query.Candidates{NestedAware: true, Groups: []query.Group{
		{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}
	for _, nested := range []bool{false, true} {
		e := benchEngine(genCloud(5000, nested))
		pos := map[*provider]int{}
		for i, r := range e.roots {
			pos[r] = i
		}
		for _, tc := range []struct {
			limit int
			order Order
		}{{1, OrderDefault}, {10, OrderDefault}, {100, OrderDefault}, {0, OrderDefault}, {10, OrderPack}} {
			q := q
			q.Limit = tc.limit
			last := -1
			opts := SearchOptions{Order: tc.order, trace: func(a *provider, round int) {
				if round == 0 {
					last = max(last, pos[a])
				}
			}}
			res, err := e.Candidates(q, opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.limit > 0 && len(res.Requests) != tc.limit {
				t.Fatalf("nested=%v limit=%d: %d candidates", nested, tc.limit, len(res.Requests))
			}
			got := res.Stats.Roots
			switch {
			case tc.limit == 0 || tc.order != OrderDefault:
				if got != len(e.roots) {
					t.Errorf("nested=%v limit=%d order=%v: %d roots tested, want all %d", nested, tc.limit, tc.order, got, len(e.roots))
				}
			case got > last+2:
				t.Errorf("nested=%v limit=%d: %d roots tested, the last candidate came from root %d of %d", nested, tc.limit, got, last, len(e.roots))
			}
			res.Release()
		}
	}
}
