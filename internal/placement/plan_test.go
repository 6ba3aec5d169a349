package placement

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/store"
)

// The planner is pure: these cases build what the lock step would have
// read and check the plan, or the error Placement answers, for every rule
// of SPEC A.4 and A.8.

// Class ids of the fixtures.
var testClasses = map[string]int64{"VCPU": 1, "MEMORY_MB": 2, "DISK_GB": 3}

// world builds a claimRead.
type world struct{ read claimRead }

func newWorld() *world {
	return &world{read: claimRead{
		providers:   map[string]model.Provider{},
		classIDs:    maps.Clone(testClasses),
		inventories: map[store.InventoryKey]store.LockedInventory{},
	}}
}

// provider adds a provider with id and generation 5, and its inventories.
func (w *world) provider(id int64, invs ...model.Inventory) *world {
	uuid := providerUUID(id)
	w.read.providers[uuid] = model.Provider{ID: id, UUID: uuid, Generation: 5}
	for _, inv := range invs {
		cid := testClasses[inv.ResourceClass]
		w.read.inventories[store.InventoryKey{ProviderID: id, ClassID: cid}] = store.LockedInventory{Inventory: inv, ClassID: cid}
	}
	return w
}

// consumer adds the state of the next request's consumer: existing (with
// id, generation 3 and what it holds) or not.
func (w *world) consumer(id int64, existed bool, held ...model.Allocation) *world {
	c := consumerRead{consumer: model.Consumer{ID: id, UUID: consumerUUID(id), Generation: 3}, existed: existed, created: !existed, held: held}
	if !existed {
		c.consumer.Generation = 1
	}
	w.read.consumers = append(w.read.consumers, c)
	return w
}

// absent adds a consumer that does not exist and was not inserted (a
// request with no allocations).
func (w *world) absent(id int64) *world {
	w.read.consumers = append(w.read.consumers, consumerRead{consumer: model.Consumer{UUID: consumerUUID(id)}})
	return w
}

func providerUUID(id int64) string {
	return "00000000-0000-0000-0000-0000000000" + string(rune('a'+id)) + "0"
}
func consumerUUID(id int64) string {
	return "c0000000-0000-0000-0000-0000000000" + string(rune('a'+id)) + "0"
}

// inv is an inventory with Placement's defaults, total and usage.
func inv(class string, total, used int64, edit ...func(*model.Inventory)) model.Inventory {
	i := model.DefaultInventory(class, total)
	i.Used = used
	for _, e := range edit {
		e(&i)
	}
	return i
}

func held(provider int64, class string, used int64) model.Allocation {
	return model.Allocation{ProviderID: provider, ProviderUUID: providerUUID(provider), ClassID: testClasses[class], ResourceClass: class, Used: used}
}

// ask is a request for consumer id: provider id -> class -> amount pairs.
func ask(consumer int64, allocs ...ProviderResources) ConsumerAllocations {
	return ConsumerAllocations{ConsumerUUID: consumerUUID(consumer), ProjectID: "p", UserID: "u", Allocations: allocs}
}

func on(provider int64, pairs ...any) ProviderResources {
	pr := ProviderResources{ProviderUUID: providerUUID(provider)}
	for i := 0; i < len(pairs); i += 2 {
		pr.Resources = append(pr.Resources, ClassAmount{Class: pairs[i].(string), Amount: int64(pairs[i+1].(int))})
	}
	return pr
}

func gen(n int64) *int64 { return &n }

func key(provider int64, class string) store.InventoryKey {
	return store.InventoryKey{ProviderID: provider, ClassID: testClasses[class]}
}

func TestPlanClaims(t *testing.T) {
	type want struct {
		// err: the error's kind and a part of its message; empty for success.
		kind model.Kind
		err  string
		code string
		// For success.
		release []int64
		inserts int
		usage   map[store.InventoryKey]int64
		bump    []int64
		update  []int64
		remove  []int64
	}
	cases := []struct {
		name  string
		world *world
		reqs  []ConsumerAllocations
		opts  planOptions
		want  want
	}{
		// Capacity: (total - reserved) * ratio, against the usage so far.
		{
			name:  "capacity: fits exactly",
			world: newWorld().provider(1, inv("VCPU", 8, 6)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 2))},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 8}, bump: []int64{1}},
		},
		{
			name:  "capacity: one unit too many",
			world: newWorld().provider(1, inv("VCPU", 8, 6)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 3))},
			want:  want{kind: model.KindConflict, err: "Unable to allocate inventory: Unable to create allocation for 'VCPU' on resource provider '" + providerUUID(1) + "'. The requested amount would exceed the capacity."},
		},
		{
			name:  "capacity: reserved is taken off the total",
			world: newWorld().provider(1, inv("VCPU", 8, 0, func(i *model.Inventory) { i.Reserved = 5 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 4))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		{
			name:  "capacity: the allocation ratio multiplies, truncated (3 x 1.5 = 4)",
			world: newWorld().provider(1, inv("VCPU", 3, 0, func(i *model.Inventory) { i.AllocationRatio = 1.5 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 4))},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 4}, bump: []int64{1}},
		},
		{
			name:  "capacity: ratio truncation refuses the fraction",
			world: newWorld().provider(1, inv("VCPU", 3, 0, func(i *model.Inventory) { i.AllocationRatio = 1.5 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 5))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		{
			name:  "capacity: two consumers of one write add up",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false).consumer(2, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 5)), ask(2, on(1, "VCPU", 4))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		{
			name:  "capacity: what the consumer held is released first, but the rest must fit",
			world: newWorld().provider(1, inv("VCPU", 8, 8)).consumer(1, true, held(1, "VCPU", 6)),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 8))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		{
			name:  "capacity: moving within a full provider",
			world: newWorld().provider(1, inv("VCPU", 8, 8)).consumer(1, true, held(1, "VCPU", 6)),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 8-2))},
			want:  want{release: []int64{1}, inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 8}, bump: []int64{1}, update: []int64{1}},
		},
		// Over-commit exception: a write may leave an inventory over
		// capacity if it was over before and the write does not worsen it.
		{
			name:  "over-commit: shrinking on an over-committed inventory is allowed",
			world: newWorld().provider(1, inv("VCPU", 8, 10)).consumer(1, true, held(1, "VCPU", 4)),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 3))},
			want:  want{release: []int64{1}, inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 9}, bump: []int64{1}, update: []int64{1}},
		},
		{
			name:  "over-commit: the same amount again is allowed",
			world: newWorld().provider(1, inv("VCPU", 8, 10)).consumer(1, true, held(1, "VCPU", 4)),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 4))},
			want:  want{release: []int64{1}, inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 10}, bump: []int64{1}, update: []int64{1}},
		},
		{
			name:  "over-commit: growing is refused",
			world: newWorld().provider(1, inv("VCPU", 8, 10)).consumer(1, true, held(1, "VCPU", 4)),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 5))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		{
			name:  "over-commit: a new consumer is refused",
			world: newWorld().provider(1, inv("VCPU", 8, 10)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 1))},
			want:  want{kind: model.KindConflict, err: "would exceed the capacity"},
		},
		// Unit rules apply to each amount alone.
		{
			name:  "min_unit",
			world: newWorld().provider(1, inv("MEMORY_MB", 4096, 0, func(i *model.Inventory) { i.MinUnit = 512 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "MEMORY_MB", 256))},
			want:  want{kind: model.KindConflict, err: "Unable to create allocation for 'MEMORY_MB' on resource provider '" + providerUUID(1) + "'. The requested amount would violate inventory constraints."},
		},
		{
			name:  "max_unit",
			world: newWorld().provider(1, inv("MEMORY_MB", 4096, 0, func(i *model.Inventory) { i.MaxUnit = 1024 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "MEMORY_MB", 2048))},
			want:  want{kind: model.KindConflict, err: "would violate inventory constraints"},
		},
		{
			name:  "step_size",
			world: newWorld().provider(1, inv("MEMORY_MB", 4096, 0, func(i *model.Inventory) { i.StepSize = 256 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "MEMORY_MB", 300))},
			want:  want{kind: model.KindConflict, err: "would violate inventory constraints"},
		},
		{
			name:  "unit rules pass on a multiple of step_size within bounds",
			world: newWorld().provider(1, inv("MEMORY_MB", 4096, 0, func(i *model.Inventory) { i.StepSize, i.MinUnit, i.MaxUnit = 256, 256, 1024 })).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "MEMORY_MB", 768))},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "MEMORY_MB"): 768}, bump: []int64{1}},
		},
		// Providers, classes and inventories that do not exist.
		{
			name:  "unknown provider",
			world: newWorld().consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(9, "VCPU", 1))},
			want:  want{kind: model.KindBadRequest, err: "Allocation for resource provider '" + providerUUID(9) + "' that does not exist."},
		},
		{
			name:  "unknown class, PUT wording",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "CUSTOM_NOPE", 1))},
			opts:  planOptions{WriteOptions: WriteOptions{SingleConsumer: true}},
			want:  want{kind: model.KindBadRequest, err: "Unable to allocate inventory for consumer " + consumerUUID(1) + ": No such resource class CUSTOM_NOPE."},
		},
		{
			name:  "unknown class, POST wording",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "CUSTOM_NOPE", 1))},
			want:  want{kind: model.KindBadRequest, err: "Unable to allocate inventory No such resource class CUSTOM_NOPE."},
		},
		{
			name:  "unknown class, reshaper wording",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "CUSTOM_NOPE", 1))},
			opts:  planOptions{WriteOptions: WriteOptions{Reshape: true}},
			want:  want{kind: model.KindBadRequest, err: "malformed reshaper data: No such resource class CUSTOM_NOPE."},
		},
		{
			name:  "provider with none of the classes",
			world: newWorld().provider(1, inv("DISK_GB", 100, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 1, "MEMORY_MB", 1))},
			want:  want{kind: model.KindConflict, err: "Unable to allocate inventory: Inventory for 'VCPU, MEMORY_MB' on resource provider '" + providerUUID(1) + "' invalid."},
		},
		{
			name:  "provider without one of the classes",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 1, "MEMORY_MB", 1))},
			want:  want{kind: model.KindConflict, err: "Inventory for 'MEMORY_MB' on resource provider '" + providerUUID(1) + "' invalid."},
		},
		{
			name:  "a missing provider is reported before an unknown class",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{ask(1, on(1, "CUSTOM_NOPE", 1), on(9, "VCPU", 1))},
			want:  want{kind: model.KindBadRequest, err: "that does not exist"},
		},
		// Provider generations.
		{
			name: "generations: moving to another provider bumps only the new one",
			world: newWorld().provider(1, inv("VCPU", 8, 2)).provider(2, inv("VCPU", 8, 0)).
				consumer(1, true, held(1, "VCPU", 2)),
			reqs: []ConsumerAllocations{ask(1, on(2, "VCPU", 2))},
			want: want{release: []int64{1}, inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 0, key(2, "VCPU"): 2},
				bump: []int64{2}, update: []int64{1}},
		},
		{
			name: "generations: empty allocations bump every provider held and delete the consumer",
			world: newWorld().provider(1, inv("VCPU", 8, 2)).provider(2, inv("DISK_GB", 80, 10)).
				consumer(1, true, held(1, "VCPU", 2), held(2, "DISK_GB", 10)),
			reqs: []ConsumerAllocations{ask(1)},
			want: want{release: []int64{1}, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 0, key(2, "DISK_GB"): 0},
				bump: []int64{1, 2}, remove: []int64{1}},
		},
		{
			name: "generations: the unconditional DELETE bumps none",
			world: newWorld().provider(1, inv("VCPU", 8, 2)).
				consumer(1, true, held(1, "VCPU", 2)),
			reqs: []ConsumerAllocations{{ConsumerUUID: consumerUUID(1)}},
			opts: planOptions{deleteAll: true},
			want: want{release: []int64{1}, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 0}, remove: []int64{1}},
		},
		{
			name:  "the unconditional DELETE of a consumer holding nothing is a 404",
			world: newWorld().absent(1),
			reqs:  []ConsumerAllocations{{ConsumerUUID: consumerUUID(1)}},
			opts:  planOptions{deleteAll: true},
			want:  want{kind: model.KindNotFound, err: "No allocations for consumer '" + consumerUUID(1) + "'"},
		},
		{
			name:  "empty allocations for a consumer that does not exist change nothing",
			world: newWorld().absent(1),
			reqs:  []ConsumerAllocations{ask(1)},
			want:  want{},
		},
		// Consumer generations (1.28+).
		{
			name:  "consumer generation: matching",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, true),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(1, "VCPU", 1)), gen(3))},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 1}, bump: []int64{1}, update: []int64{1}},
		},
		{
			name:  "consumer generation: stale",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, true),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(1, "VCPU", 1)), gen(2))},
			want:  want{kind: model.KindConflict, err: "consumer generation conflict - expected 3 but got 2", code: model.CodeConcurrentUpdate},
		},
		{
			name:  "consumer generation: null for an existing consumer",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, true),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(1, "VCPU", 1)), nil)},
			want:  want{kind: model.KindConflict, err: "consumer generation conflict - expected 3 but got None", code: model.CodeConcurrentUpdate},
		},
		{
			name:  "consumer generation: a number for a new consumer",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(1, "VCPU", 1)), gen(0))},
			want:  want{kind: model.KindConflict, err: "consumer generation conflict - expected null but got 0", code: model.CodeConcurrentUpdate},
		},
		{
			name:  "consumer generation: null for a new consumer",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, false),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(1, "VCPU", 1)), nil)},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 1}, bump: []int64{1}},
		},
		{
			name:  "consumer generation: checked before anything else",
			world: newWorld().consumer(1, true),
			reqs:  []ConsumerAllocations{withGen(ask(1, on(9, "CUSTOM_NOPE", 1)), gen(7))},
			want:  want{kind: model.KindConflict, err: "expected 3 but got 7"},
		},
		{
			name:  "consumer generation: not checked before 1.28",
			world: newWorld().provider(1, inv("VCPU", 8, 0)).consumer(1, true),
			reqs:  []ConsumerAllocations{ask(1, on(1, "VCPU", 1))},
			want:  want{inserts: 1, usage: map[store.InventoryKey]int64{key(1, "VCPU"): 1}, bump: []int64{1}, update: []int64{1}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planClaims(&tc.world.read, tc.reqs, tc.opts)
			if tc.want.err != "" {
				e, ok := model.AsError(err)
				if !ok || e.Kind != tc.want.kind || !strings.Contains(e.Message, tc.want.err) || (tc.want.code != "" && e.Code != tc.want.code) {
					t.Fatalf("error = %v, want kind %v code %q containing %q", err, tc.want.kind, tc.want.code, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			usage := map[store.InventoryKey]int64{}
			for _, u := range plan.usage {
				usage[u.Key] = u.Used
			}
			var updated []int64
			for _, u := range plan.update {
				updated = append(updated, u.Consumer.ID)
			}
			switch {
			case !slices.Equal(plan.release, tc.want.release):
				t.Errorf("release = %v, want %v", plan.release, tc.want.release)
			case len(plan.inserts) != tc.want.inserts:
				t.Errorf("inserts = %v, want %d", plan.inserts, tc.want.inserts)
			case !maps.Equal(usage, tc.want.usage) && len(usage)+len(tc.want.usage) > 0:
				t.Errorf("usage = %v, want %v", usage, tc.want.usage)
			case !slices.Equal(plan.bump, tc.want.bump):
				t.Errorf("bump = %v, want %v", plan.bump, tc.want.bump)
			case !slices.Equal(updated, tc.want.update):
				t.Errorf("update = %v, want %v", updated, tc.want.update)
			case !slices.Equal(plan.remove, tc.want.remove):
				t.Errorf("remove = %v, want %v", plan.remove, tc.want.remove)
			}
		})
	}
}

func withGen(req ConsumerAllocations, g *int64) ConsumerAllocations {
	req.CheckGeneration, req.ConsumerGeneration = true, g
	return req
}

// TestPlanClaimsConsumers checks what the plan does to the consumers
// themselves: owner, type and the rows it inserts.
func TestPlanClaimsConsumers(t *testing.T) {
	w := newWorld().provider(1, inv("VCPU", 8, 1), inv("MEMORY_MB", 1024, 0)).consumer(1, true, held(1, "VCPU", 1)).consumer(2, false)
	a := ask(1, on(1, "VCPU", 2, "MEMORY_MB", 256))
	a.ConsumerType = "INSTANCE"
	b := ask(2, on(1, "VCPU", 1))
	b.ProjectID, b.UserID = "", "" // an old microversion sent no owner
	plan, err := planClaims(&w.read, []ConsumerAllocations{a, b}, planOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.update) != 1 || plan.update[0].ConsumerType != "INSTANCE" || plan.update[0].ProjectID != "p" || plan.update[0].UserID != "u" {
		t.Errorf("update = %+v, want consumer 1 as INSTANCE of p/u", plan.update)
	}
	wantRows := []allocationRow{
		{ProviderID: 1, ConsumerID: 1, ClassID: testClasses["VCPU"], Used: 2},
		{ProviderID: 1, ConsumerID: 1, ClassID: testClasses["MEMORY_MB"], Used: 256},
		{ProviderID: 1, ConsumerID: 2, ClassID: testClasses["VCPU"], Used: 1},
	}
	if !slices.Equal(plan.inserts, wantRows) {
		t.Errorf("inserts = %+v, want %+v", plan.inserts, wantRows)
	}
	if p, u := b.owner(); p != model.IncompleteConsumerProject || u != model.IncompleteConsumerUser {
		t.Errorf("owner of a request without one = %q/%q, want the incomplete-consumer placeholders", p, u)
	}
	// The usage counters: VCPU 1 - 1 + 2 + 1, memory 256.
	want := []usageCounter{{Key: key(1, "VCPU"), Used: 3}, {Key: key(1, "MEMORY_MB"), Used: 256}}
	slices.SortFunc(want, func(x, y usageCounter) int { return int(x.Key.ClassID - y.Key.ClassID) })
	if !slices.Equal(plan.usage, want) {
		t.Errorf("usage = %+v, want %+v", plan.usage, want)
	}
}

// TestPlanClaimsIsPure checks that planning twice from the same read gives
// the same plan and leaves the read untouched.
func TestPlanClaimsIsPure(t *testing.T) {
	w := newWorld().provider(1, inv("VCPU", 8, 4)).provider(2, inv("VCPU", 8, 0)).consumer(1, true, held(1, "VCPU", 4))
	reqs := []ConsumerAllocations{ask(1, on(2, "VCPU", 3))}
	before := maps.Clone(w.read.inventories)
	p1, err1 := planClaims(&w.read, reqs, planOptions{})
	p2, err2 := planClaims(&w.read, reqs, planOptions{})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !slices.Equal(p1.usage, p2.usage) || !slices.Equal(p1.inserts, p2.inserts) || !slices.Equal(p1.bump, p2.bump) {
		t.Errorf("two plans differ: %+v and %+v", p1, p2)
	}
	if !maps.Equal(before, w.read.inventories) {
		t.Errorf("planning changed what was read")
	}
}
