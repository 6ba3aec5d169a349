package placement

import (
	"context"

	"allot/internal/model"
)

// Capacity returns the cloud's capacity per resource class, and per class
// the n fullest and n emptiest trees, from the candidate index brought up
// to the store's latest revision (engine.Engine.Capacity); and the usage
// per consumer type, summed by the store. The two are read one after the
// other, not in one transaction: a write in between shows in one and not
// yet in the other.
func (s *Service) Capacity(ctx context.Context, n int) (model.Capacity, error) {
	if err := s.Sync(ctx); err != nil {
		return model.Capacity{}, err
	}
	c := s.engine.Capacity(n)
	groups, err := s.Usages(ctx, UsageQuery{Everyone: true})
	if err != nil {
		return model.Capacity{}, err
	}
	c.ConsumerTypes = make(map[string]model.ConsumerTypeUsage, len(groups))
	for name, g := range groups {
		c.ConsumerTypes[name] = model.ConsumerTypeUsage{Consumers: g.Consumers, Used: g.Used}
	}
	return c, nil
}

// Revision is the store's latest committed revision: it changes with every
// write, so a page that shows the cloud can poll it and reload only when
// it moved.
func (s *Service) Revision(ctx context.Context) (int64, error) {
	return s.store.Revision(ctx)
}
