package loadgen_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"allot/internal/loadgen"
	"allot/internal/testserver"
)

// Every claim the tool counts as done is in the store, and nothing else:
// the usage of the providers equals the successful claims. Runs until the
// cloud is full end with nothing left that fits. (The server's store does
// not matter to a client tool: SQLite only.)
func TestRunClaims(t *testing.T) {
	for _, c := range []struct {
		mode      loadgen.Mode
		untilFull bool
		total     int64
	}{
		{loadgen.ModeRandom, false, 1000},
		{loadgen.ModeQuery, false, 1000},
		{loadgen.ModeAtomic, false, 1000},
		{loadgen.ModeQuery, true, 20},
		{loadgen.ModeAtomic, true, 20},
	} {
		p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
		cfg := loadgen.Config{URLs: []string{p.URL}, Token: "admin", Concurrency: 4, Duration: 300 * time.Millisecond,
			Class: "VCPU", Amount: 2, Mode: c.mode, CandidateLimit: 5, Retries: 2, UntilFull: c.untilFull, Strategy: "pack"}
		if c.untilFull {
			cfg.Duration = time.Minute // the run ends when the cloud is full
		}
		// Another cloud's providers in the same deployment: the run's
		// queries must not see them.
		if _, err := loadgen.Setup(context.Background(), cfg, 2, c.total, "other"); err != nil {
			t.Fatal(err)
		}
		cloud, err := loadgen.Setup(context.Background(), cfg, 5, c.total, "lg")
		if err != nil {
			t.Fatal(err)
		}
		res, err := loadgen.RunClaims(context.Background(), cfg, cloud)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s until full %v", c.mode, c.untilFull)
		if res.Ops == 0 || len(res.Latencies) != res.Ops || res.Rate() <= 0 || res.Percentile(99) < res.Percentile(50) {
			t.Fatalf("%s: %s", name, res)
		}
		if res.Full != c.untilFull {
			t.Errorf("%s: ended because full: %v", name, res.Full)
		}
		var used float64
		for _, rp := range cloud.Providers {
			u := p.Must(200, "GET", "/resource_providers/"+rp+"/usages", "1.39", nil).JSON()
			used += u["usages"].(map[string]any)["VCPU"].(float64)
		}
		// The atomic claim retries on the server: while capacity remains,
		// its clients see no conflict.
		if c.mode == loadgen.ModeAtomic && (res.Failed() != 0 || res.Conflicts != 0) {
			t.Errorf("%s: atomic claims failed with capacity left: %d conflicts, %v", name, res.Conflicts, res.Errors)
		}
		// Each retry follows a 409, and a claim gives up after Retries.
		if res.Retries > res.Conflicts || res.Conflicts > res.Retries+res.Failed() {
			t.Errorf("%s: %d conflicts, %d retries, %d failed", name, res.Conflicts, res.Retries, res.Failed())
		}
		// Failed claims (409 on a concurrent update) wrote nothing.
		if int(used) != 2*res.Ops {
			t.Errorf("%s: usage %v, %d claims done (%d failed: %v)", name, used, res.Ops, res.Failed(), res.Errors)
		}
		left, err := loadgen.Remaining(context.Background(), cfg, cloud)
		if err != nil {
			t.Fatal(err)
		}
		if want := (5*c.total - int64(used)) / 2; left != want && c.mode != loadgen.ModeRandom {
			t.Errorf("%s: %d claims still fit, the usages say %d", name, left, want)
		}
		// A run until full ends when nothing fits: the search said so.
		if c.untilFull && left != 0 {
			t.Errorf("%s: ended with %d claims still fitting", name, left)
		}
		for _, other := range p.Must(200, "GET", "/resource_providers?name=other-00000", "1.39", nil).JSON()["resource_providers"].([]any) {
			u := p.Must(200, "GET", "/resource_providers/"+other.(map[string]any)["uuid"].(string)+"/usages", "1.39", nil).JSON()
			if n := u["usages"].(map[string]any)["VCPU"].(float64); n != 0 {
				t.Errorf("%s: a provider outside the run's aggregate got %v VCPU", name, n)
			}
		}
	}
	if _, err := loadgen.RunClaims(context.Background(), loadgen.Config{URLs: []string{"http://127.0.0.1:1"}, Mode: loadgen.ModeRandom, UntilFull: true}, loadgen.Cloud{Providers: []string{"x"}}); err == nil {
		t.Error("a random-provider run until full started")
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
