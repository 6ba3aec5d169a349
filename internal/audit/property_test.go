package audit_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// TestValidWritesKeepInvariants is the property: after any sequence of
// valid writes through both APIs (providers, inventories raised and cut
// under their allocations, allocations written, moved and deleted, nodes
// enrolled, allocated, reclassed, put in maintenance, undeployed and
// deleted), db check finds no violation. Requests the APIs refuse (a 409
// for capacity, say) are part of the sequence; a 5xx fails the test.
func TestValidWritesKeepInvariants(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 0))
			c := newCloud(t, backend)
			var providers, consumers, nodes, allocs []string
			ok5 := func(r testserver.Response) {
				if r.Status >= 500 {
					t.Fatalf("a request answered %d: %s", r.Status, r.Body)
				}
			}
			pick := func(l []string) string { return l[rng.IntN(len(l))] }
			classes := []string{"gold", "silver"}
			steps := []func(){
				func() { // a provider with inventory
					providers = append(providers, c.provider(fmt.Sprint("cn", len(providers)), map[string]int{"VCPU": 1 + rng.IntN(16), "MEMORY_MB": 1024 * (1 + rng.IntN(8))}))
				},
				func() { // inventory raised or cut, possibly under its allocations
					if len(providers) > 0 {
						c.setInventory(pick(providers), map[string]int{"VCPU": 1 + rng.IntN(16), "MEMORY_MB": 1024 * (1 + rng.IntN(8))})
					}
				},
				func() { // a consumer's allocations written or moved
					if len(providers) == 0 {
						return
					}
					consumer := uuid.NewString()
					if len(consumers) > 0 && rng.IntN(2) == 0 {
						consumer = pick(consumers)
					}
					allocs := map[string]map[string]int{pick(providers): {"VCPU": 1 + rng.IntN(4)}}
					allocs[pick(providers)] = map[string]int{"MEMORY_MB": 512 * (1 + rng.IntN(4))}
					if c.allocate(consumer, allocs) == 204 {
						consumers = append(consumers, consumer)
					}
				},
				func() { // a consumer's allocations deleted
					if len(consumers) > 0 {
						ok5(c.p.Do("DELETE", "/allocations/"+pick(consumers), placementVersion, nil))
					}
				},
				func() { // a node enrolled and made available
					nodes = append(nodes, c.node(fmt.Sprint("node", len(nodes)), classes[rng.IntN(2)]))
				},
				func() { // a node allocated
					if len(nodes) > 0 {
						if id, ok := c.nodeAllocation(fmt.Sprint("alloc", len(allocs)), classes[rng.IntN(2)], pick(nodes)); id != "" && ok {
							allocs = append(allocs, id)
						}
					}
				},
				func() { // an allocation deleted
					if len(allocs) > 0 {
						ok5(c.bm.Do("DELETE", "/v1/allocations/"+pick(allocs), ironicVersion, nil))
					}
				},
				func() { // a node changes class (allocated or not)
					if len(nodes) > 0 {
						ok5(c.bm.Do("PATCH", "/v1/nodes/"+pick(nodes), ironicVersion,
							[]map[string]any{{"op": "replace", "path": "/resource_class", "value": classes[rng.IntN(2)]}}))
					}
				},
				func() { // maintenance on or off
					if len(nodes) > 0 {
						n := pick(nodes)
						if rng.IntN(2) == 0 {
							ok5(c.bm.Do("PUT", "/v1/nodes/"+n+"/maintenance", ironicVersion, map[string]any{"reason": "fan"}))
						} else {
							ok5(c.bm.Do("DELETE", "/v1/nodes/"+n+"/maintenance", ironicVersion, nil))
						}
					}
				},
				func() { // a node deployed, undeployed, or deleted
					if len(nodes) == 0 {
						return
					}
					n := pick(nodes)
					switch rng.IntN(3) {
					case 0:
						ok5(c.bm.Do("PUT", "/v1/nodes/"+n+"/states/provision", ironicVersion, map[string]any{"target": "active"}))
					case 1:
						ok5(c.bm.Do("PUT", "/v1/nodes/"+n+"/states/provision", ironicVersion, map[string]any{"target": "deleted"}))
					case 2:
						ok5(c.bm.Do("DELETE", "/v1/nodes/"+n, ironicVersion, nil))
					}
				},
			}
			for i := 1; i <= 80; i++ {
				steps[rng.IntN(len(steps))]()
				if i%20 == 0 {
					if r := check(t, c.st); r.Violations() != 0 {
						t.Fatalf("after %d valid writes (seed %d), db check finds violations:\n%s", i, seed, describe(r))
					}
				}
			}
		})
	}
}
