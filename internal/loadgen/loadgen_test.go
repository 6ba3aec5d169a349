package loadgen_test

import (
	"context"
	"testing"
	"time"

	"allot/internal/loadgen"
	"allot/internal/testserver"
)

// Every claim the tool counts as done is in the store, and nothing else:
// the usage of the providers equals the successful claims. (The server's
// store does not matter to a client tool: SQLite only.)
func TestRunClaims(t *testing.T) {
	for _, candidates := range []bool{false, true} {
		p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
		cfg := loadgen.Config{URLs: []string{p.URL}, Token: "admin", Concurrency: 4, Duration: 300 * time.Millisecond,
			Class: "VCPU", Amount: 2, Candidates: candidates, CandidateLimit: 5}
		rps, err := loadgen.Setup(context.Background(), cfg, 5, 1000, "lg")
		if err != nil {
			t.Fatal(err)
		}
		res, err := loadgen.RunClaims(context.Background(), cfg, rps)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ops == 0 || len(res.Latencies) != res.Ops || res.Rate() <= 0 || res.Percentile(99) < res.Percentile(50) {
			t.Fatalf("candidates=%v: %s", candidates, res)
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
		// Failed claims (409 on a concurrent update) wrote nothing.
		if int(used) != 2*res.Ops {
			t.Errorf("candidates=%v: usage %v, %d claims done (%d failed: %v)", candidates, used, res.Ops, failed, res.Errors)
		}
	}
}
