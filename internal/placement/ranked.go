package placement

import (
	"context"
	"fmt"

	"allot/internal/engine"
	"allot/internal/query"
)

// RankedCandidates answers an allocation-candidates query like
// AllocationCandidates, in the order given (nil keeps the server's
// configured order) and with the preferences given (GET
// /allot/v1/allocation_candidates). The server's cap and time budget still
// apply.
func (s *Service) RankedCandidates(ctx context.Context, q query.Candidates, order *engine.Order, prefer []engine.Preference) (*engine.Result, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	opts := s.search
	opts.Done = ctx.Done()
	if order != nil {
		opts.Order, opts.Randomize = *order, false
	}
	opts.Prefer = prefer
	res, err := s.candidates(q, opts)
	if err == nil && ctx.Err() != nil {
		res.Release()
		return nil, fmt.Errorf("the allocation candidates search was abandoned: %w", ctx.Err())
	}
	return res, err
}
