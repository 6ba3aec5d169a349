package placement_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// Service tests of the write path of allocations, on both stores: what a
// write leaves behind (allocations, usage, generations, consumers), read
// back through the service.

// cloud is a Placement service over a fresh store.
type cloud struct {
	t   *testing.T
	ctx context.Context
	svc *placement.Service
}

func newCloud(t *testing.T, backend string) *cloud {
	st := testserver.OpenStore(t, backend)
	return &cloud{t: t, ctx: context.Background(), svc: placement.New(st, placement.Options{Logger: testserver.Quiet})}
}

// provider creates a provider (under parent when not empty) with
// inventories of class:total pairs and returns its uuid.
func (c *cloud) provider(name, parent string, invs ...model.Inventory) string {
	c.t.Helper()
	p, err := c.svc.CreateProvider(c.ctx, placement.NewProvider{Name: name, ParentUUID: parent})
	if err != nil {
		c.t.Fatalf("creating provider %s: %v", name, err)
	}
	if len(invs) > 0 {
		if _, err := c.svc.SetInventories(c.ctx, p.UUID, p.Generation, invs, placement.ReservedBelowTotal, nil); err != nil {
			c.t.Fatalf("inventories of %s: %v", name, err)
		}
	}
	return p.UUID
}

func (c *cloud) generation(uuid string) int64 {
	c.t.Helper()
	p, err := c.svc.GetProvider(c.ctx, uuid)
	if err != nil {
		c.t.Fatal(err)
	}
	return p.Generation
}

func (c *cloud) used(uuid, class string) int64 {
	c.t.Helper()
	pi, err := c.svc.ProviderUsages(c.ctx, uuid)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, inv := range pi.Inventories {
		if inv.ResourceClass == class {
			return inv.Used
		}
	}
	c.t.Fatalf("provider %s has no %s inventory", uuid, class)
	return 0
}

// held returns what a consumer holds as provider -> class -> amount, and
// its generation (-1 when it does not exist).
func (c *cloud) held(consumer string) (map[string]map[string]int64, int64) {
	c.t.Helper()
	v, err := c.svc.GetConsumerAllocations(c.ctx, consumer)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for _, a := range v.Allocations {
		if out[a.ProviderUUID] == nil {
			out[a.ProviderUUID] = map[string]int64{}
		}
		out[a.ProviderUUID][a.ResourceClass] = a.Used
	}
	if !v.Exists {
		return out, -1
	}
	return out, v.Consumer.Generation
}

func (c *cloud) write(reqs ...placement.ConsumerAllocations) error {
	return c.svc.WriteAllocations(c.ctx, reqs, placement.WriteOptions{})
}

func claim(consumer string, provider string, class string, amount int64) placement.ConsumerAllocations {
	return placement.ConsumerAllocations{ConsumerUUID: consumer, ProjectID: "proj", UserID: "user",
		Allocations: []placement.ProviderResources{{ProviderUUID: provider, Resources: []placement.ClassAmount{{Class: class, Amount: amount}}}}}
}

const (
	consumerA = "aaaaaaaa-0000-4000-8000-000000000001"
	consumerB = "bbbbbbbb-0000-4000-8000-000000000002"
)

func TestAllocationWrites(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Run("claim, move, release", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
				h2 := c.provider("h2", "", model.DefaultInventory("VCPU", 8))
				g1, g2 := c.generation(h1), c.generation(h2)

				if err := c.write(claim(consumerA, h1, "VCPU", 3)); err != nil {
					t.Fatal(err)
				}
				got, gen := c.held(consumerA)
				if got[h1]["VCPU"] != 3 || gen != 1 || c.used(h1, "VCPU") != 3 || c.generation(h1) != g1+1 {
					t.Fatalf("after the claim: held %v gen %d used %d generation %d", got, gen, c.used(h1, "VCPU"), c.generation(h1))
				}

				// Moving to h2 bumps h2 only (Placement bumps the providers
				// that receive allocations), and the consumer's generation.
				if err := c.write(claim(consumerA, h2, "VCPU", 2)); err != nil {
					t.Fatal(err)
				}
				got, gen = c.held(consumerA)
				if got[h2]["VCPU"] != 2 || len(got) != 1 || gen != 2 {
					t.Fatalf("after the move: held %v gen %d", got, gen)
				}
				if c.used(h1, "VCPU") != 0 || c.used(h2, "VCPU") != 2 || c.generation(h1) != g1+1 || c.generation(h2) != g2+1 {
					t.Fatalf("after the move: used %d/%d generations %d/%d", c.used(h1, "VCPU"), c.used(h2, "VCPU"), c.generation(h1), c.generation(h2))
				}

				// Empty allocations release everything, bump what was held
				// and delete the consumer.
				if err := c.write(placement.ConsumerAllocations{ConsumerUUID: consumerA, ProjectID: "proj", UserID: "user"}); err != nil {
					t.Fatal(err)
				}
				if got, gen := c.held(consumerA); len(got) != 0 || gen != -1 || c.used(h2, "VCPU") != 0 || c.generation(h2) != g2+2 {
					t.Fatalf("after the release: held %v gen %d used %d generation %d", got, gen, c.used(h2, "VCPU"), c.generation(h2))
				}
			})

			t.Run("the unconditional delete bumps no generation", func(t *testing.T) {
				c := newCloud(t, backend)
				h := c.provider("h", "", model.DefaultInventory("VCPU", 8))
				if err := c.write(claim(consumerA, h, "VCPU", 4)); err != nil {
					t.Fatal(err)
				}
				g := c.generation(h)
				if err := c.svc.DeleteConsumerAllocations(c.ctx, consumerA); err != nil {
					t.Fatal(err)
				}
				if got, gen := c.held(consumerA); len(got) != 0 || gen != -1 || c.used(h, "VCPU") != 0 || c.generation(h) != g {
					t.Fatalf("after DELETE: held %v gen %d used %d generation %d (was %d)", got, gen, c.used(h, "VCPU"), c.generation(h), g)
				}
				err := c.svc.DeleteConsumerAllocations(c.ctx, consumerA)
				if !model.IsKind(err, model.KindNotFound) {
					t.Fatalf("second DELETE: %v, want a 404", err)
				}
			})

			t.Run("a refused write leaves nothing behind", func(t *testing.T) {
				c := newCloud(t, backend)
				h := c.provider("h", "", model.DefaultInventory("VCPU", 4), model.DefaultInventory("MEMORY_MB", 1024))
				if err := c.write(claim(consumerA, h, "VCPU", 2)); err != nil {
					t.Fatal(err)
				}
				g := c.generation(h)
				// A holds VCPU 2; the write moves it to 3 and adds B, whose
				// memory does not fit: all of it is refused.
				err := c.write(claim(consumerA, h, "VCPU", 3), claim(consumerB, h, "MEMORY_MB", 2048))
				if !model.IsKind(err, model.KindConflict) {
					t.Fatalf("over capacity: %v, want a 409", err)
				}
				got, gen := c.held(consumerA)
				if got[h]["VCPU"] != 2 || gen != 1 || c.used(h, "VCPU") != 2 || c.used(h, "MEMORY_MB") != 0 || c.generation(h) != g {
					t.Fatalf("after the refusal: held %v gen %d used %d/%d generation %d", got, gen, c.used(h, "VCPU"), c.used(h, "MEMORY_MB"), c.generation(h))
				}
				if got, gen := c.held(consumerB); len(got) != 0 || gen != -1 {
					t.Fatalf("consumer B exists after a refused write: %v gen %d", got, gen)
				}
			})

			t.Run("consumer generations and types", func(t *testing.T) {
				c := newCloud(t, backend)
				h := c.provider("h", "", model.DefaultInventory("VCPU", 8))
				first := claim(consumerA, h, "VCPU", 1)
				first.CheckGeneration, first.ConsumerType = true, "INSTANCE"
				if err := c.write(first); err != nil {
					t.Fatal(err)
				}
				stale := claim(consumerA, h, "VCPU", 2)
				stale.CheckGeneration, stale.ConsumerGeneration = true, new(int64) // 0, but it is at 1
				err := c.write(stale)
				if e, ok := model.AsError(err); !ok || e.Kind != model.KindConflict || e.Code != model.CodeConcurrentUpdate {
					t.Fatalf("stale consumer generation: %v, want a 409 concurrent update", err)
				}
				current := claim(consumerA, h, "VCPU", 2)
				one := int64(1)
				current.CheckGeneration, current.ConsumerGeneration, current.ConsumerType = true, &one, "MIGRATION"
				if err := c.write(current); err != nil {
					t.Fatal(err)
				}
				v, err := c.svc.GetConsumerAllocations(c.ctx, consumerA)
				if err != nil {
					t.Fatal(err)
				}
				if v.Consumer.Generation != 2 || v.Consumer.ConsumerType != "MIGRATION" || v.Consumer.ProjectID != "proj" {
					t.Fatalf("consumer after the rewrite: %+v", v.Consumer)
				}
			})

			t.Run("usages by consumer type", func(t *testing.T) {
				c := newCloud(t, backend)
				h := c.provider("h", "", model.DefaultInventory("VCPU", 8), model.DefaultInventory("MEMORY_MB", 4096))
				instance := claim(consumerA, h, "VCPU", 2)
				instance.ConsumerType = "INSTANCE"
				untyped := claim(consumerB, h, "MEMORY_MB", 512)
				other := claim("dddddddd-0000-4000-8000-000000000004", h, "VCPU", 1)
				other.ProjectID = "elsewhere"
				if err := c.write(instance, untyped, other); err != nil {
					t.Fatal(err)
				}
				for _, tc := range []struct {
					filter string
					want   map[string]placement.UsageGroup
				}{
					{"", map[string]placement.UsageGroup{
						"INSTANCE": {Used: map[string]int64{"VCPU": 2}, Consumers: 1},
						"unknown":  {Used: map[string]int64{"MEMORY_MB": 512}, Consumers: 1},
					}},
					{"all", map[string]placement.UsageGroup{"all": {Used: map[string]int64{"VCPU": 2, "MEMORY_MB": 512}, Consumers: 2}}},
					{"unknown", map[string]placement.UsageGroup{"unknown": {Used: map[string]int64{"MEMORY_MB": 512}, Consumers: 1}}},
					{"INSTANCE", map[string]placement.UsageGroup{"INSTANCE": {Used: map[string]int64{"VCPU": 2}, Consumers: 1}}},
					{"MIGRATION", map[string]placement.UsageGroup{}},
				} {
					got, err := c.svc.Usages(c.ctx, placement.UsageQuery{ProjectID: "proj", ConsumerType: tc.filter})
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Errorf("usages of %q = %v, want %v", tc.filter, got, tc.want)
					}
				}
			})

			t.Run("reshape moves allocations to a child", func(t *testing.T) {
				c := newCloud(t, backend)
				root := c.provider("root", "", model.DefaultInventory("VCPU", 8))
				child := c.provider("numa0", root)
				if err := c.write(claim(consumerA, root, "VCPU", 3)); err != nil {
					t.Fatal(err)
				}
				invs := []placement.ReshapeInventory{
					{ProviderUUID: root, Generation: c.generation(root)},
					{ProviderUUID: child, Generation: c.generation(child), Inventories: []model.Inventory{model.DefaultInventory("VCPU", 8)}},
				}
				move := claim(consumerA, child, "VCPU", 3)
				move.CheckGeneration, move.ConsumerGeneration = true, func() *int64 { g := int64(1); return &g }()
				if err := c.svc.Reshape(c.ctx, invs, []placement.ConsumerAllocations{move}); err != nil {
					t.Fatal(err)
				}
				got, _ := c.held(consumerA)
				if got[child]["VCPU"] != 3 || len(got) != 1 || c.used(child, "VCPU") != 3 {
					t.Fatalf("after the reshape: held %v", got)
				}
				pi, err := c.svc.GetInventories(c.ctx, root)
				if err != nil {
					t.Fatal(err)
				}
				if len(pi.Inventories) != 0 {
					t.Fatalf("root still has inventories %+v", pi.Inventories)
				}
			})

			t.Run("concurrent claims never over-allocate", func(t *testing.T) {
				c := newCloud(t, backend)
				h := c.provider("h", "", model.DefaultInventory("VCPU", 10))
				const workers = 24
				var wg sync.WaitGroup
				var mu sync.Mutex
				granted := 0
				for i := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						err := c.write(claim(fmt.Sprintf("cccccccc-0000-4000-8000-%012d", i), h, "VCPU", 1))
						switch {
						case err == nil:
							mu.Lock()
							granted++
							mu.Unlock()
						case !model.IsKind(err, model.KindConflict):
							t.Errorf("claim %d: %v", i, err)
						}
					}()
				}
				wg.Wait()
				if granted != 10 || c.used(h, "VCPU") != 10 {
					t.Fatalf("%d claims granted, usage %d; want 10 and 10", granted, c.used(h, "VCPU"))
				}
			})
		})
	}
}
