package placement

import (
	"context"

	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/store"
)

// ConsumerView is a consumer's allocations as GET /allocations/{c} shows them.
type ConsumerView struct {
	Consumer    model.Consumer
	Exists      bool
	Allocations []model.Allocation
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
	Allocations []model.Allocation
}

// GetProviderAllocations returns every allocation held on a provider.
func (s *Service) GetProviderAllocations(ctx context.Context, providerUUID string) (ProviderAllocationsView, error) {
	p, allocs, err := readOfProvider(ctx, s, providerUUID, func(tx *store.Tx, p model.Provider) ([]model.Allocation, error) {
		return tx.ProviderAllocations(ctx, p.ID)
	})
	if model.IsKind(err, model.KindNotFound) {
		// This endpoint's 404 names the provider twice, as Placement's does.
		err = model.NotFound("Resource provider '%s' not found: No resource provider with uuid %s found", providerUUID, providerUUID)
	}
	return ProviderAllocationsView{Provider: p, Allocations: allocs}, err
}

// ProviderUsages returns a provider with its inventories (whose Used is the
// provider's usage of each class).
func (s *Service) ProviderUsages(ctx context.Context, providerUUID string) (ProviderInventories, error) {
	return s.GetInventories(ctx, providerUUID)
}

// WriteAllocations replaces the allocations of every consumer in reqs in
// one transaction, with Placement's rules (see plan.go).
func (s *Service) WriteAllocations(ctx context.Context, reqs []ConsumerAllocations, opts WriteOptions) error {
	return s.counted(metrics.OpAllocations, s.store.Write(ctx, func(tx *store.Tx) error {
		return writeAllocations(ctx, tx, reqs, planOptions{WriteOptions: opts})
	}))
}

// DeleteConsumerAllocations releases everything a consumer holds (the
// unconditional DELETE, without generation): a 404 when it holds nothing.
// As in Placement, no provider generation changes.
func (s *Service) DeleteConsumerAllocations(ctx context.Context, consumerUUID string) error {
	return s.counted(metrics.OpDelete, s.store.Write(ctx, func(tx *store.Tx) error {
		return writeAllocations(ctx, tx, []ConsumerAllocations{{ConsumerUUID: consumerUUID}}, planOptions{deleteAll: true})
	}))
}

// UsageQuery selects GET /usages results.
type UsageQuery struct {
	ProjectID string
	UserID    string
	// Everyone counts every project's and user's consumers.
	Everyone bool
	// ConsumerType filters (1.38+): a type name, "all" or "unknown"; empty
	// means every type, grouped by type.
	ConsumerType string
}

// UsageGroup is what the consumers of one group use: per class, and how
// many consumers there are.
type UsageGroup struct {
	Used      map[string]int64
	Consumers int64
}

// Usages returns the usage of a project (and user), grouped as
// q.ConsumerType asks: by consumer type ("unknown" for consumers without
// one) when empty; one group "all" for "all"; the one group of the type
// named (or "unknown") otherwise. A group with no usage is left out.
func (s *Service) Usages(ctx context.Context, q UsageQuery) (map[string]UsageGroup, error) {
	var rows []store.UsageRow
	var counts map[string]int64
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, counts, err = tx.Usages(ctx, store.UsageFilter{ProjectID: q.ProjectID, UserID: q.UserID, Everyone: q.Everyone})
		return err
	})
	if err != nil {
		return nil, err
	}
	groupOf := func(consumerType string) (string, bool) {
		name := ConsumerTypeName(consumerType)
		switch q.ConsumerType {
		case "":
			return name, true
		case "all":
			return "all", true
		}
		return name, name == q.ConsumerType
	}
	out := map[string]UsageGroup{}
	for _, row := range rows {
		key, ok := groupOf(row.ConsumerType)
		if !ok {
			continue
		}
		g, seen := out[key]
		if !seen {
			g.Used = map[string]int64{}
		}
		g.Used[row.Class] += row.Used
		out[key] = g
	}
	for consumerType, n := range counts {
		if key, ok := groupOf(consumerType); ok {
			if g, seen := out[key]; seen {
				g.Consumers += n
				out[key] = g
			}
		}
	}
	return out, nil
}

// ConsumerTypeName is how the API names a consumer's type: "unknown" for
// consumers written without one.
func ConsumerTypeName(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}
