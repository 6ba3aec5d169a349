package placement

import (
	"context"
	"fmt"

	"allot/internal/engine"
	"allot/internal/query"
)

// AllocationCandidates answers GET /allocation_candidates from the engine,
// after it caught up with every write committed before the call. The
// search stops when ctx ends, with ctx's error.
func (s *Service) AllocationCandidates(ctx context.Context, q query.Candidates) (*engine.Result, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	opts := s.search
	opts.Done = ctx.Done()
	res, err := s.candidates(q, opts)
	if err == nil && ctx.Err() != nil {
		res.Release()
		return nil, fmt.Errorf("the allocation candidates search was abandoned: %w", ctx.Err())
	}
	return res, err
}
