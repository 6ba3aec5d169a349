package placement

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// ConsumerView is a consumer's allocations as GET /allocations/{c} shows them.
type ConsumerView struct {
	Consumer    model.Consumer
	Exists      bool
	Allocations []store.ProviderAllocation
}

// GetConsumerAllocations returns what a consumer holds (nothing for an
// unknown consumer).
func (s *Service) GetConsumerAllocations(ctx context.Context, consumerUUID string) (ConsumerView, error) {
	var out ConsumerView
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		c, ok, err := tx.Consumer(ctx, consumerUUID, false)
		if err != nil || !ok {
			return err
		}
		out.Consumer, out.Exists = c, true
		out.Allocations, err = tx.ConsumerAllocations(ctx, c.ID)
		return err
	})
	return out, err
}

// ProviderAllocationsView is the allocations held on one provider.
type ProviderAllocationsView struct {
	Provider    model.Provider
	Allocations []store.ProviderAllocation
}

// GetProviderAllocations returns every allocation held on a provider.
func (s *Service) GetProviderAllocations(ctx context.Context, providerUUID string) (ProviderAllocationsView, error) {
	var out ProviderAllocationsView
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		p, ok, err := tx.ProviderByUUID(ctx, providerUUID, false)
		if err != nil {
			return err
		}
		if !ok {
			return model.NotFound("Resource provider '%s' not found: No resource provider with uuid %s found", providerUUID, providerUUID)
		}
		out.Provider = p
		out.Allocations, err = tx.ProviderAllocations(ctx, p.ID)
		return err
	})
	return out, err
}

// ProviderUsages returns a provider with its inventories (whose Used is the
// provider's usage of each class).
func (s *Service) ProviderUsages(ctx context.Context, providerUUID string) (ProviderInventories, error) {
	return s.GetInventories(ctx, providerUUID)
}

// WriteAllocations replaces the allocations of every consumer in reqs in
// one transaction, with Placement's rules (see plan.go).
func (s *Service) WriteAllocations(ctx context.Context, reqs []ConsumerAllocations, opts WriteOptions) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		return writeAllocations(ctx, tx, reqs, planOptions{WriteOptions: opts})
	})
}

// DeleteConsumerAllocations releases everything a consumer holds (the
// unconditional DELETE, without generation): a 404 when it holds nothing.
// As in Placement, no provider generation changes.
func (s *Service) DeleteConsumerAllocations(ctx context.Context, consumerUUID string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		return writeAllocations(ctx, tx, []ConsumerAllocations{{ConsumerUUID: consumerUUID}}, planOptions{deleteAll: true})
	})
}

// UsageQuery selects GET /usages results.
type UsageQuery struct {
	ProjectID string
	UserID    string
	// ConsumerType filters (1.38+): a type name, "all" or "unknown"; empty
	// means every type, grouped by type.
	ConsumerType string
}

// Usages returns usage per consumer type ("" for untyped consumers) and
// class, with consumer counts per type.
func (s *Service) Usages(ctx context.Context, q UsageQuery) ([]store.UsageRow, map[string]int64, error) {
	var rows []store.UsageRow
	var counts map[string]int64
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, counts, err = tx.Usages(ctx, store.UsageFilter{ProjectID: q.ProjectID, UserID: q.UserID})
		return err
	})
	return rows, counts, err
}
