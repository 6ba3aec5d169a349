package baremetalapi_test

import (
	"context"
	"testing"
	"time"

	"allot/internal/baremetal"
	"allot/internal/store"
	"allot/internal/testserver"
)

// An allocation left allocating by a worker that died is taken over once
// the dead worker's lease expires, and not before.
func TestAllocationTakeover(t *testing.T) {
	for _, be := range testserver.Backends {
		t.Run(be, func(t *testing.T) {
			st := testserver.OpenStore(t, be)
			// A replica whose workers never run: its allocations stay pending.
			idle := testserver.StartBaremetalWith(t, st, baremetal.Options{Workers: -1})
			node := enroll(t, idle, "n1", "rc-t", "available", false)
			a := idle.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-t"}).JSON()
			id := a["uuid"].(string)

			// A worker "dead-1" leases it for 400 ms, then dies.
			ctx := context.Background()
			leased := time.Now()
			if err := st.Write(ctx, func(tx *store.Tx) error {
				now := tx.Now()
				_, ok, err := tx.ClaimPendingAllocation(ctx, "dead-1", now, now.Add(400*time.Millisecond))
				if !ok && err == nil {
					t.Fatal("nothing to lease")
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			// A live replica polls every 20 ms: it must wait for the lease.
			live := testserver.StartBaremetalWith(t, st, baremetal.Options{Poll: 20 * time.Millisecond, Lease: time.Second})
			time.Sleep(150 * time.Millisecond)
			if got := live.Must(200, "GET", "/v1/allocations/"+id, v, nil).JSON(); got["state"] != "allocating" && time.Since(leased) < 400*time.Millisecond {
				t.Fatalf("leased allocation taken over early: %v", got)
			}
			done := waitDone(t, live, id)
			if done["state"] != "active" || done["node_uuid"] != node {
				t.Fatalf("after takeover: %v", done)
			}
			if time.Since(leased) < 400*time.Millisecond {
				t.Errorf("taken over %v after a 400 ms lease", time.Since(leased))
			}
		})
	}
}
