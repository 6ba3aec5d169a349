package placementapi_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// setInventory replaces a provider's inventory and returns the new generation.
func setInventory(t *testing.T, p *testserver.Placement, rp string, gen int, inv map[string]any) int {
	t.Helper()
	r := p.Must(200, "PUT", "/resource_providers/"+rp+"/inventories", "1.39",
		map[string]any{"resource_provider_generation": gen, "inventories": inv})
	return int(r.JSON()["resource_provider_generation"].(float64))
}

func claim(rp string, resources map[string]int, gen any) map[string]any {
	return map[string]any{
		"allocations":         map[string]any{rp: map[string]any{"resources": resources}},
		"project_id":          "p1",
		"user_id":             "u1",
		"consumer_generation": gen,
		"consumer_type":       "INSTANCE",
	}
}

func TestAllocationRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		rp := createProvider(t, p, "cn", "")
		setInventory(t, p, rp, 0, map[string]any{
			"VCPU":    map[string]any{"total": 8, "allocation_ratio": 1.5},
			"DISK_GB": map[string]any{"total": 100, "min_unit": 10, "max_unit": 50, "step_size": 10},
		})
		c1, c2 := uuid.NewString(), uuid.NewString()
		// capacity = 8 * 1.5 = 12
		p.Must(204, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"VCPU": 10}, nil))
		r := p.Must(409, "PUT", "/allocations/"+c2, "1.39", claim(rp, map[string]int{"VCPU": 3}, nil))
		if !contains(r.Body, "would exceed the capacity") {
			t.Errorf("over capacity: %s", r.Body)
		}
		for _, amount := range []int{5, 60, 15} { // below min, above max, off step
			r = p.Must(409, "PUT", "/allocations/"+c2, "1.39", claim(rp, map[string]int{"DISK_GB": amount}, nil))
			if !contains(r.Body, "violate inventory constraints") {
				t.Errorf("DISK_GB %d: %s", amount, r.Body)
			}
		}
		r = p.Must(409, "PUT", "/allocations/"+c2, "1.39", claim(rp, map[string]int{"MEMORY_MB": 1}, nil))
		if !contains(r.Body, "Inventory for 'MEMORY_MB'") {
			t.Errorf("no inventory: %s", r.Body)
		}
		p.Must(400, "PUT", "/allocations/"+c2, "1.39", claim(uuid.NewString(), map[string]int{"VCPU": 1}, nil))
		// Consumer generations: null for a new consumer, the current one after.
		r = p.Must(409, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"VCPU": 2}, nil))
		if r.ErrorCode() != "placement.concurrent_update" {
			t.Errorf("stale consumer generation: %s", r.Body)
		}
		got := p.Must(200, "GET", "/allocations/"+c1, "1.39", nil).JSON()
		if got["consumer_generation"].(float64) != 1 || got["consumer_type"] != "INSTANCE" {
			t.Errorf("GET allocations = %v", got)
		}
		p.Must(204, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"VCPU": 2}, 1))
		// Shrinking the inventory below usage is allowed; a write that does
		// not worsen the over-commit is then allowed too, one that does is not.
		gen := int(p.Must(200, "GET", "/resource_providers/"+rp, "1.39", nil).JSON()["generation"].(float64))
		setInventory(t, p, rp, gen, map[string]any{"VCPU": map[string]any{"total": 1},
			"DISK_GB": map[string]any{"total": 100, "min_unit": 10, "max_unit": 50, "step_size": 10}})
		p.Must(204, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"VCPU": 2}, 2))
		p.Must(409, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"VCPU": 3}, 3))
		// Removing inventory in use is refused.
		gen = int(p.Must(200, "GET", "/resource_providers/"+rp, "1.39", nil).JSON()["generation"].(float64))
		r = p.Must(409, "PUT", "/resource_providers/"+rp+"/inventories", "1.39",
			map[string]any{"resource_provider_generation": gen, "inventories": map[string]any{}})
		if r.ErrorCode() != "placement.inventory.inuse" {
			t.Errorf("remove used inventory: %s", r.Body)
		}
		// Usages, then the safe delete with {} removes the consumer.
		u := p.Must(200, "GET", "/resource_providers/"+rp+"/usages", "1.39", nil).JSON()["usages"].(map[string]any)
		if u["VCPU"].(float64) != 2 || u["DISK_GB"].(float64) != 0 {
			t.Errorf("usages = %v", u)
		}
		tot := p.Must(200, "GET", "/usages?project_id=p1", "1.39", nil).JSON()["usages"].(map[string]any)
		if inst := tot["INSTANCE"].(map[string]any); inst["VCPU"].(float64) != 2 || inst["consumer_count"].(float64) != 1 {
			t.Errorf("/usages = %v", tot)
		}
		p.Must(204, "PUT", "/allocations/"+c1, "1.39", map[string]any{"allocations": map[string]any{},
			"project_id": "p1", "user_id": "u1", "consumer_generation": 3, "consumer_type": "INSTANCE"})
		got = p.Must(200, "GET", "/allocations/"+c1, "1.39", nil).JSON()
		if len(got["allocations"].(map[string]any)) != 0 || got["consumer_generation"] != nil {
			t.Errorf("after safe delete: %v", got)
		}
		// The consumer is gone, so the next write must say null again.
		p.Must(204, "PUT", "/allocations/"+c1, "1.39", claim(rp, map[string]int{"DISK_GB": 10}, nil))
		p.Must(204, "DELETE", "/allocations/"+c1, "1.39", nil)
		p.Must(404, "DELETE", "/allocations/"+c1, "1.39", nil)
	})
}

// TestConcurrentClaims races many writers for a provider that fits only
// some of them: afterwards usage is the sum of the acknowledged claims,
// never above capacity, and every refusal was a 409 with a Placement body.
func TestConcurrentClaims(t *testing.T) {
	for _, backend := range testserver.Backends {
		for _, withGen := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/generations=%v", backend, withGen), func(t *testing.T) {
				st := testserver.OpenStore(t, backend)
				servers := []*testserver.Placement{testserver.StartPlacement(t, st)}
				if backend == "postgres" {
					// Independent stores: separate connection pools, as separate processes would have.
					dsn := st.DSN()
					for i := 0; i < 2; i++ {
						servers = append(servers, testserver.StartPlacement(t, testserver.OpenDSN(t, dsn)))
					}
				}
				p := servers[0]
				rp := createProvider(t, p, "contended", "")
				const capacity, writers, each = 20, 40, 3
				setInventory(t, p, rp, 0, map[string]any{"VCPU": map[string]any{"total": capacity}})
				var ok, refused atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan string, writers)
				for i := 0; i < writers; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						srv := servers[i%len(servers)]
						consumer := uuid.NewString()
						body := claim(rp, map[string]int{"VCPU": each}, nil)
						version := "1.39"
						if !withGen {
							version = "1.27"
							delete(body, "consumer_generation")
							delete(body, "consumer_type")
						}
						r := srv.Do("PUT", "/allocations/"+consumer, version, body)
						switch {
						case r.Status == 204:
							ok.Add(1)
						case r.Status == 409 && len(r.JSON()["errors"].([]any)) == 1:
							refused.Add(1)
						default:
							errs <- fmt.Sprintf("claim %d: status %d: %s", i, r.Status, r.Body)
						}
					}(i)
				}
				wg.Wait()
				close(errs)
				for e := range errs {
					t.Error(e)
				}
				if ok.Load() != capacity/each {
					t.Errorf("%d claims of %d succeeded on capacity %d, want %d", ok.Load(), each, capacity, capacity/each)
				}
				used := p.Must(200, "GET", "/resource_providers/"+rp+"/usages", "1.39", nil).JSON()["usages"].(map[string]any)["VCPU"].(float64)
				if int64(used) != ok.Load()*each || used > capacity {
					t.Errorf("usage %v, acknowledged %d x %d, capacity %d", used, ok.Load(), each, capacity)
				}
				allocs := p.Must(200, "GET", "/resource_providers/"+rp+"/allocations", "1.39", nil).JSON()["allocations"].(map[string]any)
				if int64(len(allocs)) != ok.Load() {
					t.Errorf("%d consumers hold allocations, %d were acknowledged", len(allocs), ok.Load())
				}
			})
		}
	}
}

// TestReshapeIsAtomic moves allocations from a root to new children in one
// call while readers watch: no reader ever sees a state in between.
func TestReshapeIsAtomic(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		root := createProvider(t, p, "root", "")
		setInventory(t, p, root, 0, map[string]any{"VCPU": map[string]any{"total": 16}, "MEMORY_MB": map[string]any{"total": 4096}})
		consumer := uuid.NewString()
		p.Must(204, "PUT", "/allocations/"+consumer, "1.39", claim(root, map[string]int{"VCPU": 4, "MEMORY_MB": 1024}, nil))
		numa0 := createProvider(t, p, "numa0", root)
		numa1 := createProvider(t, p, "numa1", root)
		stop := make(chan struct{})
		var seen sync.Map
		var wg sync.WaitGroup
		var bad atomic.Int64
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					r := p.Do("GET", "/allocations/"+consumer, "1.39", nil)
					allocs := r.JSON()["allocations"].(map[string]any)
					total := map[string]float64{}
					for _, a := range allocs {
						for rc, n := range a.(map[string]any)["resources"].(map[string]any) {
							total[rc] += n.(float64)
						}
					}
					_, onRoot := allocs[root]
					state := "root"
					if !onRoot {
						state = "children"
					}
					seen.Store(state, true)
					if total["VCPU"] != 4 || total["MEMORY_MB"] != 1024 || (onRoot && len(allocs) != 1) || (!onRoot && len(allocs) != 2) {
						bad.Add(1)
						t.Errorf("intermediate state visible: %s", r.Body)
					}
				}
			}()
		}
		rootGen := int(p.Must(200, "GET", "/resource_providers/"+root, "1.39", nil).JSON()["generation"].(float64))
		body := map[string]any{
			"inventories": map[string]any{
				root:  map[string]any{"resource_provider_generation": rootGen, "inventories": map[string]any{}},
				numa0: map[string]any{"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}, "MEMORY_MB": map[string]any{"total": 2048}}},
				numa1: map[string]any{"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}, "MEMORY_MB": map[string]any{"total": 2048}}},
			},
			"allocations": map[string]any{
				consumer: map[string]any{
					"allocations": map[string]any{
						numa0: map[string]any{"resources": map[string]any{"VCPU": 4}},
						numa1: map[string]any{"resources": map[string]any{"MEMORY_MB": 1024}},
					},
					"project_id": "p1", "user_id": "u1", "consumer_generation": 1, "consumer_type": "INSTANCE",
				},
			},
		}
		p.Must(204, "POST", "/reshaper", "1.39", body)
		// Keep reading a little after the reshape.
		for i := 0; i < 20; i++ {
			p.Do("GET", "/", "", nil)
		}
		close(stop)
		wg.Wait()
		if _, ok := seen.Load("children"); !ok {
			t.Error("readers never saw the reshaped state")
		}
		if inv := p.Must(200, "GET", "/resource_providers/"+root+"/inventories", "1.39", nil).JSON()["inventories"].(map[string]any); len(inv) != 0 {
			t.Errorf("root kept inventory %v", inv)
		}
		u := p.Must(200, "GET", "/resource_providers/"+numa0+"/usages", "1.39", nil).JSON()["usages"].(map[string]any)
		if u["VCPU"].(float64) != 4 {
			t.Errorf("numa0 usages = %v", u)
		}
	})
}
