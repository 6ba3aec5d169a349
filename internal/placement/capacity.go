package placement

import (
	"context"

	"allot/internal/model"
)

// Capacity returns the cloud's capacity per resource class, and per class
// the n fullest and n emptiest trees, from the candidate index brought up
// to the store's latest revision (engine.Engine.Capacity).
func (s *Service) Capacity(ctx context.Context, n int) (model.Capacity, error) {
	if err := s.Sync(ctx); err != nil {
		return model.Capacity{}, err
	}
	return s.engine.Capacity(n), nil
}
