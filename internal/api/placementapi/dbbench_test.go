package placementapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"allot/internal/placement"
	"allot/internal/store"
)

// BenchmarkCandidatesOnDB times one candidates query (ALLOT_BENCH_QUERY)
// through the HTTP handler over a copy of a real store (ALLOT_BENCH_DB), e.g.
// one loaded by ../shared/peers/placement/loadcloud.py.
func BenchmarkCandidatesOnDB(b *testing.B) {
	path := os.Getenv("ALLOT_BENCH_DB")
	if path == "" {
		b.Skip("ALLOT_BENCH_DB not set")
	}
	st, err := store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc := placement.New(st, placement.Options{})
	h := New(svc, Options{Logger: slog.New(slog.DiscardHandler)}).Handler()
	q := os.Getenv("ALLOT_BENCH_QUERY")
	if err := svc.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/allocation_candidates?"+q, nil)
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.39")
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(c int)           { d.code = c }
