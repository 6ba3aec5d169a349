package engine

import (
	"math/rand/v2"
	"testing"
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
		s := &search{e: e, scratch: new(scratch)}
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
