package placement

import (
	"context"

	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/store"
)

// ReshapeInventory is the complete new inventory of one provider.
type ReshapeInventory struct {
	ProviderUUID string
	Generation   int64
	Inventories  []model.Inventory
}

// Reshape atomically replaces the inventories of some providers and the
// allocations of some consumers, so that allocations can move (e.g. from a
// root to new child providers) with no intermediate state visible to anyone.
// It is a write of allocations (see plan.go) with inventory changes around
// its plan: the providers whose inventories change are locked with the
// others, the interim inventory (existing plus new) is in place when the
// plan reads inventories, and the final inventory replaces it after.
func (s *Service) Reshape(ctx context.Context, invs []ReshapeInventory, allocs []ConsumerAllocations) error {
	return s.counted(metrics.OpReshape, s.store.Write(ctx, func(tx *store.Tx) error {
		uuids := make([]string, len(invs))
		for i, ri := range invs {
			uuids[i] = ri.ProviderUUID
		}
		read, err := lockClaims(ctx, tx, allocs, uuids)
		if err != nil {
			return err
		}
		providers := make([]model.Provider, len(invs))
		for i, ri := range invs {
			p, ok := read.providers[ri.ProviderUUID]
			if !ok {
				return model.BadRequest("Resource provider %s in inventories not found: No resource provider with uuid %s found",
					ri.ProviderUUID, ri.ProviderUUID).WithCode(model.CodeProviderNotFound)
			}
			if p.Generation != ri.Generation {
				return model.Conflict("resource provider generation conflict for provider %s: actual: %d, given: %d",
					ri.ProviderUUID, p.Generation, ri.Generation).WithCode(model.CodeConcurrentUpdate).WithHint(model.HintRetryProvider)
			}
			providers[i] = p
		}
		var names []string
		for _, ri := range invs {
			for _, inv := range ri.Inventories {
				names = append(names, inv.ResourceClass)
			}
		}
		ids, err := tx.ResourceClassIDs(ctx, names)
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, ok := ids[n]; !ok {
				return model.BadRequest("malformed reshaper data: No such resource class %s.", n)
			}
		}
		// Interim inventory: existing plus new, so allocations can move.
		for i, ri := range invs {
			if len(ri.Inventories) == 0 {
				continue
			}
			current, err := tx.Inventories(ctx, providers[i].ID)
			if err != nil {
				return err
			}
			merged := map[string]model.Inventory{}
			var order []string
			for _, inv := range append(current, ri.Inventories...) {
				if _, ok := merged[inv.ResourceClass]; !ok {
					order = append(order, inv.ResourceClass)
				}
				merged[inv.ResourceClass] = inv
			}
			interim := make([]model.Inventory, 0, len(order))
			for _, n := range order {
				interim = append(interim, merged[n])
			}
			if err := setInventories(ctx, tx, &providers[i], interim, AnyReserved); err != nil {
				return err
			}
		}
		if err := read.readInventories(ctx, tx); err != nil {
			return err
		}
		plan, err := planClaims(read, allocs, planOptions{WriteOptions: WriteOptions{Reshape: true}})
		if err != nil {
			return err
		}
		if err := applyClaims(ctx, tx, plan); err != nil {
			return err
		}
		// Final inventory, exactly as given.
		for _, ri := range invs {
			p, err := providerForWrite(ctx, tx, ri.ProviderUUID)
			if err != nil {
				return err
			}
			if err := setInventories(ctx, tx, &p, ri.Inventories, AnyReserved); err != nil {
				return err
			}
		}
		return nil
	}))
}
