package placement

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// ProviderAggregates is a provider's generation with its aggregates.
type ProviderAggregates struct {
	Provider   model.Provider
	Aggregates []string
}

// GetProviderAggregates returns the aggregates of a provider.
func (s *Service) GetProviderAggregates(ctx context.Context, id string) (ProviderAggregates, error) {
	p, aggs, err := readOfProvider(ctx, s, id, func(tx *store.Tx, p model.Provider) ([]string, error) {
		return tx.ProviderAggregates(ctx, p.ID)
	})
	return ProviderAggregates{Provider: p, Aggregates: aggs}, err
}

// SetProviderAggregates replaces the aggregates of a provider. With a
// generation (microversion 1.19+) the provider's generation must match and
// is bumped; without one (older clients) it is neither checked nor bumped.
// invalid, when not nil, is why the request's aggregates could not be
// parsed: it is the answer if the provider exists (else the 404 is).
func (s *Service) SetProviderAggregates(ctx context.Context, id string, generation *int64, aggregates []string, invalid error) (ProviderAggregates, error) {
	var out ProviderAggregates
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForInput(ctx, tx, id, invalid)
		if err != nil {
			return err
		}
		if generation != nil && p.Generation != *generation {
			return model.Conflict("Resource provider's generation already changed. Please update the generation and try again.").
				WithCode(model.CodeConcurrentUpdate)
		}
		norm := make([]string, len(aggregates))
		for i, a := range aggregates {
			norm[i], _ = model.NormalizeUUID(a)
		}
		if _, err := tx.SetProviderAggregates(ctx, p.ID, norm); err != nil {
			return err
		}
		if generation != nil {
			if p.Generation, err = tx.BumpGeneration(ctx, p.ID, p.Generation); err != nil {
				return err
			}
		}
		out.Provider = p
		out.Aggregates = aggregates
		return nil
	})
	return out, err
}
