package engine

import (
	"fmt"
	"testing"
	"time"

	"allot/internal/cputime"
	"allot/internal/query"
)

// cpuTime is the process's CPU time (internal/cputime).
func cpuTime(b *testing.B) time.Duration {
	d, err := cputime.Process()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkGrowth measures how a query grows with the cloud (issue 19):
// limit=10, limit=1000 and the full answer (capped at 10,000 candidates as
// allot serve is by default) on generated clouds of 1k, 10k and 100k
// providers, flat and nested, for the default order. When candidates are
// plentiful a limit=10 query should cost about the same at every size.
// Besides the wall clock it reports the process's CPU time per query
// (cpu-ns/op) and the heap the index takes per provider (heap-B/provider,
// measured once per cloud).
func BenchmarkGrowth(b *testing.B) {
	q := query.Candidates{NestedAware: true, Groups: []query.Group{
		{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}
	for _, nested := range []bool{false, true} {
		shape := "flat"
		if nested {
			shape = "nested"
		}
		b.Run(shape, func(b *testing.B) {
			for _, size := range []int{1000, 10000, 100000} {
				// A cloud is built only when a benchmark below runs.
				b.Run(fmt.Sprintf("%dk", size/1000), func(b *testing.B) {
					before := heapMiB()
					e := benchEngine(genCloud(size, nested))
					perProvider := (heapMiB() - before) * (1 << 20) / float64(e.Len())
					for _, limit := range []int{10, 1000, 0} {
						name := fmt.Sprintf("limit%d", limit)
						if limit == 0 {
							name = "full"
						}
						b.Run(name, func(b *testing.B) {
							q := q
							q.Limit = limit
							opts := SearchOptions{MaxCandidates: 10000}
							b.ReportAllocs()
							n := 0
							cpu := cpuTime(b)
							for b.Loop() {
								res, err := e.Candidates(q, opts)
								if err != nil {
									b.Fatal(err)
								}
								n = len(res.Requests)
								res.Release()
							}
							b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
							b.ReportMetric(float64(n), "candidates")
							b.ReportMetric(perProvider, "heap-B/provider")
						})
					}
				})
			}
		})
	}
}
