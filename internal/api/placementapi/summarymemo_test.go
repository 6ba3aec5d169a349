package placementapi

import (
	"fmt"
	"sync"
	"testing"
)

// The memo serves a fragment only for the version and format it was kept
// under, and a version that lands in an occupied slot replaces the entry.
func TestSummaryMemo(t *testing.T) {
	type op struct {
		put     bool
		version uint64
		format  int
		frag    string // put: kept; get: expected ("" = miss)
	}
	cases := []struct {
		name string
		ops  []op
	}{
		{"empty misses", []op{{version: 1, format: 0}}},
		{"hit after put", []op{{put: true, version: 7, format: 1, frag: "a"}, {version: 7, format: 1, frag: "a"}}},
		{"other format misses", []op{{put: true, version: 7, format: 1, frag: "a"}, {version: 7, format: 0}}},
		{"both formats of one version", []op{{put: true, version: 7, format: 0, frag: "a"}, {put: true, version: 7, format: 1, frag: "b"},
			{version: 7, format: 0, frag: "a"}, {version: 7, format: 1, frag: "b"}}},
		{"newer version of the slot misses", []op{{put: true, version: 7, format: 0, frag: "a"}, {version: 7 + memoSlots, format: 0}}},
		{"newer version replaces the entry", []op{{put: true, version: 7, format: 0, frag: "a"}, {put: true, version: 7 + memoSlots, format: 0, frag: "b"},
			{version: 7, format: 0}, {version: 7 + memoSlots, format: 0, frag: "b"}}},
		{"neighbours do not collide", []op{{put: true, version: 7, format: 0, frag: "a"}, {put: true, version: 8, format: 0, frag: "b"},
			{version: 7, format: 0, frag: "a"}, {version: 8, format: 0, frag: "b"}}},
		{"version 0 is never kept", []op{{put: true, version: 0, format: 0, frag: "a"}, {version: 0, format: 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newSummaryMemo()
			for i, o := range tc.ops {
				if o.put {
					m.put(o.version, o.format, []byte(o.frag))
					continue
				}
				if got := string(m.get(o.version, o.format)); got != o.frag {
					t.Errorf("op %d: get(%d, %d) = %q, want %q", i, o.version, o.format, got, o.frag)
				}
			}
		})
	}
	var nilMemo *summaryMemo
	nilMemo.put(1, 0, []byte("a"))
	if nilMemo.get(1, 0) != nil {
		t.Error("a nil memo kept something")
	}
}

// Concurrent writers of colliding versions never make a reader see a
// fragment of another version (run with -race).
func TestSummaryMemoConcurrent(t *testing.T) {
	m := newSummaryMemo()
	frag := func(v uint64, f int) string { return fmt.Sprintf("v%d/f%d", v, f) }
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				// Versions 1+k*memoSlots share one slot.
				v := uint64(1 + (i*4+w)%8*memoSlots)
				f := i % memoFormats
				if got := m.get(v, f); got != nil && string(got) != frag(v, f) {
					t.Errorf("get(%d, %d) = %q", v, f, got)
					return
				}
				m.put(v, f, []byte(frag(v, f)))
			}
		}()
	}
	wg.Wait()
}
