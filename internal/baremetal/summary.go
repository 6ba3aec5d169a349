package baremetal

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// SummaryFilter says what Summary counts: the nodes of NodeProject (nil:
// every node) and, when Allocations is set, the allocations of
// AllocationOwner (nil: every allocation).
type SummaryFilter struct {
	NodeProject     *string
	Allocations     bool
	AllocationOwner *string
}

// Summary counts nodes by state and allocations by state and owner, in
// one read of the store: the same snapshot for both, and grouped by the
// store, so its cost is one query each however many nodes there are.
func (s *Service) Summary(ctx context.Context, f SummaryFilter) (nodes []model.NodeCount, allocations []model.NodeAllocationCount, err error) {
	err = s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		if nodes, err = tx.CountNodes(ctx, f.NodeProject); err != nil || !f.Allocations {
			return err
		}
		allocations, err = tx.CountNodeAllocationsByOwner(ctx, f.AllocationOwner)
		return err
	})
	return nodes, allocations, err
}
