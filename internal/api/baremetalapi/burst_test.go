package baremetalapi_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"allot/internal/baremetal"
	"allot/internal/testserver"
)

// makeAvailableNodes enrolls n powered, available nodes of class rc
// through the service (the HTTP node API is covered elsewhere; this keeps
// the burst tests about allocations).
func makeAvailableNodes(tb testing.TB, b *testserver.Baremetal, n int, rc string) {
	tb.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			name := fmt.Sprintf("%s-%04d", rc, i)
			node, err := b.Service.CreateNode(ctx, baremetal.NodeCreate{Driver: baremetal.FakeDriver, Name: &name, ResourceClass: &rc})
			for _, step := range []func() error{
				func() error { return err },
				func() error { return b.Service.SetProvisionState(ctx, node.UUID, "manage") },
				func() error { return b.Service.SetProvisionState(ctx, node.UUID, "provide") },
				func() error { return b.Service.SetPowerState(ctx, node.UUID, "power on") },
			} {
				if err := step(); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// burst POSTs n allocations of class rc at once (from 32 clients) and
// waits until none is allocating; it returns the final allocations.
func burst(tb testing.TB, b *testserver.Baremetal, n int, rc string) []map[string]any {
	tb.Helper()
	var wg sync.WaitGroup
	ids := make([]string, n)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			r := b.Do("POST", "/v1/allocations", v, map[string]any{"resource_class": rc})
			if r.Status != 201 {
				tb.Errorf("POST allocation: %d %s", r.Status, r.Body)
				return
			}
			ids[i] = r.JSON()["uuid"].(string)
		}(i)
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		doc := b.Must(200, "GET", "/v1/allocations?resource_class="+rc+"&state=allocating&limit=1&fields=uuid", v, nil).JSON()
		if len(doc["allocations"].([]any)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("allocations still allocating after 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	all := b.Must(200, "GET", "/v1/allocations?resource_class="+rc+"&limit=100000", v, nil).JSON()["allocations"].([]any)
	out := make([]map[string]any, len(all))
	for i, a := range all {
		out[i] = a.(map[string]any)
	}
	return out
}

// TestAllocationBurst: 1,000 allocations made at once against 1,000
// available nodes all end active, each on its own node, and Placement
// agrees (issue 5, acceptance 4).
func TestAllocationBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("burst of 1,000 allocations skipped in -short mode")
	}
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		const n = 1000
		makeAvailableNodes(t, b, n, "rc-burst")
		allocs := burst(t, b, n, "rc-burst")
		if len(allocs) != n {
			t.Fatalf("%d allocations, want %d", len(allocs), n)
		}
		seen := map[string]string{}
		for _, a := range allocs {
			node, _ := a["node_uuid"].(string)
			if a["state"] != "active" || node == "" {
				t.Fatalf("allocation did not end active: %v", a)
			}
			if other, dup := seen[node]; dup {
				t.Fatalf("node %s given to %s and %s", node, other, a["uuid"])
			}
			seen[node] = a["uuid"].(string)
		}
		usages := b.Placement.Must(200, "GET", "/usages?project_id="+baremetal.DefaultProject, "1.9", nil).JSON()
		if got := fmt.Sprint(usages["usages"]); got != fmt.Sprintf("map[CUSTOM_RC_BURST:%d]", n) {
			t.Errorf("placement usages %s", got)
		}
		c := b.Placement.Must(200, "GET", "/allocation_candidates?resources=CUSTOM_RC_BURST:1", "1.39", nil).JSON()
		if k := len(c["allocation_requests"].([]any)); k != 0 {
			t.Errorf("placement still offers %d allocated nodes", k)
		}
	})
}

// BenchmarkAllocationBurst measures, per iteration, one burst of 1,000
// allocations against 1,000 nodes: the time from POST to active (server
// timestamps created_at to updated_at) as median and p99, and the burst's
// throughput.
//
//	go test ./internal/api/baremetalapi -run '^$' -bench AllocationBurst -benchtime 1x
func BenchmarkAllocationBurst(b *testing.B) {
	for _, be := range testserver.Backends {
		b.Run(be, func(b *testing.B) {
			var lat []time.Duration
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := testserver.StartBaremetal(b, testserver.OpenStore(b, be))
				rc := fmt.Sprintf("rc-b%d", i)
				makeAvailableNodes(b, srv, 1000, rc)
				b.StartTimer()
				start := time.Now()
				for _, a := range burst(b, srv, 1000, rc) {
					created, err1 := time.Parse(time.RFC3339Nano, a["created_at"].(string))
					updated, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(a["updated_at"]))
					if err1 != nil || err2 != nil || a["state"] != "active" {
						b.Fatalf("allocation %v", a)
					}
					lat = append(lat, updated.Sub(created))
				}
				wall += time.Since(start)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(lat))/wall.Seconds(), "allocs/s")
		})
	}
}

// BenchmarkAllocationOne measures one allocation at a time on an idle
// service (1,000 available nodes): POST to active by server timestamps.
func BenchmarkAllocationOne(b *testing.B) {
	for _, be := range testserver.Backends {
		b.Run(be, func(b *testing.B) {
			srv := testserver.StartBaremetal(b, testserver.OpenStore(b, be))
			rc := "rc-one"
			makeAvailableNodes(b, srv, 1000, rc)
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := srv.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": rc}).JSON()
				done := waitDone(b, srv, a["uuid"].(string))
				created, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(done["created_at"]))
				updated, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(done["updated_at"]))
				if err1 != nil || err2 != nil || done["state"] != "active" {
					b.Fatalf("allocation %v", done)
				}
				lat = append(lat, updated.Sub(created))
				if len(lat)%1000 == 0 {
					b.StopTimer() // all nodes used: go on with fresh ones
					rc = fmt.Sprintf("rc-one-%d", i)
					makeAvailableNodes(b, srv, 1000, rc)
					b.StartTimer()
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
