package placement

import (
	"context"
	"strings"

	"allot/internal/model"
	"allot/internal/store"
)

// ProviderInventories is a provider's generation with its inventories.
type ProviderInventories struct {
	Provider    model.Provider
	Inventories []model.Inventory
}

// GetInventories returns the inventories of a provider.
func (s *Service) GetInventories(ctx context.Context, id string) (ProviderInventories, error) {
	p, invs, err := readOfProvider(ctx, s, id, func(tx *store.Tx, p model.Provider) ([]model.Inventory, error) {
		return tx.Inventories(ctx, p.ID)
	})
	return ProviderInventories{Provider: p, Inventories: invs}, err
}

// GetInventory returns one inventory of a provider.
func (s *Service) GetInventory(ctx context.Context, id, class string) (model.Provider, model.Inventory, error) {
	all, err := s.GetInventories(ctx, id)
	if err != nil {
		return model.Provider{}, model.Inventory{}, err
	}
	for _, inv := range all.Inventories {
		if inv.ResourceClass == class {
			return all.Provider, inv, nil
		}
	}
	return all.Provider, model.Inventory{}, model.NotFound("No inventory of class %s for %s", class, id)
}

// CapacityRule says how strictly reserved is checked against total.
type CapacityRule int

const (
	// ReservedBelowTotal requires capacity > 0 (before microversion 1.26).
	ReservedBelowTotal CapacityRule = iota
	// ReservedUpToTotal allows reserved == total (from 1.26).
	ReservedUpToTotal
	// AnyReserved skips the check (the reshaper does not make it).
	AnyReserved
)

// checkCapacity validates an inventory's reserved amount against its total.
func checkCapacity(rule CapacityRule, providerUUID string, inv model.Inventory) error {
	c := inv.Capacity()
	switch {
	case rule == ReservedBelowTotal && c <= 0:
		return model.BadRequest("Invalid inventory for '%s' on resource provider '%s'. The reserved value is greater than or equal to total.", inv.ResourceClass, providerUUID)
	case rule == ReservedUpToTotal && c < 0:
		return model.BadRequest("Invalid inventory for '%s' on resource provider '%s'. The reserved value is greater than total.", inv.ResourceClass, providerUUID)
	}
	return nil
}

// prefixed puts context in front of a model error's message, keeping its kind and code.
func prefixed(err error, prefix string) error {
	e, ok := model.AsError(err)
	if !ok {
		return err
	}
	c := *e
	c.Message = prefix + e.Message
	return &c
}

// CreateInventory adds one inventory of a class the provider does not have
// yet. invalid, when not nil, is why the request's inventory could not be
// parsed: it is the answer if the provider exists (else the 404 is).
func (s *Service) CreateInventory(ctx context.Context, id string, inv model.Inventory, rule CapacityRule, invalid error) (model.Provider, error) {
	var out model.Provider
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForInput(ctx, tx, id, invalid)
		if err != nil {
			return err
		}
		createErr := func(err error) error {
			return prefixed(err, "Unable to create inventory for resource provider "+p.UUID+": ")
		}
		if err := checkCapacity(rule, p.UUID, inv); err != nil {
			return createErr(err)
		}
		rc, ok, err := tx.ResourceClass(ctx, inv.ResourceClass)
		if err != nil {
			return err
		}
		if !ok {
			return createErr(withClassHint(ctx, tx, model.BadRequest("No such resource class %s.", inv.ResourceClass), inv.ResourceClass))
		}
		if err := tx.InsertInventory(ctx, p.ID, rc.ID, inv); err != nil {
			return prefixed(err, "Update conflict: ")
		}
		if p.Generation, err = tx.BumpGeneration(ctx, p.ID, p.Generation); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// SetInventories replaces every inventory of a provider (classes missing
// from invs are removed, which fails if they are allocated). invalid, when
// not nil, is why the request's inventories could not be parsed: it is the
// answer if the provider exists (else the 404 is).
func (s *Service) SetInventories(ctx context.Context, id string, generation int64, invs []model.Inventory, rule CapacityRule, invalid error) (ProviderInventories, error) {
	var out ProviderInventories
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForInput(ctx, tx, id, invalid)
		if err != nil {
			return err
		}
		if p.Generation != generation {
			return model.Conflict("resource provider generation conflict").WithCode(model.CodeConcurrentUpdate).WithHint(model.HintRetryProvider)
		}
		if err := setInventories(ctx, tx, &p, invs, rule); err != nil {
			return err
		}
		out.Provider = p
		out.Inventories, err = tx.Inventories(ctx, p.ID)
		return err
	})
	return out, err
}

// setInventories replaces the inventories of locked provider p and bumps
// its generation; shared by PUT inventories, DELETE inventories and reshaper.
func setInventories(ctx context.Context, tx *store.Tx, p *model.Provider, invs []model.Inventory, rule CapacityRule) error {
	updErr := func(err error) error {
		return prefixed(err, "Unable to update inventory for resource provider "+p.UUID+": ")
	}
	for _, inv := range invs {
		if err := checkCapacity(rule, p.UUID, inv); err != nil {
			return updErr(err)
		}
	}
	names := make([]string, len(invs))
	for i, inv := range invs {
		names[i] = inv.ResourceClass
	}
	ids, err := tx.ResourceClassIDs(ctx, names)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			return withClassHint(ctx, tx, model.BadRequest("Unknown resource class in inventory for resource provider %s: No such resource class %s.", p.UUID, n), n)
		}
	}
	current, err := tx.Inventories(ctx, p.ID)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var gone []string
	for _, inv := range current {
		if !want[inv.ResourceClass] {
			gone = append(gone, inv.ResourceClass)
		}
	}
	if len(gone) > 0 {
		goneIDs, err := tx.ResourceClassIDs(ctx, gone)
		if err != nil {
			return err
		}
		idList := make([]int64, 0, len(gone))
		for _, n := range gone {
			idList = append(idList, goneIDs[n])
		}
		inUse, err := tx.AllocatedClasses(ctx, p.ID, idList)
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return inventoryInUse(p.UUID, inUse)
		}
		if _, err := tx.DeleteInventories(ctx, p.ID, idList); err != nil {
			return err
		}
	}
	have := map[string]bool{}
	for _, inv := range current {
		have[inv.ResourceClass] = true
	}
	for _, inv := range invs {
		if have[inv.ResourceClass] {
			if _, err := tx.UpdateInventory(ctx, p.ID, ids[inv.ResourceClass], inv); err != nil {
				return err
			}
		} else if err := tx.InsertInventory(ctx, p.ID, ids[inv.ResourceClass], inv); err != nil {
			return err
		}
	}
	p.Generation, err = tx.BumpGeneration(ctx, p.ID, p.Generation)
	return err
}

// inventoryInUse is the 409 for removing allocated inventory.
func inventoryInUse(providerUUID string, classes []string) error {
	return model.Conflict("update conflict: Inventory for '%s' on resource provider '%s' in use.",
		strings.Join(classes, ", "), providerUUID).WithCode(model.CodeInventoryInUse).WithHint(model.HintInventoryInUse)
}

// UpdateInventory changes one existing inventory of a provider. invalid,
// when not nil, is why the request's inventory could not be parsed: it is
// the answer if the provider exists (else the 404 is).
func (s *Service) UpdateInventory(ctx context.Context, id string, generation int64, inv model.Inventory, rule CapacityRule, invalid error) (model.Provider, model.Inventory, error) {
	var out model.Provider
	var saved model.Inventory
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForInput(ctx, tx, id, invalid)
		if err != nil {
			return err
		}
		if p.Generation != generation {
			return model.Conflict("resource provider generation conflict").WithCode(model.CodeConcurrentUpdate).WithHint(model.HintRetryProvider)
		}
		rc, ok, err := tx.ResourceClass(ctx, inv.ResourceClass)
		if err != nil {
			return err
		}
		if !ok {
			return withClassHint(ctx, tx, model.NotFound("No such resource class %s.", inv.ResourceClass), inv.ResourceClass)
		}
		if err := checkCapacity(rule, p.UUID, inv); err != nil {
			return prefixed(err, "Unable to update inventory for resource provider "+p.UUID+": ")
		}
		found, err := tx.UpdateInventory(ctx, p.ID, rc.ID, inv)
		if err != nil {
			return err
		}
		if !found {
			return model.BadRequest("No inventory record with resource class for resource provider %s: No inventory of class %s found.", p.UUID, inv.ResourceClass)
		}
		if p.Generation, err = tx.BumpGeneration(ctx, p.ID, p.Generation); err != nil {
			return err
		}
		invs, err := tx.Inventories(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, i := range invs {
			if i.ResourceClass == inv.ResourceClass {
				saved = i
			}
		}
		out = p
		return nil
	})
	return out, saved, err
}

// DeleteInventory removes one inventory of a provider; it fails if allocated.
func (s *Service) DeleteInventory(ctx context.Context, id, class string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForWrite(ctx, tx, id)
		if err != nil {
			return err
		}
		rc, ok, err := tx.ResourceClass(ctx, class)
		if err != nil {
			return err
		}
		if !ok {
			return withClassHint(ctx, tx, model.NotFound("No inventory of class %s found for delete: No such resource class %s.", class, class), class)
		}
		inUse, err := tx.AllocatedClasses(ctx, p.ID, []int64{rc.ID})
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return model.Conflict("Unable to delete inventory of class %s: Inventory for '%s' on resource provider '%s' in use.",
				class, class, p.UUID).WithCode(model.CodeConcurrentUpdate).WithHint(model.HintInventoryInUse)
		}
		n, err := tx.DeleteInventories(ctx, p.ID, []int64{rc.ID})
		if err != nil {
			return err
		}
		if n == 0 {
			return model.NotFound("No inventory of class %s found for delete", class)
		}
		_, err = tx.BumpGeneration(ctx, p.ID, p.Generation)
		return err
	})
}

// DeleteInventories removes every inventory of a provider; it fails if any
// is allocated.
func (s *Service) DeleteInventories(ctx context.Context, id string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForWrite(ctx, tx, id)
		if err != nil {
			return err
		}
		err = setInventories(ctx, tx, &p, nil, ReservedUpToTotal)
		if e, ok := model.AsError(err); ok && e.Code == model.CodeInventoryInUse {
			return &model.Error{Kind: e.Kind, Code: e.Code, Message: strings.TrimPrefix(e.Message, "update conflict: "), Hint: e.Hint}
		}
		return err
	})
}
