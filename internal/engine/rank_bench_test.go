package engine

import (
	"fmt"
	"testing"

	"allot/internal/query"
)

// BenchmarkRankedCandidates compares the orders on generated flat and
// nested clouds of 10k and 100k providers, with limit 10 and 1,000 (capped
// at 10,000 candidates as allot serve is by default): ranking looks at
// every anchor tree (O(A log A)) but generates only limit candidates.
func BenchmarkRankedCandidates(b *testing.B) {
	q := query.Candidates{NestedAware: true, Groups: []query.Group{
		{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}
	orders := []struct {
		name string
		opts SearchOptions
	}{
		{"default", SearchOptions{}},
		{"pack", SearchOptions{Order: OrderPack}},
		{"spread", SearchOptions{Order: OrderSpread}},
		{"pack_prefer", SearchOptions{Order: OrderPack, Prefer: []Preference{{Trait: "HW_CPU_X86_AVX512F", Weight: 2}, {Aggregate: "aaaaaaaa-0000-4000-8000-000000000001", Weight: 1}}}},
		{"random", SearchOptions{Order: OrderRandom, Seed: 1}},
	}
	for _, size := range []int{10000, 100000} {
		for _, nested := range []bool{false, true} {
			shape := "flat"
			if nested {
				shape = "nested"
			}
			e := benchEngine(genCloud(size, nested))
			for _, limit := range []int{10, 1000} {
				for _, o := range orders {
					b.Run(fmt.Sprintf("%dk_%s/limit%d/%s", size/1000, shape, limit, o.name), func(b *testing.B) {
						q := q
						q.Limit = limit
						opts := o.opts
						opts.MaxCandidates = 10000
						b.ReportAllocs()
						for b.Loop() {
							res, err := e.Candidates(q, opts)
							if err != nil {
								b.Fatal(err)
							}
							if len(res.Requests) != limit {
								b.Fatalf("%d candidates, want %d", len(res.Requests), limit)
							}
							res.Release()
						}
					})
				}
			}
		}
	}
}
