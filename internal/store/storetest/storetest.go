// Package storetest is the contract every store backend must honour: one
// suite of tests, run against SQLite and against PostgreSQL.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// Opener returns a fresh, empty store for one test, opened with opts.
type Opener func(t *testing.T, opts store.Options) *store.Store

// Run runs the whole contract suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Catalogs", testCatalogs},
		{"ProviderTree", testProviderTree},
		{"ProviderUniqueness", testProviderUniqueness},
		{"Inventories", testInventories},
		{"TraitsAndAggregates", testTraitsAndAggregates},
		{"GenerationCompareAndSwap", testGenerationCAS},
		{"ConsumersAndAllocations", testConsumersAndAllocations},
		{"ChangeFeed", testChangeFeed},
		{"AfterCommit", testAfterCommit},
		{"ChangesSince", testChangesSince},
		{"RollbackLeavesNoTrace", testRollback},
		{"SavepointUndoesOneChange", testSavepoint},
		{"ConcurrentRevisionsAreGapFree", testConcurrentRevisions},
		{"CustomResourceClasses", testCustomClasses},
		{"NodeProjectFilter", testNodeProjectFilter},
		{"Audit", testAudit},
		{"AllocationFailures", testAllocationFailures},
		{"TryLockProviders", testTryLockProviders},
		{"CountNodeAllocations", testCountNodeAllocations},
		{"CountNodes", testCountNodes},
		{"UsagesOfEveryone", testUsagesOfEveryone},
		{"BulkInserts", testBulkInserts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t, store.Options{}))
		})
	}
	// Tests that move the store's clock.
	clocked := []struct {
		name string
		fn   func(t *testing.T, s *store.Store, c *Clock)
	}{
		{"ClaimKeys", testClaimKeys},
	}
	for _, tc := range clocked {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock()
			tc.fn(t, open(t, store.Options{Now: c.Now}), c)
		})
	}
}

func write(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.Read(context.Background(), fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

func newProvider(t *testing.T, s *store.Store, name string, parent *model.Provider) model.Provider {
	t.Helper()
	p := model.Provider{UUID: uuid.NewString(), Name: name}
	if parent != nil {
		p.ParentID, p.ParentUUID, p.RootID, p.RootUUID = parent.ID, parent.UUID, parent.RootID, parent.RootUUID
	}
	var out model.Provider
	write(t, s, func(tx *store.Tx) error {
		var err error
		out, err = tx.CreateProvider(context.Background(), p)
		return err
	})
	return out
}

func testCatalogs(t *testing.T, s *store.Store) {
	ctx := context.Background()
	read(t, s, func(tx *store.Tx) error {
		rcs, err := tx.ResourceClasses(ctx)
		if err != nil {
			return err
		}
		std := model.StandardResourceClasses()
		if len(rcs) != len(std) {
			t.Fatalf("got %d resource classes, want the %d standard ones", len(rcs), len(std))
		}
		for i, rc := range rcs {
			if rc.Name != std[i] || rc.ID != int64(i) {
				t.Errorf("class %d = %s/%d, want %s/%d", i, rc.Name, rc.ID, std[i], i)
			}
		}
		ts, err := tx.Traits(ctx, model.TraitFilter{})
		if err != nil {
			return err
		}
		if len(ts) != len(model.StandardTraits()) {
			t.Errorf("got %d traits, want %d", len(ts), len(model.StandardTraits()))
		}
		ts, err = tx.Traits(ctx, model.TraitFilter{Prefix: "MISC_"})
		if err != nil {
			return err
		}
		if len(ts) != 1 || ts[0].Name != model.SharesViaAggregate {
			t.Errorf("prefix MISC_ gave %v", ts)
		}
		return nil
	})
}

func testProviderTree(t *testing.T, s *store.Store) {
	ctx := context.Background()
	root := newProvider(t, s, "root", nil)
	if root.RootID != root.ID || root.RootUUID != root.UUID || root.ParentID != 0 {
		t.Fatalf("a root is its own root: %+v", root)
	}
	child := newProvider(t, s, "child", &root)
	grand := newProvider(t, s, "grand", &child)
	read(t, s, func(tx *store.Tx) error {
		p, ok, err := tx.ProviderByUUID(ctx, grand.UUID, false)
		if err != nil || !ok {
			t.Fatalf("grandchild not found: %v", err)
		}
		if p.ParentUUID != child.UUID || p.RootUUID != root.UUID {
			t.Errorf("grandchild parent/root = %s/%s", p.ParentUUID, p.RootUUID)
		}
		tree, err := tx.TreeProviders(ctx, root.ID)
		if len(tree) != 3 {
			t.Errorf("tree has %d providers, want 3", len(tree))
		}
		has, err := tx.HasChildren(ctx, child.ID)
		if !has {
			t.Error("child has a child")
		}
		return err
	})
	// Move the child's subtree to be its own tree.
	write(t, s, func(tx *store.Tx) error {
		child.ParentID, child.RootID = 0, child.ID
		return tx.UpdateProvider(ctx, child, []int64{grand.ID})
	})
	read(t, s, func(tx *store.Tx) error {
		p, _, err := tx.ProviderByUUID(ctx, grand.UUID, false)
		if p.RootUUID != child.UUID {
			t.Errorf("after un-parenting, grandchild root = %s, want %s", p.RootUUID, child.UUID)
		}
		return err
	})
	write(t, s, func(tx *store.Tx) error { return tx.DeleteProvider(ctx, grand.ID) })
	read(t, s, func(tx *store.Tx) error {
		_, ok, err := tx.ProviderByUUID(ctx, grand.UUID, false)
		if ok {
			t.Error("deleted provider still found")
		}
		return err
	})
}

func testProviderUniqueness(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "dup", nil)
	for _, tc := range []struct {
		name, uuid, column string
	}{
		{"dup", uuid.NewString(), "name"},
		{"other", p.UUID, "uuid"},
	} {
		err := s.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateProvider(ctx, model.Provider{UUID: tc.uuid, Name: tc.name})
			return err
		})
		e, ok := model.AsError(err)
		if !ok || e.Kind != model.KindConflict || e.Code != model.CodeDuplicateName || e.Message != tc.column {
			t.Errorf("duplicate %s: got %v, want a conflict naming %q", tc.column, err, tc.column)
		}
	}
}

func testInventories(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "inv", nil)
	vcpu, _ := model.StandardResourceClassID("VCPU")
	disk, _ := model.StandardResourceClassID("DISK_GB")
	inv := model.Inventory{ResourceClass: "VCPU", Total: 16, Reserved: 2, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 1.5}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.InsertInventory(ctx, p.ID, int64(vcpu), inv); err != nil {
			return err
		}
		d := model.DefaultInventory("DISK_GB", 100)
		return tx.InsertInventory(ctx, p.ID, int64(disk), d)
	})
	err := s.Write(ctx, func(tx *store.Tx) error { return tx.InsertInventory(ctx, p.ID, int64(vcpu), inv) })
	if !model.IsKind(err, model.KindConflict) {
		t.Errorf("a second VCPU inventory: got %v, want a conflict", err)
	}
	read(t, s, func(tx *store.Tx) error {
		invs, err := tx.Inventories(ctx, p.ID)
		if err != nil {
			return err
		}
		if len(invs) != 2 || invs[0].ResourceClass != "VCPU" || invs[1].ResourceClass != "DISK_GB" {
			t.Fatalf("inventories = %+v", invs)
		}
		if got := invs[0].Capacity(); got != 21 {
			t.Errorf("capacity = %d, want (16-2)*1.5 = 21", got)
		}
		if invs[0].AllocationRatio != 1.5 || invs[0].MaxUnit != 8 {
			t.Errorf("fields not kept: %+v", invs[0])
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		inv.Total = 32
		ok, err := tx.UpdateInventory(ctx, p.ID, int64(vcpu), inv)
		if !ok {
			t.Error("update of an existing inventory reported missing")
		}
		n, err2 := tx.DeleteInventories(ctx, p.ID, []int64{int64(disk)})
		if n != 1 {
			t.Errorf("deleted %d rows, want 1", n)
		}
		if err == nil {
			err = err2
		}
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		invs, err := tx.Inventories(ctx, p.ID)
		if len(invs) != 1 || invs[0].Total != 32 {
			t.Errorf("after update and delete: %+v", invs)
		}
		return err
	})
}

func testTraitsAndAggregates(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "ta", nil)
	var custom model.Trait
	write(t, s, func(tx *store.Tx) error {
		var created bool
		var err error
		custom, created, err = tx.CreateTrait(ctx, "CUSTOM_GOLD")
		if !created {
			t.Error("new trait not created")
		}
		_, created, err2 := tx.CreateTrait(ctx, "CUSTOM_GOLD")
		if created {
			t.Error("existing trait created twice")
		}
		if err == nil {
			err = err2
		}
		return err
	})
	std, _, _ := func() (model.Trait, bool, error) {
		var tr model.Trait
		var ok bool
		read(t, s, func(tx *store.Tx) error {
			var err error
			tr, ok, err = tx.Trait(ctx, "HW_CPU_X86_AVX2")
			return err
		})
		return tr, ok, nil
	}()
	write(t, s, func(tx *store.Tx) error {
		changed, err := tx.SetProviderTraits(ctx, p.ID, []int64{custom.ID, std.ID})
		if !changed {
			t.Error("setting traits reported no change")
		}
		again, err2 := tx.SetProviderTraits(ctx, p.ID, []int64{std.ID, custom.ID})
		if again {
			t.Error("setting the same traits reported a change")
		}
		if err == nil {
			err = err2
		}
		return err
	})
	a1, a2 := uuid.NewString(), uuid.NewString()
	write(t, s, func(tx *store.Tx) error {
		_, err := tx.SetProviderAggregates(ctx, p.ID, []string{a1, a2})
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		ts, err := tx.ProviderTraits(ctx, p.ID)
		if len(ts) != 2 || ts[0].Name != "CUSTOM_GOLD" {
			t.Errorf("provider traits = %v", ts)
		}
		in, err := tx.TraitInUse(ctx, custom.ID)
		if !in {
			t.Error("trait in use not reported")
		}
		assoc := true
		used, err := tx.Traits(ctx, model.TraitFilter{Associated: &assoc})
		if len(used) != 2 {
			t.Errorf("associated traits = %v", used)
		}
		aggs, err := tx.ProviderAggregates(ctx, p.ID)
		want := []string{a1, a2}
		sort.Strings(want)
		if len(aggs) != 2 || aggs[0] != want[0] || aggs[1] != want[1] {
			t.Errorf("aggregates = %v, want %v", aggs, want)
		}
		return err
	})
	write(t, s, func(tx *store.Tx) error {
		_, err := tx.SetProviderAggregates(ctx, p.ID, []string{a2})
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		aggs, err := tx.ProviderAggregates(ctx, p.ID)
		if len(aggs) != 1 || aggs[0] != a2 {
			t.Errorf("aggregates after removal = %v", aggs)
		}
		return err
	})
}

func testGenerationCAS(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "gen", nil)
	write(t, s, func(tx *store.Tx) error {
		g, err := tx.BumpGeneration(ctx, p.ID, 0)
		if g != 1 {
			t.Errorf("generation = %d, want 1", g)
		}
		return err
	})
	err := s.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.BumpGeneration(ctx, p.ID, 0)
		return err
	})
	e, ok := model.AsError(err)
	if !ok || e.Code != model.CodeConcurrentUpdate {
		t.Errorf("stale generation: got %v, want a concurrent-update conflict", err)
	}
}

func testConsumersAndAllocations(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "alloc", nil)
	vcpu, _ := model.StandardResourceClassID("VCPU")
	cu := uuid.NewString()
	write(t, s, func(tx *store.Tx) error {
		if err := tx.InsertInventory(ctx, p.ID, int64(vcpu), model.DefaultInventory("VCPU", 8)); err != nil {
			return err
		}
		made, created, err := tx.CreateConsumer(ctx, cu, "proj", "user", "INSTANCE", 0)
		if !created || err != nil {
			t.Fatalf("create consumer: %v %v", created, err)
		}
		_, created, err = tx.CreateConsumer(ctx, cu, "proj", "user", "", 0)
		if created {
			t.Error("a consumer was created twice")
		}
		c, ok, err := tx.Consumer(ctx, cu, true)
		if !ok {
			t.Fatal("consumer not found")
		}
		if c.ID != made.ID || c.ProjectID != "proj" || c.UserID != "user" || c.ConsumerType != "INSTANCE" || c.Generation != 0 {
			t.Errorf("created consumer %+v, read back %+v", made, c)
		}
		if err := tx.InsertAllocation(ctx, p.ID, c.ID, int64(vcpu), 3); err != nil {
			return err
		}
		return tx.SetUsed(ctx, store.InventoryKey{ProviderID: p.ID, ClassID: int64(vcpu)}, 3)
	})
	read(t, s, func(tx *store.Tx) error {
		c, _, err := tx.Consumer(ctx, cu, false)
		if c.ProjectID != "proj" || c.UserID != "user" || c.ConsumerType != "INSTANCE" || c.Generation != 0 {
			t.Errorf("consumer = %+v", c)
		}
		missing := uuid.NewString()
		byUUID, err := tx.ConsumersByUUID(ctx, []string{cu, missing})
		if err != nil || len(byUUID) != 1 || byUUID[cu] != c {
			t.Errorf("ConsumersByUUID(%s, %s) = %+v, %v; want only %+v", cu, missing, byUUID, err, c)
		}
		as, err := tx.ConsumerAllocations(ctx, c.ID)
		if len(as) != 1 || as[0].Used != 3 || as[0].ProviderUUID != p.UUID || as[0].ResourceClass != "VCPU" {
			t.Errorf("allocations = %+v", as)
		}
		rows, counts, err := tx.Usages(ctx, store.UsageFilter{ProjectID: "proj"})
		if len(rows) != 1 || rows[0].Used != 3 || rows[0].ConsumerType != "INSTANCE" || counts["INSTANCE"] != 1 {
			t.Errorf("usages = %+v %v", rows, counts)
		}
		invs, err := tx.InventoriesOf(ctx, []int64{p.ID})
		if invs[store.InventoryKey{ProviderID: p.ID, ClassID: int64(vcpu)}].Used != 3 {
			t.Errorf("usage counter not kept: %+v", invs)
		}
		return err
	})
	write(t, s, func(tx *store.Tx) error {
		c, _, _ := tx.Consumer(ctx, cu, true)
		c2, err := tx.UpdateConsumer(ctx, c, "proj2", "user2", "")
		if c2.Generation != 1 || c2.ConsumerType != "INSTANCE" {
			t.Errorf("updated consumer = %+v", c2)
		}
		return err
	})
	err := s.Write(ctx, func(tx *store.Tx) error {
		c, _, _ := tx.Consumer(ctx, cu, true)
		c.Generation = 0 // stale
		_, err := tx.UpdateConsumer(ctx, c, "p", "u", "")
		return err
	})
	if e, ok := model.AsError(err); !ok || e.Code != model.CodeConcurrentUpdate {
		t.Errorf("stale consumer generation: got %v", err)
	}
}

func testChangeFeed(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := newProvider(t, s, "feed-a", nil)
	b := newProvider(t, s, "feed-b", nil)
	rev2, _ := s.Revision(ctx)
	if rev2 != rev0+2 {
		t.Errorf("two writes moved the revision from %d to %d", rev0, rev2)
	}
	// A read-only transaction does not move the revision.
	read(t, s, func(tx *store.Tx) error { _, err := tx.AllProviders(ctx); return err })
	if r, _ := s.Revision(ctx); r != rev2 {
		t.Errorf("a read moved the revision to %d", r)
	}
	read(t, s, func(tx *store.Tx) error {
		ids, global, err := tx.ChangedProviders(ctx, rev0, rev2)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if global || len(ids) != 2 || ids[0] != a.ID || ids[1] != b.ID {
			t.Errorf("changes since %d = %v global=%v", rev0, ids, global)
		}
		ids, _, err = tx.ChangedProviders(ctx, rev0+1, rev2)
		if len(ids) != 1 || ids[0] != b.ID {
			t.Errorf("changes since %d = %v", rev0+1, ids)
		}
		states, err := tx.ProviderStates(ctx, []int64{a.ID, b.ID})
		if len(states) != 2 {
			t.Errorf("states = %+v", states)
		}
		return err
	})
	write(t, s, func(tx *store.Tx) error {
		_, _, err := tx.CreateTrait(ctx, "CUSTOM_FEED")
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		rev, _, err := tx.Revision(ctx)
		_, global, err := tx.ChangedProviders(ctx, rev2, rev)
		if !global {
			t.Error("a new trait is a global change")
		}
		return err
	})
}

func testRollback(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rev, _ := s.Revision(ctx)
	u := uuid.NewString()
	err := s.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateProvider(ctx, model.Provider{UUID: u, Name: "rolled-back"}); err != nil {
			return err
		}
		return model.BadRequest("changed my mind")
	})
	if !model.IsKind(err, model.KindBadRequest) {
		t.Fatalf("the function's error must come back as is, got %v", err)
	}
	read(t, s, func(tx *store.Tx) error {
		_, ok, err := tx.ProviderByUUID(ctx, u, false)
		if ok {
			t.Error("a rolled-back provider exists")
		}
		return err
	})
	if r, _ := s.Revision(ctx); r != rev {
		t.Errorf("a rolled-back write moved the revision from %d to %d", rev, r)
	}
}

// One transaction of several changes, each in a savepoint: a change that
// fails (by its own error or the database's) is undone alone, leaves
// nothing in the change feed or in the store's caches, and the others
// commit.
func testSavepoint(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rev, _ := s.Revision(ctx)
	var kept []int64
	var undone []string
	write(t, s, func(tx *store.Tx) error {
		for i, c := range []struct {
			name, project string
			fail          error
		}{
			{"sp-a", "sp-project-a", nil},
			{"sp-b", "sp-project-b", model.Conflict("changed my mind")},
			{"sp-a", "sp-project-c", nil}, // a duplicate name: the database refuses it
			{"sp-c", "sp-project-b", nil}, // the project the second change named, undone
		} {
			u := uuid.NewString()
			var id int64
			err := tx.Savepoint(ctx, func() error {
				p, err := tx.CreateProvider(ctx, model.Provider{UUID: u, Name: c.name})
				if err != nil {
					return err
				}
				id = p.ID
				if _, _, err := tx.CreateConsumer(ctx, uuid.NewString(), c.project, "sp-user", "", 0); err != nil {
					return err
				}
				return c.fail
			})
			switch {
			case i == 1 && !model.IsKind(err, model.KindConflict):
				t.Errorf("change %d: the function's error must come back as is, got %v", i, err)
			case i == 2 && err == nil:
				t.Errorf("change %d: a duplicate provider name was accepted", i)
			case (i == 0 || i == 3) && err != nil:
				return fmt.Errorf("change %d: %w", i, err)
			}
			if err == nil {
				kept = append(kept, id)
			} else {
				undone = append(undone, u)
			}
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		for _, u := range undone {
			if _, ok, err := tx.ProviderByUUID(ctx, u, false); ok || err != nil {
				t.Errorf("an undone provider %s exists (%v)", u, err)
			}
		}
		cur, _, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if cur != rev+1 {
			t.Errorf("one transaction moved the revision from %d to %d", rev, cur)
		}
		ids, _, err := tx.ChangedProviders(ctx, rev, cur)
		if err != nil {
			return err
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if len(ids) != len(kept) || ids[0] != kept[0] || ids[1] != kept[1] {
			t.Errorf("the change feed has providers %v, want the kept %v", ids, kept)
		}
		return nil
	})
}

func testConcurrentRevisions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rev0, _ := s.Revision(ctx)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- s.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: uuid.NewString()})
				return err
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	rev, _ := s.Revision(ctx)
	if rev != rev0+n {
		t.Fatalf("revision moved by %d for %d writes", rev-rev0, n)
	}
	read(t, s, func(tx *store.Tx) error {
		ids, _, err := tx.ChangedProviders(ctx, rev0, rev)
		if len(ids) != n {
			t.Errorf("change feed has %d providers for %d writes", len(ids), n)
		}
		return err
	})
}

func testCustomClasses(t *testing.T, s *store.Store) {
	ctx := context.Background()
	var a, b model.ResourceClass
	write(t, s, func(tx *store.Tx) error {
		var err error
		if a, err = tx.CreateResourceClass(ctx, "CUSTOM_A"); err != nil {
			return err
		}
		b, err = tx.CreateResourceClass(ctx, "CUSTOM_B")
		return err
	})
	if a.ID != model.CustomResourceClassMinID || b.ID != a.ID+1 {
		t.Errorf("custom ids = %d, %d; want %d, %d", a.ID, b.ID, model.CustomResourceClassMinID, model.CustomResourceClassMinID+1)
	}
	err := s.Write(ctx, func(tx *store.Tx) error { _, err := tx.CreateResourceClass(ctx, "CUSTOM_A"); return err })
	if !model.IsKind(err, model.KindConflict) {
		t.Errorf("duplicate class: %v", err)
	}
	write(t, s, func(tx *store.Tx) error {
		_, err := tx.RenameResourceClass(ctx, a.ID, "CUSTOM_C")
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		_, ok, err := tx.ResourceClass(ctx, "CUSTOM_C")
		if !ok {
			t.Error("renamed class not found")
		}
		return err
	})
}

// testNodeProjectFilter: the project filter keeps the nodes a project owns
// or leases, and combines with the other filters.
func testNodeProjectFilter(t *testing.T, s *store.Store) {
	ctx := context.Background()
	str := func(v string) *string { return &v }
	nodes := []struct {
		name          string
		owner, lessee *string
	}{
		{"owned", str("p1"), nil},
		{"leased", str("p2"), str("p1")},
		{"other", str("p2"), nil},
		{"unowned", nil, nil},
		{"leased-only", nil, str("p1")},
	}
	write(t, s, func(tx *store.Tx) error {
		for _, n := range nodes {
			if _, err := tx.CreateNode(ctx, model.Node{UUID: uuid.NewString(), Name: str(n.name), Driver: "fake-hardware",
				ProvisionState: model.StateEnroll, Owner: n.owner, Lessee: n.lessee}); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		f    model.NodeFilter
		want []string
	}{
		{model.NodeFilter{Project: str("p1")}, []string{"owned", "leased", "leased-only"}},
		{model.NodeFilter{Project: str("p2")}, []string{"leased", "other"}},
		{model.NodeFilter{Project: str("p3")}, nil},
		{model.NodeFilter{Project: str("p1"), Owner: str("p2")}, []string{"leased"}},
		{model.NodeFilter{Project: str("p1"), Limit: 1, SortKey: "name"}, []string{"leased"}},
	}
	for _, c := range cases {
		var got []string
		read(t, s, func(tx *store.Tx) error {
			ns, err := tx.ListNodes(ctx, c.f)
			for _, n := range ns {
				got = append(got, *n.Name)
			}
			return err
		})
		if len(got) != len(c.want) {
			t.Errorf("filter %+v: got %v, want %v", c.f, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("filter %+v: got %v, want %v", c.f, got, c.want)
				break
			}
		}
	}
}

// CountNodeAllocations counts allocations by state, and as queued those
// allocating that no live lease holds: what ClaimPendingAllocation picks.
func testCountNodeAllocations(t *testing.T, s *store.Store) {
	ctx := context.Background()
	now := time.Now()
	count := func() (map[string]int64, int64) {
		var by map[string]int64
		var queued int64
		read(t, s, func(tx *store.Tx) error {
			var err error
			by, queued, err = tx.CountNodeAllocations(ctx, now)
			return err
		})
		return by, queued
	}
	if by, queued := count(); len(by) != 0 || queued != 0 {
		t.Fatalf("empty store: %v, %d queued", by, queued)
	}
	states := []string{model.AllocAllocating, model.AllocAllocating, model.AllocAllocating, model.AllocAllocating,
		model.AllocError, model.AllocError, model.AllocActive}
	write(t, s, func(tx *store.Tx) error {
		for _, st := range states {
			if _, err := tx.CreateNodeAllocation(ctx, model.NodeAllocation{UUID: uuid.NewString(), State: st, ResourceClass: "gold"}); err != nil {
				return err
			}
		}
		// The first allocating one is held by a live lease, the second by
		// one that ran out: only the first leaves the queue.
		if _, ok, err := tx.ClaimPendingAllocation(ctx, "w1", now, now.Add(time.Hour)); err != nil || !ok {
			return fmt.Errorf("lease: %v %v", ok, err)
		}
		if _, ok, err := tx.ClaimPendingAllocation(ctx, "w2", now, now.Add(-time.Minute)); err != nil || !ok {
			return fmt.Errorf("lease: %v %v", ok, err)
		}
		return nil
	})
	by, queued := count()
	want := map[string]int64{model.AllocAllocating: 4, model.AllocError: 2, model.AllocActive: 1}
	if !reflect.DeepEqual(by, want) || queued != 3 {
		t.Errorf("counts %v, %d queued; want %v, 3 queued", by, queued, want)
	}
}

// testUsagesOfEveryone: UsageFilter.Everyone sums the consumers of every
// project and user per consumer type, and counts them.
func testUsagesOfEveryone(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "usages", nil)
	vcpu, _ := model.StandardResourceClassID("VCPU")
	mem, _ := model.StandardResourceClassID("MEMORY_MB")
	write(t, s, func(tx *store.Tx) error {
		if err := tx.InsertInventory(ctx, p.ID, int64(vcpu), model.DefaultInventory("VCPU", 64)); err != nil {
			return err
		}
		if err := tx.InsertInventory(ctx, p.ID, int64(mem), model.DefaultInventory("MEMORY_MB", 8192)); err != nil {
			return err
		}
		for _, c := range []struct {
			project, user, typ string
			vcpu, mem          int64
		}{
			{"p1", "u1", "INSTANCE", 2, 1024}, {"p2", "u2", "INSTANCE", 3, 0}, {"p2", "u3", "MIGRATION", 1, 512}, {"p3", "u1", "", 4, 0},
		} {
			made, _, err := tx.CreateConsumer(ctx, uuid.NewString(), c.project, c.user, c.typ, 0)
			if err != nil {
				return err
			}
			for class, n := range map[int64]int64{int64(vcpu): c.vcpu, int64(mem): c.mem} {
				if n > 0 {
					if err := tx.InsertAllocation(ctx, p.ID, made.ID, class, n); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		rows, counts, err := tx.Usages(ctx, store.UsageFilter{Everyone: true, ProjectID: "p1"}) // ProjectID ignored
		if err != nil {
			return err
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[r.ConsumerType+"/"+r.Class] = r.Used
		}
		want := map[string]int64{"INSTANCE/VCPU": 5, "INSTANCE/MEMORY_MB": 1024, "MIGRATION/VCPU": 1, "MIGRATION/MEMORY_MB": 512, "/VCPU": 4}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("usages of everyone %v, want %v", got, want)
		}
		if want := map[string]int64{"INSTANCE": 2, "MIGRATION": 1, "": 1}; !reflect.DeepEqual(counts, want) {
			t.Errorf("consumers %v, want %v", counts, want)
		}
		return nil
	})
}
