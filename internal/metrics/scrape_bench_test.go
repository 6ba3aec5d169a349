package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkScrape times one GET /metrics of a cloud of N providers with
// three inventories each, with the per-provider capacity series on (four
// series per inventory, openstack-exporter's) and off: what a scrape
// costs the server's CPU, and so how large a cloud the default suits.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		for _, perProvider := range []bool{true, false} {
			b.Run(fmt.Sprintf("providers=%d/per-provider=%v", n, perProvider), func(b *testing.B) {
				m := New()
				m.Watch(Sources{
					Providers: func() int { return n },
					Capacity: func(yield func(Capacity)) {
						for i := 0; i < n; i++ {
							name := fmt.Sprintf("compute-%06d", i)
							for _, c := range []string{"VCPU", "MEMORY_MB", "DISK_GB"} {
								yield(Capacity{Provider: name, Class: c, Total: 64, Reserved: 1, Usage: 12, AllocationRatio: 4})
							}
						}
					},
					PerProvider: perProvider,
				})
				h := Admin(m, nil)
				var size int
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
					size = w.Body.Len()
					io.Discard.Write(w.Body.Bytes())
				}
				b.ReportMetric(float64(size)/1e6, "MB")
			})
		}
	}
}
