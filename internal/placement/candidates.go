package placement

import (
	"context"

	"allot/internal/engine"
	"allot/internal/query"
)

// AllocationCandidates answers GET /allocation_candidates from the engine,
// after it caught up with every write committed before the call.
func (s *Service) AllocationCandidates(ctx context.Context, q query.Candidates) (*engine.Result, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.engine.Candidates(q, s.search)
}
