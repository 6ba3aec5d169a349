package loadgen_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"allot/internal/loadgen"
	"allot/internal/testserver"
)

// Every claim the tool counts as done is in the store, and nothing else:
// the usage of the providers equals the successful claims. (The server's
// store does not matter to a client tool: SQLite only.)
func TestRunClaims(t *testing.T) {
	for _, mode := range []struct{ candidates, atomic bool }{{false, false}, {true, false}, {false, true}} {
		candidates := mode.candidates
		p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
		cfg := loadgen.Config{URLs: []string{p.URL}, Token: "admin", Concurrency: 4, Duration: 300 * time.Millisecond,
			Class: "VCPU", Amount: 2, Candidates: candidates, CandidateLimit: 5, Atomic: mode.atomic, Strategy: "pack"}
		rps, err := loadgen.Setup(context.Background(), cfg, 5, 1000, "lg")
		if err != nil {
			t.Fatal(err)
		}
		res, err := loadgen.RunClaims(context.Background(), cfg, rps)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ops == 0 || len(res.Latencies) != res.Ops || res.Rate() <= 0 || res.Percentile(99) < res.Percentile(50) {
			t.Fatalf("mode %+v: %s", mode, res)
		}
		var used float64
		for _, rp := range rps {
			u := p.Must(200, "GET", "/resource_providers/"+rp+"/usages", "1.39", nil).JSON()
			used += u["usages"].(map[string]any)["VCPU"].(float64)
		}
		var failed int
		for _, n := range res.Errors {
			failed += n
		}
		// The atomic claim retries on the server: while capacity remains,
		// its clients see no conflict.
		if mode.atomic && failed != 0 {
			t.Errorf("atomic claims failed with capacity left: %v", res.Errors)
		}
		// Failed claims (409 on a concurrent update) wrote nothing.
		if int(used) != 2*res.Ops {
			t.Errorf("mode %+v: usage %v, %d claims done (%d failed: %v)", mode, used, res.Ops, failed, res.Errors)
		}
	}
}

// RunQueries counts the answered queries and files the refused ones by
// status and error code, on kept and on fresh connections.
func TestRunQueries(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	base := loadgen.Config{URLs: []string{p.URL}, Token: "admin", Class: "VCPU"}
	if _, err := loadgen.Setup(context.Background(), base, 3, 100, "lq"); err != nil {
		t.Fatal(err)
	}
	for _, fresh := range []bool{false, true} {
		cfg := loadgen.QueryConfig{URLs: []string{p.URL}, Token: "admin", Concurrency: 2, Duration: 200 * time.Millisecond,
			Queries: []string{"resources=VCPU:1", "resources=VCPU:2&limit=1"}, NewConnections: fresh}
		res, err := loadgen.RunQueries(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ops == 0 || len(res.Errors) != 0 || len(res.Latencies) != res.Ops {
			t.Fatalf("new connections %v: %s", fresh, res)
		}
		cfg.Queries = []string{"resources=NO_SUCH_CLASS:1"}
		res, err = loadgen.RunQueries(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ops != 0 || len(res.Errors) != 1 {
			t.Fatalf("new connections %v, unknown class: %s", fresh, res)
		}
		for kind := range res.Errors {
			if !strings.HasPrefix(kind, "400") {
				t.Errorf("unknown class counted as %q, want a 400", kind)
			}
		}
	}
	if _, err := loadgen.RunQueries(context.Background(), loadgen.QueryConfig{URLs: []string{p.URL}}); err == nil {
		t.Error("a run without queries started")
	}
}
