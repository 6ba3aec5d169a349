package placement_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testserver"
)

// TestIndexCaughtUpEqualsRebuilt is the property of incremental index
// maintenance: after any sequence of writes of every kind (claims,
// releases, inventories, provider traits, aggregates, re-parenting,
// provider create and delete, new and deleted traits and resource classes,
// bare-metal node providers), the index a long-lived service caught up
// through the change feed equals the index a new service loads from
// scratch from the same store. Seeded random sequences, checked every few
// writes, on both stores.
func TestIndexCaughtUpEqualsRebuilt(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			seeds, steps := 10, 150
			if testing.Short() {
				seeds, steps = 3, 60
			}
			for seed := range seeds {
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					checkIndexProperty(t, backend, uint64(seed), steps)
				})
			}
		})
	}
}

func checkIndexProperty(t *testing.T, backend string, seed uint64, steps int) {
	ctx := context.Background()
	st := testserver.OpenStore(t, backend)
	live := placement.New(st, placement.Options{Logger: testserver.Quiet})
	w := &writer{t: t, ctx: ctx, svc: live, st: st, rng: rand.New(rand.NewPCG(seed, 19))}
	// The catalogs the writes use, so that most writes are accepted.
	for _, name := range append(propTraits, "CUSTOM_RAID", "CUSTOM_GPU") {
		if _, _, err := live.EnsureTrait(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range propClasses {
		if _, _, err := live.EnsureResourceClass(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	// The live index is loaded once; from then on each write catches it
	// up before it returns (the writer pays), derived lookups included, so
	// that the next write meets them built (the case where they are edited
	// rather than rebuilt).
	if err := live.Sync(ctx); err != nil {
		t.Fatalf("loading: %v", err)
	}
	var log []string
	for step := 0; step < steps; step++ {
		log = append(log, w.random())
		rev, err := st.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := live.IndexRevision(); got != rev {
			t.Fatalf("seed %d after %d writes, the index is at revision %d and the store at %d: the write did not catch it up\nwrites:\n%s",
				seed, step+1, got, rev, strings.Join(log, "\n"))
		}
		got := live.IndexDump()
		if w.rng.IntN(4) != 0 && step != steps-1 {
			continue
		}
		fresh := placement.New(st, placement.Options{Logger: testserver.Quiet})
		err = fresh.Sync(ctx)
		fresh.Close()
		if err != nil {
			t.Fatalf("loading from scratch: %v", err)
		}
		want := fresh.IndexDump()
		if got != want {
			t.Fatalf("seed %d after %d writes, the caught-up index differs from one built from scratch:\n%s\nwrites:\n%s",
				seed, step+1, lineDiff(got, want), strings.Join(log, "\n"))
		}
	}
	if w.accepted < steps/2 {
		t.Fatalf("only %d of %d writes were accepted: the sequence tests too little", w.accepted, steps)
	}
	t.Logf("%d writes accepted, %d refused", w.accepted, w.refused)
}

// lineDiff shows the first lines where the caught-up index (got) and the
// rebuilt one (want) differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 12; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d\n  caught up: %s\n  rebuilt:   %s\n", i+1, gl, wl)
			shown++
		}
	}
	return b.String()
}

// writer makes random writes of every kind through the service (and, for
// bare-metal node providers, through the store as the Ironic API does).
// Writes the service refuses (a 4xx: in use, conflicts, cycles) are part of
// the sequence; an internal error fails the test.
type writer struct {
	t         *testing.T
	ctx       context.Context
	svc       *placement.Service
	st        *store.Store
	rng       *rand.Rand
	providers []string // uuids created (some may be deleted since)
	consumers []string
	n         int
	// accepted and refused count the writes, to show the sequences do write.
	accepted, refused int
}

var (
	propAggs    = []string{"a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002", "a0000000-0000-4000-8000-000000000003", "a0000000-0000-4000-8000-000000000004", "a0000000-0000-4000-8000-000000000005"}
	propTraits  = []string{"HW_CPU_X86_AVX2", "HW_NUMA_ROOT", model.SharesViaAggregate, "CUSTOM_GOLD", "CUSTOM_SILVER", "CUSTOM_PHYSNET_A"}
	propClasses = []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_FPGA", "CUSTOM_BAREMETAL_GOLD"}
)

func (w *writer) uuid() string {
	w.n++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", w.n, w.n)
}

func (w *writer) pick(xs []string) string { return xs[w.rng.IntN(len(xs))] }

func (w *writer) some(xs []string) []string {
	var out []string
	for _, x := range xs {
		if w.rng.IntN(3) == 0 {
			out = append(out, x)
		}
	}
	return out
}

func (w *writer) provider() string {
	if len(w.providers) == 0 {
		return w.uuid()
	}
	return w.pick(w.providers)
}

func (w *writer) generation(uuid string) int64 {
	p, err := w.svc.GetProvider(w.ctx, uuid)
	if err != nil {
		return 0
	}
	return p.Generation
}

// check fails the test on an error that is not a refusal.
func (w *writer) check(what string, err error) string {
	w.t.Helper()
	if err != nil && model.KindOf(err) == model.KindInternal {
		w.t.Fatalf("%s: %v", what, err)
	}
	if err != nil {
		w.refused++
		return what + " (refused: " + err.Error() + ")"
	}
	w.accepted++
	return what
}

// random makes one random write and describes it.
func (w *writer) random() string {
	switch k := w.rng.IntN(14); {
	case k < 3 || len(w.providers) < 3:
		parent := ""
		if len(w.providers) > 0 && w.rng.IntN(2) == 0 {
			parent = w.pick(w.providers)
		}
		u := w.uuid()
		_, err := w.svc.CreateProvider(w.ctx, placement.NewProvider{UUID: u, Name: "rp-" + u[:8], ParentUUID: parent})
		if err == nil {
			w.providers = append(w.providers, u)
		}
		return w.check("create provider "+u+" under "+parent, err)
	case k == 3:
		u := w.provider()
		err := w.svc.DeleteProvider(w.ctx, u)
		if err == nil {
			w.providers = slices.DeleteFunc(w.providers, func(x string) bool { return x == u })
		}
		return w.check("delete provider "+u, err)
	case k == 4:
		u := w.provider()
		var invs []model.Inventory
		for _, c := range w.some(propClasses) {
			total := int64(1 + w.rng.IntN(64))
			invs = append(invs, model.Inventory{ResourceClass: c, Total: total, Reserved: int64(w.rng.IntN(2)),
				MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: float64(1 + w.rng.IntN(3))})
		}
		_, err := w.svc.SetInventories(w.ctx, u, w.generation(u), invs, placement.ReservedUpToTotal, nil)
		return w.check(fmt.Sprintf("set inventories of %s to %d classes", u, len(invs)), err)
	case k == 5:
		u := w.provider()
		traits := w.some(propTraits)
		_, err := w.svc.SetProviderTraits(w.ctx, u, w.generation(u), traits)
		return w.check(fmt.Sprintf("set traits of %s to %v", u, traits), err)
	case k == 6:
		u := w.provider()
		aggs := w.some(propAggs)
		gen := w.generation(u)
		_, err := w.svc.SetProviderAggregates(w.ctx, u, &gen, aggs, nil)
		return w.check(fmt.Sprintf("set aggregates of %s to %v", u, aggs), err)
	case k == 7:
		u, parent := w.provider(), ""
		if w.rng.IntN(3) != 0 {
			parent = w.provider()
		}
		_, err := w.svc.UpdateProvider(w.ctx, u, placement.ProviderUpdate{Name: "rp-" + u[:8], SetParent: true, ParentUUID: parent, AllowReparenting: true}, nil)
		return w.check("re-parent "+u+" under "+parent, err)
	case k == 8 || k == 9:
		c := w.uuid()
		if len(w.consumers) > 0 && w.rng.IntN(2) == 0 {
			c = w.pick(w.consumers)
		} else {
			w.consumers = append(w.consumers, c)
		}
		u, class := w.provider(), w.pick(propClasses)
		if invs, err := w.svc.GetInventories(w.ctx, u); err == nil && len(invs.Inventories) > 0 && w.rng.IntN(4) != 0 {
			class = invs.Inventories[w.rng.IntN(len(invs.Inventories))].ResourceClass
		}
		err := w.svc.WriteAllocations(w.ctx, []placement.ConsumerAllocations{{ConsumerUUID: c, ProjectID: "p", UserID: "u",
			Allocations: []placement.ProviderResources{{ProviderUUID: u, Resources: []placement.ClassAmount{{Class: class, Amount: int64(1 + w.rng.IntN(4))}}}}}},
			placement.WriteOptions{})
		return w.check("claim "+class+" on "+u+" for "+c, err)
	case k == 10:
		if len(w.consumers) == 0 {
			return "no consumer to release"
		}
		c := w.pick(w.consumers)
		return w.check("release "+c, w.svc.DeleteConsumerAllocations(w.ctx, c))
	case k == 11:
		name := fmt.Sprintf("CUSTOM_T%d", w.rng.IntN(4))
		if w.rng.IntN(2) == 0 {
			_, _, err := w.svc.EnsureTrait(w.ctx, name)
			return w.check("create trait "+name, err)
		}
		return w.check("delete trait "+name, w.svc.DeleteTrait(w.ctx, name))
	case k == 12:
		name := fmt.Sprintf("CUSTOM_C%d", w.rng.IntN(4))
		if w.rng.IntN(2) == 0 {
			_, _, err := w.svc.EnsureResourceClass(w.ctx, name)
			return w.check("create class "+name, err)
		}
		return w.check("delete class "+name, w.svc.DeleteResourceClass(w.ctx, name))
	default:
		// A bare-metal node's provider, as the Ironic API keeps it.
		u := w.provider()
		np := placement.NodeProvider{UUID: u, Name: "node-" + u[:8], Reserved: w.rng.IntN(2) == 0,
			Traits: w.some([]string{"CUSTOM_RAID", "CUSTOM_GPU"})}
		if w.rng.IntN(4) != 0 {
			np.Class = fmt.Sprintf("CUSTOM_BAREMETAL_%d", w.rng.IntN(2))
		}
		err := w.st.Write(w.ctx, func(tx *store.Tx) error { return placement.SyncNodeProvider(w.ctx, tx, np) })
		if err == nil && !slices.Contains(w.providers, u) {
			w.providers = append(w.providers, u)
		}
		return w.check(fmt.Sprintf("node provider %+v", np), err)
	}
}

// Scripted writes of the kinds whose lookups are edited rather than
// rebuilt, next to those that rebuild, each leave the index a load from
// scratch gives, on both stores: writes to a sharing provider (edited: a
// claim, a release, new amounts, another trait; rebuilt: new classes,
// leaving its aggregate, no longer sharing) and moves of subtrees (edited
// outside sharing aggregates: the roots and both trees' class masks).
func TestIndexScriptedWritesEqualRebuilt(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st := testserver.OpenStore(t, backend)
			live := placement.New(st, placement.Options{Logger: testserver.Quiet})
			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			gen := func(uuid string) int64 {
				p, err := live.GetProvider(ctx, uuid)
				must("read "+uuid, err)
				return p.Generation
			}
			const root, child, pool, agg = "10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002",
				"10000000-0000-4000-8000-000000000003", "a0000000-0000-4000-8000-000000000001"
			const other, grandchild = "10000000-0000-4000-8000-000000000004", "10000000-0000-4000-8000-000000000005"
			move := func(uuid, parent string) error {
				_, err := live.UpdateProvider(ctx, uuid, placement.ProviderUpdate{Name: "moved-" + uuid, SetParent: true,
					ParentUUID: parent, AllowReparenting: true}, nil)
				return err
			}
			inv := func(class string, total int64) model.Inventory {
				return model.Inventory{ResourceClass: class, Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1}
			}
			setInvs := func(uuid string, invs ...model.Inventory) error {
				_, err := live.SetInventories(ctx, uuid, gen(uuid), invs, placement.ReservedUpToTotal, nil)
				return err
			}
			setTraits := func(uuid string, traits ...string) error {
				_, err := live.SetProviderTraits(ctx, uuid, gen(uuid), traits)
				return err
			}
			setAggs := func(uuid string, aggs ...string) error {
				g := gen(uuid)
				_, err := live.SetProviderAggregates(ctx, uuid, &g, aggs, nil)
				return err
			}
			claim := func(consumer string, class string) error {
				return live.WriteAllocations(ctx, []placement.ConsumerAllocations{{ConsumerUUID: consumer, ProjectID: "p", UserID: "u",
					Allocations: []placement.ProviderResources{{ProviderUUID: pool, Resources: []placement.ClassAmount{{Class: class, Amount: 5}}}}}},
					placement.WriteOptions{})
			}
			for _, p := range []placement.NewProvider{{UUID: root, Name: "root"}, {UUID: child, Name: "child", ParentUUID: root}, {UUID: pool, Name: "pool"},
				{UUID: other, Name: "other"}, {UUID: grandchild, Name: "grandchild", ParentUUID: child}} {
				_, err := live.CreateProvider(ctx, p)
				must("create "+p.Name, err)
			}
			must("root inventory", setInvs(root, inv("DISK_GB", 100)))
			must("child inventory", setInvs(child, inv("VCPU", 8)))
			must("grandchild inventory", setInvs(grandchild, inv("MEMORY_MB", 1024)))
			must("other inventory", setInvs(other, inv("DISK_GB", 10)))
			must("pool inventory", setInvs(pool, inv("DISK_GB", 1000)))
			must("pool traits", setTraits(pool, model.SharesViaAggregate))
			must("pool aggregate", setAggs(pool, agg))
			must("root aggregate", setAggs(root, agg))
			must("load", live.Sync(ctx))
			for _, step := range []struct {
				what  string
				write func() error
			}{
				{"claim on the pool", func() error { return claim("c0000000-0000-4000-8000-000000000001", "DISK_GB") }},
				{"new amounts of the pool's disk", func() error { return setInvs(pool, inv("DISK_GB", 2000)) }},
				{"another trait on the pool", func() error { return setTraits(pool, model.SharesViaAggregate, "HW_CPU_X86_AVX2") }},
				{"release", func() error { return live.DeleteConsumerAllocations(ctx, "c0000000-0000-4000-8000-000000000001") }},
				{"a new class on the pool", func() error { return setInvs(pool, inv("DISK_GB", 2000), inv("IPV4_ADDRESS", 16)) }},
				{"a claim of it", func() error { return claim("c0000000-0000-4000-8000-000000000002", "IPV4_ADDRESS") }},
				{"the child joins the aggregate", func() error { return setAggs(child, agg) }},
				{"the pool leaves the aggregate", func() error { return setAggs(pool) }},
				{"the pool rejoins it", func() error { return setAggs(pool, agg) }},
				{"the pool stops sharing", func() error { return setTraits(pool, "HW_CPU_X86_AVX2") }},
				{"and shares again", func() error { return setTraits(pool, model.SharesViaAggregate) }},
				{"the child, in the shared aggregate, moves to the other root", func() error { return move(child, other) }},
				{"the child leaves the aggregate", func() error { return setAggs(child) }},
				{"the child and its child move back", func() error { return move(child, root) }},
				{"the child's subtree becomes a tree", func() error { return move(child, "") }},
				{"the grandchild moves to the other root", func() error { return move(grandchild, other) }},
				{"the other root moves under the child", func() error { return move(other, child) }},
				{"the child's tree moves under the root", func() error { return move(child, root) }},
				{"a claim in the moved tree", func() error {
					return live.WriteAllocations(ctx, []placement.ConsumerAllocations{{ConsumerUUID: "c0000000-0000-4000-8000-000000000003", ProjectID: "p", UserID: "u",
						Allocations: []placement.ProviderResources{{ProviderUUID: grandchild, Resources: []placement.ClassAmount{{Class: "MEMORY_MB", Amount: 5}}}}}},
						placement.WriteOptions{})
				}},
			} {
				if err := step.write(); err != nil {
					t.Fatalf("%s: %v", step.what, err)
				}
				fresh := placement.New(st, placement.Options{Logger: testserver.Quiet})
				err := fresh.Sync(ctx)
				fresh.Close()
				must("load from scratch", err)
				if got, want := live.IndexDump(), fresh.IndexDump(); got != want {
					t.Fatalf("after %s, the caught-up index differs from one built from scratch:\n%s", step.what, lineDiff(got, want))
				}
			}
		})
	}
}
