package placement

import (
	"context"
	"fmt"

	"allot/internal/engine"
	"allot/internal/query"
)

// ExplainCandidates runs an allocation-candidates query as
// AllocationCandidates does (same index, same options) with every stage of
// the search counting what it removes, and returns the explanation.
func (s *Service) ExplainCandidates(ctx context.Context, q query.Candidates) (*engine.Explanation, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	opts := s.search
	opts.Done = ctx.Done()
	res, ex, err := s.engine.Explain(q, opts)
	if err != nil {
		return nil, err
	}
	res.Release()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the allocation candidates search was abandoned: %w", ctx.Err())
	}
	return ex, nil
}
