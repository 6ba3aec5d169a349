package audit_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"allot/internal/audit"
	"allot/internal/testserver"
)

// TestLiveRepairOnPostgreSQL repairs a usage counter on PostgreSQL while
// another replica serves and clients claim on the same provider: the
// repair waits for the claims' locks and recounts what they committed, so
// the store checks clean afterwards, and the replica's candidate index,
// which had loaded the wrong counter, answers from the repaired one (the
// repair wrote the change feed).
func TestLiveRepairOnPostgreSQL(t *testing.T) {
	c := newCloud(t, "postgres")
	rp := c.provider("cn1", map[string]int{"VCPU": 100})
	if s := c.allocate(uuid.NewString(), map[string]map[string]int{rp: {"VCPU": 10}}); s != 204 {
		t.Fatalf("allocate: %d", s)
	}
	// The counter says the provider is full: behind every replica's back.
	exec(t, rawDB(t, c.st), `UPDATE inventories SET used = 100`)
	replica := testserver.StartPlacement(t, testserver.OpenDSN(t, c.st.DSN()))
	candidates := func() int {
		r := replica.Must(200, "GET", "/allocation_candidates?resources=VCPU:1", placementVersion, nil)
		reqs, _ := r.JSON()["allocation_requests"].([]any)
		return len(reqs)
	}
	if n := candidates(); n != 0 {
		t.Fatalf("the replica offers %d candidates on a provider whose counter says full", n)
	}

	report := check(t, c.st)
	if got := kinds(report); len(got) != 1 || got[0] != string(audit.KindUsageCounter) {
		t.Fatalf("want one usage-counter violation:\n%s", describe(report))
	}
	// Claims through the replica race the repair; those refused for
	// capacity (the wrong counter) before it are fine, as long as every
	// one that succeeded is counted after it.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				r := replica.Do("PUT", "/allocations/"+uuid.NewString(), placementVersion, map[string]any{
					"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 1}}},
					"project_id":  "p1", "user_id": "u1", "consumer_generation": nil, "consumer_type": "INSTANCE"})
				if r.Status != 204 && r.Status != 409 {
					t.Errorf("claim during the repair: %d %s", r.Status, r.Body)
				}
			}
		}()
	}
	for _, rep := range audit.Fix(context.Background(), c.st, report, nil) {
		if rep.Err != nil {
			t.Errorf("repair: %v", rep.Err)
		}
	}
	wg.Wait()
	if after := check(t, c.st); after.Violations() != 0 {
		t.Fatalf("violations after the live repair:\n%s", describe(after))
	}
	if n := candidates(); n != 1 {
		t.Fatalf("after the repair the replica offers %d candidates, want 1 (it must see the repaired counter)", n)
	}
	var used float64
	r := replica.Must(200, "GET", "/resource_providers/"+rp+"/usages", placementVersion, nil)
	used, _ = r.JSON()["usages"].(map[string]any)["VCPU"].(float64)
	allocs := replica.Must(200, "GET", "/resource_providers/"+rp+"/allocations", placementVersion, nil).JSON()["allocations"].(map[string]any)
	var sum float64
	for _, a := range allocs {
		sum += a.(map[string]any)["resources"].(map[string]any)["VCPU"].(float64)
	}
	if used != sum {
		t.Fatalf("usage %v, allocations sum to %v", used, sum)
	}
	t.Logf("after the repair: %v VCPU used by %d consumers", used, len(allocs))
}
