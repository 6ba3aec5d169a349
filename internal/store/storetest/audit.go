package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// testAudit checks the audit's reads (counters against the allocations'
// sums, allocations without inventory, empty consumers, claims by consumer
// type) and repairs (a recount that bumps the generation and records the
// change feed; an empty consumer deleted, one with allocations kept).
func testAudit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p := newProvider(t, s, "audited", nil)
	vcpu, _ := model.StandardResourceClassID("VCPU")
	mem, _ := model.StandardResourceClassID("MEMORY_MB")
	held, empty := uuid.NewString(), uuid.NewString()
	write(t, s, func(tx *store.Tx) error {
		if err := tx.InsertInventory(ctx, p.ID, int64(vcpu), model.DefaultInventory("VCPU", 8)); err != nil {
			return err
		}
		c, _, err := tx.CreateConsumer(ctx, held, "proj", "user", "INSTANCE", 1)
		if err != nil {
			return err
		}
		if _, _, err := tx.CreateConsumer(ctx, empty, "proj", "user", "", 1); err != nil {
			return err
		}
		if err := tx.InsertAllocation(ctx, p.ID, c.ID, int64(vcpu), 3); err != nil {
			return err
		}
		if err := tx.InsertAllocation(ctx, p.ID, c.ID, int64(mem), 512); err != nil { // no MEMORY_MB inventory
			return err
		}
		return tx.SetUsed(ctx, store.InventoryKey{ProviderID: p.ID, ClassID: int64(vcpu)}, 5) // wrong: 3 allocated
	})
	read(t, s, func(tx *store.Tx) error {
		invs, err := tx.AuditInventories(ctx)
		if err != nil {
			return err
		}
		if len(invs) != 1 || invs[0].ProviderUUID != p.UUID || invs[0].ResourceClass != "VCPU" || invs[0].Used != 5 || invs[0].Allocated != 3 {
			t.Errorf("audit inventories = %+v, want VCPU counter 5, allocated 3", invs)
		}
		stray, err := tx.AuditStrayAllocations(ctx)
		if err != nil {
			return err
		}
		if len(stray) != 1 || stray[0].Class != "MEMORY_MB" || stray[0].Allocated != 512 || stray[0].Consumers != 1 || stray[0].ProviderName != "audited" {
			t.Errorf("allocations without inventory = %+v", stray)
		}
		cs, err := tx.AuditEmptyConsumers(ctx)
		if err != nil {
			return err
		}
		if len(cs) != 1 || cs[0].UUID != empty || cs[0].ProjectID != "proj" {
			t.Errorf("empty consumers = %+v, want %s", cs, empty)
		}
		claims, err := tx.AuditConsumerAllocations(ctx, "INSTANCE")
		if err != nil {
			return err
		}
		if len(claims) != 1 || len(claims[held]) != 2 {
			t.Errorf("allocations of INSTANCE consumers = %+v", claims)
		}
		return nil
	})
	var rev int64
	read(t, s, func(tx *store.Tx) (err error) {
		rev, _, err = tx.Revision(ctx)
		return err
	})
	for i, want := range []struct{ before, after int64 }{{5, 3}, {3, 3}} {
		write(t, s, func(tx *store.Tx) error {
			before, after, found, err := tx.RecountUsage(ctx, p.ID, int64(vcpu))
			if !found || before != want.before || after != want.after {
				t.Errorf("recount %d: %d -> %d (found %t), want %d -> %d", i, before, after, found, want.before, want.after)
			}
			return err
		})
	}
	read(t, s, func(tx *store.Tx) error {
		now, _, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		ids, _, err := tx.ChangedProviders(ctx, rev, now)
		if now != rev+1 || len(ids) != 1 || ids[0] != p.ID {
			t.Errorf("the recount recorded revisions %d..%d with providers %v; want one revision naming provider %d", rev, now, ids, p.ID)
		}
		after, _, _ := tx.ProviderByUUID(ctx, p.UUID, false)
		if after.Generation != p.Generation+1 {
			t.Errorf("the recount left the generation at %d, want %d", after.Generation, p.Generation+1)
		}
		return err
	})
	for _, tc := range []struct {
		uuid string
		want bool
	}{{held, false}, {empty, true}, {empty, false}} {
		write(t, s, func(tx *store.Tx) error {
			deleted, err := tx.DeleteEmptyConsumer(ctx, tc.uuid)
			if deleted != tc.want {
				t.Errorf("DeleteEmptyConsumer(%s) = %t, want %t", tc.uuid, deleted, tc.want)
			}
			return err
		})
	}
}
