package placementapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"allot/internal/cputime"
	"allot/internal/metrics"
	"allot/internal/placement"
	"allot/internal/store"
)

// BenchmarkHotPathMetrics times the hot paths with the metrics off (as
// before they existed) and on (as allot serve runs): a candidates query
// over 500 providers, and a claim (PUT /allocations/{new consumer}) on
// SQLite, through the HTTP handler. Compare the pairs with benchstat or
// interleaved -count runs: the difference is what instrumentation costs.
func BenchmarkHotPathMetrics(b *testing.B) {
	type variant struct {
		name string
		do   func(b *testing.B, method, path string, body any, want int)
		rps  []string
	}
	var variants []variant
	for _, on := range []bool{false, true} {
		v := variant{name: "metrics=off"}
		var m *metrics.Metrics
		if on {
			v.name, m = "metrics=on", metrics.New()
		}
		st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"),
			store.Options{Metrics: m, Logger: slog.New(slog.DiscardHandler), SQLiteSynchronous: store.SynchronousNormal})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		svc := placement.New(st, placement.Options{Logger: slog.New(slog.DiscardHandler), Metrics: m})
		api := New(svc, Options{Logger: slog.New(slog.DiscardHandler)})
		api.Metrics = m.HTTP("placement")
		h := api.Handler()
		v.do = func(b *testing.B, method, path string, body any, want int) {
			var j []byte
			if body != nil {
				j, _ = json.Marshal(body)
			}
			req := httptest.NewRequest(method, path, bytes.NewReader(j))
			req.Header.Set("X-Auth-Token", "admin")
			req.Header.Set("OpenStack-API-Version", "placement 1.39")
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.code != want && !(w.code == 0 && want == 200) {
				b.Fatalf("%s %s: %d, want %d", method, path, w.code, want)
			}
		}
		v.rps = make([]string, 500)
		for i := range v.rps {
			v.rps[i] = uuid.NewString()
			v.do(b, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("cn%d", i), "uuid": v.rps[i]}, 200)
			v.do(b, "PUT", "/resource_providers/"+v.rps[i]+"/inventories", map[string]any{"resource_provider_generation": 0,
				"inventories": map[string]any{"VCPU": map[string]any{"total": 1 << 20}, "MEMORY_MB": map[string]any{"total": 1 << 30}}}, 200)
		}
		variants = append(variants, v)
	}
	for _, v := range variants {
		b.Run("candidates/"+v.name, func(b *testing.B) {
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				v.do(b, "GET", "/allocation_candidates?resources=VCPU:1,MEMORY_MB:64&limit=10", nil, 200)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	for _, v := range variants {
		b.Run("claim/"+v.name, func(b *testing.B) {
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				rp := v.rps[i%len(v.rps)]
				v.do(b, "PUT", "/allocations/"+uuid.NewString(), map[string]any{
					"allocations": map[string]any{rp: map[string]any{"resources": map[string]any{"VCPU": 1, "MEMORY_MB": 64}}},
					"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}, 204)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's CPU time in nanoseconds (internal/cputime).
func cpuTime() int64 {
	d, _ := cputime.Process()
	return d.Nanoseconds()
}
