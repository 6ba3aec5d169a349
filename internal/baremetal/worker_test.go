package baremetal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"allot/internal/model"
	"allot/internal/store"
)

// TestWorkers runs the service's own workers: a burst of allocations, more
// than there are nodes, ends with every node given once, each claimed once
// in Placement, and the allocations left over failed with a reason.
func TestWorkers(t *testing.T) {
	e := newEnvWith(t, Options{Workers: 2, Poll: 10 * time.Millisecond})
	const nodes, allocs = 3, 5
	for i := 0; i < nodes; i++ {
		e.node(nodeSpec{name: fmt.Sprintf("gold-%d", i), rc: "gold"})
	}
	e.svc.Start()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			e.svc.Stop()
		}
	}
	t.Cleanup(stop)
	var uuids []string
	for i := 0; i < allocs; i++ {
		a, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold")})
		e.must(err, "create allocation")
		uuids = append(uuids, a.UUID)
	}
	done := map[string]model.NodeAllocation{}
	for deadline := time.Now().Add(20 * time.Second); len(done) < allocs; {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s only %d of %d allocations were processed", len(done), allocs)
		}
		for _, u := range uuids {
			if a := e.getAllocation(u); a.State != model.AllocAllocating {
				done[u] = a
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	given := map[string]string{}
	failed := 0
	for u, a := range done {
		switch a.State {
		case model.AllocActive:
			if prev, dup := given[a.NodeUUID]; dup {
				t.Errorf("node %s given to %s and %s", a.NodeUUID, prev, u)
			}
			given[a.NodeUUID] = u
			e.wantClaim(u, a.NodeUUID, "CUSTOM_GOLD")
			e.wantUnit(a.NodeUUID, "CUSTOM_GOLD", 0, 1)
		case model.AllocError:
			failed++
			msg := deref(a.LastError)
			prefix := "Failed to process allocation " + u + ": "
			if !strings.HasPrefix(msg, prefix) ||
				!strings.Contains(msg, "no available nodes match the resource class gold (3 nodes of that class: 3 associated with an instance)") &&
					!strings.Contains(msg, "suitable nodes: each was taken by another allocation first") {
				t.Errorf("last_error %q", msg)
			}
			e.wantClaim(u, "", "")
		default:
			t.Errorf("allocation %s in state %s", u, a.State)
		}
	}
	if len(given) != nodes || failed != allocs-nodes {
		t.Errorf("%d nodes given, %d allocations failed; want %d and %d", len(given), failed, nodes, allocs-nodes)
	}
}

// TestLeaseTakeover checks that an allocation whose worker's lease expired
// is processed by another worker, and that the first worker, coming back
// late, can no longer bind or fail it.
func TestLeaseTakeover(t *testing.T) {
	e := newEnvWith(t, Options{Workers: -1, Lease: time.Millisecond})
	n := e.node(nodeSpec{name: "gold-1", rc: "gold"})
	a, err := e.svc.CreateAllocation(e.ctx, AllocationCreate{ResourceClass: ptr("gold")})
	e.must(err, "create allocation")
	// Worker "dead" leases it, then never finishes.
	var leased model.NodeAllocation
	e.must(e.svc.store.Write(e.ctx, func(tx *store.Tx) error {
		now := tx.Now()
		var ok bool
		var err error
		leased, ok, err = tx.ClaimPendingAllocation(e.ctx, "dead", now, now.Add(time.Millisecond))
		if err == nil && !ok {
			err = fmt.Errorf("nothing to lease")
		}
		return err
	}), "lease")
	time.Sleep(5 * time.Millisecond) // past the 1 ms lease
	e.process()
	got := e.getAllocation(a.UUID)
	if got.State != model.AllocActive || got.NodeUUID != n.UUID {
		t.Fatalf("taken-over allocation: %+v", got)
	}
	// The dead worker wakes up: its bind and its failure are ignored.
	if done, taken, err := e.svc.tryBind(e.ctx, "dead", leased, n.UUID); err != nil || !done || taken {
		t.Errorf("late bind: done %v, taken %v, %v", done, taken, err)
	}
	e.must(e.svc.fail(e.ctx, "dead", leased, "too late"), "late failure")
	if again := e.getAllocation(a.UUID); again.State != model.AllocActive || again.LastError != nil || again.NodeUUID != n.UUID {
		t.Errorf("the late worker changed the allocation: %+v", again)
	}
	e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
}

// TestTryBind checks the worker's bind step on nodes that changed after the
// engine offered them: a node taken meanwhile counts as taken (and
// last_error says so), a node whose class is only spelled like the
// allocation's does not.
func TestTryBind(t *testing.T) {
	e := newEnv(t)
	gold := e.node(nodeSpec{name: "gold-1", rc: "gold"})
	upper := e.node(nodeSpec{name: "gold-2", rc: "GOLD"})
	lease := func() model.NodeAllocation {
		t.Helper()
		var a model.NodeAllocation
		e.must(e.svc.store.Write(e.ctx, func(tx *store.Tx) error {
			var ok bool
			var err error
			a, ok, err = tx.ClaimPendingAllocation(e.ctx, "w", tx.Now(), tx.Now().Add(time.Minute))
			if err == nil && !ok {
				err = fmt.Errorf("nothing to lease")
			}
			return err
		}), "lease")
		return a
	}
	for _, in := range []AllocationCreate{{ResourceClass: ptr("gold")}, {ResourceClass: ptr("gold")}} {
		_, err := e.svc.CreateAllocation(e.ctx, in)
		e.must(err, "create allocation")
	}
	first, second := lease(), lease()
	for _, tc := range []struct {
		name        string
		a           model.NodeAllocation
		node        string
		done, taken bool
	}{
		{"free node", first, gold.UUID, true, false},
		{"node just taken", second, gold.UUID, false, true},
		{"class spelled otherwise", second, upper.UUID, false, false},
		{"deleted node", second, "0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b", false, true},
		{"already bound", model.NodeAllocation{ID: first.ID}, gold.UUID, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, taken, err := e.svc.tryBind(e.ctx, "w", tc.a, tc.node)
			if err != nil || done != tc.done || taken != tc.taken {
				t.Errorf("done %v, taken %v, %v; want done %v, taken %v", done, taken, err, tc.done, tc.taken)
			}
		})
	}
	e.wantClaim(first.UUID, gold.UUID, "CUSTOM_GOLD")
	e.wantClaim(second.UUID, "", "")
	reason, err := e.svc.diagnose(e.ctx, second, 1)
	e.must(err, "diagnose")
	if want := "could not reserve any of 1 suitable nodes: each was taken by another allocation first"; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	e.must(e.svc.fail(e.ctx, "w", second, reason), "fail")
	if got := e.getAllocation(second.UUID); got.State != model.AllocError ||
		deref(got.LastError) != "Failed to process allocation "+second.UUID+": "+reason+"." {
		t.Errorf("failed allocation: %s %q", got.State, deref(got.LastError))
	}
}
