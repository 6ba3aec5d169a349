package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// testBulkInserts: the bulk inserts (CreateProviders, InsertInventories,
// AddProviderTraits, AddProviderAggregates, CreateConsumers,
// InsertAllocations) write, over several statements each, exactly the
// rows the one-row methods read back, under one revision that names every
// provider; a duplicate provider or consumer is a conflict that leaves
// nothing behind.
func testBulkInserts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const n = 300 // roots; as many children: several statements per table
	v, _ := model.StandardResourceClassID("VCPU")
	m, _ := model.StandardResourceClassID("MEMORY_MB")
	vcpu, memory := int64(v), int64(m)
	aggs := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var roots, children []model.Provider
	var trait model.Trait
	consumers := map[string]int64{}
	write(t, s, func(tx *store.Tx) error {
		var err error
		if trait, _, err = tx.CreateTrait(ctx, "CUSTOM_BULK"); err != nil {
			return err
		}
		return nil
	})
	rev1, _ := s.Revision(ctx)
	write(t, s, func(tx *store.Tx) error {
		ps := make([]model.Provider, n)
		for i := range ps {
			ps[i] = model.Provider{UUID: uuid.NewString(), Name: fmt.Sprintf("bulk-%03d", i)}
		}
		var err error
		if roots, err = tx.CreateProviders(ctx, ps); err != nil {
			return err
		}
		cs := make([]model.Provider, n)
		for i, r := range roots {
			cs[i] = model.Provider{UUID: uuid.NewString(), Name: fmt.Sprintf("bulk-%03d-child", i), ParentID: r.ID, RootID: r.ID}
		}
		if children, err = tx.CreateProviders(ctx, cs); err != nil {
			return err
		}
		var invs []store.InventoryRow
		var pts []store.ProviderTrait
		var pas []store.ProviderAggregate
		var ncs []store.NewConsumer
		for i, r := range roots {
			invs = append(invs, store.InventoryRow{ProviderID: r.ID, ClassID: vcpu, Inventory: model.Inventory{
				Total: int64(8 + i), Reserved: 1, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 2, Used: int64(i % 3)}})
			invs = append(invs, store.InventoryRow{ProviderID: children[i].ID, ClassID: memory, Inventory: model.Inventory{
				Total: 1024, MinUnit: 1, MaxUnit: 1024, StepSize: 1, AllocationRatio: 1}})
			pts = append(pts, store.ProviderTrait{ProviderID: r.ID, TraitID: trait.ID})
			pas = append(pas, store.ProviderAggregate{ProviderID: r.ID, Aggregate: aggs[i%len(aggs)]})
			if i%3 != 0 {
				ncs = append(ncs, store.NewConsumer{UUID: uuid.NewString(), ProjectID: "p", UserID: "u", ConsumerType: "INSTANCE", Generation: 1})
			}
		}
		if err := tx.InsertInventories(ctx, invs); err != nil {
			return err
		}
		if err := tx.AddProviderTraits(ctx, pts); err != nil {
			return err
		}
		if err := tx.AddProviderAggregates(ctx, pas); err != nil {
			return err
		}
		ids, err := tx.CreateConsumers(ctx, ncs)
		if err != nil {
			return err
		}
		// Consumer k uses i%3 VCPU of the root i it was made for.
		var as []store.AllocationRow
		k := 0
		for i, r := range roots {
			if i%3 == 0 {
				continue
			}
			c := ncs[k].UUID
			k++
			consumers[c] = r.ID
			as = append(as, store.AllocationRow{ProviderID: r.ID, ConsumerID: ids[c], ClassID: vcpu, Used: int64(i % 3)})
		}
		return tx.InsertAllocations(ctx, as)
	})
	rev2, _ := s.Revision(ctx)
	if rev2 != rev1+1 || rev1 != rev0+1 {
		t.Errorf("revisions %d, %d, %d: want one per transaction", rev0, rev1, rev2)
	}
	read(t, s, func(tx *store.Tx) error {
		changed, _, err := tx.ChangedProviders(ctx, rev1, rev2)
		if err != nil {
			return err
		}
		if len(changed) != 2*n {
			t.Errorf("the change feed names %d providers, want %d", len(changed), 2*n)
		}
		for i, r := range roots {
			got, ok, err := tx.ProviderByUUID(ctx, r.UUID, false)
			if err != nil || !ok {
				return fmt.Errorf("root %d: %v %v", i, ok, err)
			}
			if got.ID != r.ID || got.RootID != r.ID || got.Name != r.Name || r.RootID != r.ID || r.RootUUID != r.UUID {
				t.Errorf("root %d: %+v, returned %+v", i, got, r)
			}
			child, ok, err := tx.ProviderByUUID(ctx, children[i].UUID, false)
			if err != nil || !ok {
				return fmt.Errorf("child %d: %v %v", i, ok, err)
			}
			if child.ParentID != r.ID || child.RootID != r.ID || child.RootUUID != r.UUID || child.ID != children[i].ID {
				t.Errorf("child %d: %+v, want parent and root %d", i, child, r.ID)
			}
			invs, err := tx.Inventories(ctx, r.ID)
			if err != nil {
				return err
			}
			if len(invs) != 1 || invs[0].ResourceClass != "VCPU" || invs[0].Total != int64(8+i) || invs[0].Reserved != 1 ||
				invs[0].MaxUnit != 8 || invs[0].AllocationRatio != 2 || invs[0].Used != int64(i%3) {
				t.Errorf("root %d inventories: %+v", i, invs)
			}
			traits, err := tx.ProviderTraits(ctx, r.ID)
			if err != nil {
				return err
			}
			if len(traits) != 1 || traits[0].ID != trait.ID {
				t.Errorf("root %d traits: %+v", i, traits)
			}
			in, err := tx.ProviderAggregates(ctx, r.ID)
			if err != nil {
				return err
			}
			if !slices.Equal(in, []string{aggs[i%len(aggs)]}) {
				t.Errorf("root %d aggregates: %v", i, in)
			}
			allocs, err := tx.ProviderAllocations(ctx, r.ID)
			if err != nil {
				return err
			}
			var used int64
			for _, a := range allocs {
				used += a.Used
				if consumers[a.ConsumerUUID] != r.ID {
					t.Errorf("root %d: an allocation of consumer %s, made for %d", i, a.ConsumerUUID, consumers[a.ConsumerUUID])
				}
			}
			if used != int64(i%3) {
				t.Errorf("root %d: allocations of %d, want %d", i, used, i%3)
			}
		}
		for c := range consumers {
			got, ok, err := tx.Consumer(ctx, c, false)
			if err != nil || !ok || got.ProjectID != "p" || got.UserID != "u" || got.ConsumerType != "INSTANCE" || got.Generation != 1 {
				t.Errorf("consumer %s: %+v %v %v", c, got, ok, err)
			}
		}
		return nil
	})

	// Duplicates: a conflict, and the transaction leaves nothing.
	for name, fn := range map[string]func(tx *store.Tx) error{
		"provider": func(tx *store.Tx) error {
			_, err := tx.CreateProviders(ctx, []model.Provider{{UUID: uuid.NewString(), Name: "bulk-new"}, {UUID: roots[5].UUID, Name: "bulk-again"}})
			return err
		},
		"consumer": func(tx *store.Tx) error {
			var c string
			for c = range consumers {
				break
			}
			if _, err := tx.CreateProviders(ctx, []model.Provider{{UUID: uuid.NewString(), Name: "bulk-new"}}); err != nil {
				return err
			}
			_, err := tx.CreateConsumers(ctx, []store.NewConsumer{{UUID: c, ProjectID: "p", UserID: "u", Generation: 1}})
			return err
		},
	} {
		err := s.Write(ctx, fn)
		if !model.IsKind(err, model.KindConflict) {
			t.Errorf("duplicate %s: %v, want a conflict", name, err)
		}
		if rev, _ := s.Revision(ctx); rev != rev2 {
			t.Errorf("duplicate %s: revision %d, want %d", name, rev, rev2)
		}
		read(t, s, func(tx *store.Tx) error {
			all, err := tx.AllProviders(ctx)
			if len(all) != 2*n {
				t.Errorf("duplicate %s: %d providers, want %d", name, len(all), 2*n)
			}
			return err
		})
	}
}
