package placementapi_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// BenchmarkClaim measures the claim path: PUT /allocations/{new consumer}
// through HTTP, with 1 and 8 concurrent writers, on both stores. Claims land
// on 100 providers round-robin, with capacity for every claim.
func BenchmarkClaim(b *testing.B) {
	for _, backend := range testserver.Backends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", backend, writers), func(b *testing.B) {
				p := testserver.StartPlacement(b, testserver.OpenStore(b, backend))
				rps := make([]string, 100)
				for i := range rps {
					rps[i] = uuid.NewString()
					p.Must(200, "POST", "/resource_providers", "1.20", map[string]any{"name": rps[i], "uuid": rps[i]})
					p.Must(200, "PUT", "/resource_providers/"+rps[i]+"/inventories", "1.39", map[string]any{
						"resource_provider_generation": 0,
						"inventories":                  map[string]any{"VCPU": map[string]any{"total": 1 << 30}, "MEMORY_MB": map[string]any{"total": 1 << 30}},
					})
				}
				var n atomic.Int64
				par := (writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
				b.SetParallelism(par)
				b.ResetTimer()
				start := time.Now()
				if writers == 1 {
					for i := 0; i < b.N; i++ {
						rp := rps[i%len(rps)]
						p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(rp, map[string]int{"VCPU": 1, "MEMORY_MB": 64}, nil))
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							rp := rps[int(n.Add(1))%len(rps)]
							r := p.Do("PUT", "/allocations/"+uuid.NewString(), "1.39", claim(rp, map[string]int{"VCPU": 1, "MEMORY_MB": 64}, nil))
							if r.Status != 204 {
								b.Errorf("claim: %d %s", r.Status, r.Body)
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "claims/s")
			})
		}
	}
}
