package placement

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"allot/internal/model"
	"allot/internal/store"
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

// AggregateCapacity returns the aggregates from offset to offset+limit
// (by UUID), each with its providers' capacity per class
// (engine.Engine.AggregateCapacity), and how many there are in all.
func (s *Service) AggregateCapacity(ctx context.Context, offset, limit int) (model.AggregateCapacities, error) {
	if err := s.Sync(ctx); err != nil {
		return model.AggregateCapacities{}, err
	}
	rev, all := s.engine.AggregateCapacity()
	page := []model.AggregateCapacity{}
	if offset < len(all) {
		page = all[offset:min(offset+limit, len(all))]
	}
	return model.AggregateCapacities{Revision: rev, Count: len(all), Aggregates: page}, nil
}

// RootShares returns every tree's share in use of one class, and the
// sums of the trees from offset to offset+limit, in root name order
// (engine.Engine.RootShares).
func (s *Service) RootShares(ctx context.Context, class string, offset, limit int) (model.RootShares, error) {
	if err := s.Sync(ctx); err != nil {
		return model.RootShares{}, err
	}
	return s.engine.RootShares(class, offset, limit), nil
}

// Sharing returns a provider's sharing relations, naming at most limit of
// the trees it serves; a 404 for an unknown provider.
func (s *Service) Sharing(ctx context.Context, uuid string, limit int) (model.Sharing, error) {
	if err := s.Sync(ctx); err != nil {
		return model.Sharing{}, err
	}
	sh, ok := s.engine.Sharing(uuid, limit)
	if !ok {
		return sh, errProviderNotFound(uuid)
	}
	return sh, nil
}

// ProviderConsumer is one consumer's allocations on a provider, with who
// it belongs to.
type ProviderConsumer struct {
	Consumer  model.Consumer
	Resources map[string]int64
}

// ProviderConsumers returns the consumers holding allocations on a
// provider, by consumer UUID, with their project, user and type, read in
// one transaction (the consumers in one statement); at most limit of
// them, and how many there are.
func (s *Service) ProviderConsumers(ctx context.Context, providerUUID string, limit int) ([]ProviderConsumer, int, error) {
	var out []ProviderConsumer
	count := 0
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		p, err := providerForRead(ctx, tx, providerUUID)
		if err != nil {
			return err
		}
		allocs, err := tx.ProviderAllocations(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("allocations of provider %s: %w", providerUUID, err)
		}
		byConsumer := map[string]map[string]int64{}
		for _, a := range allocs {
			if byConsumer[a.ConsumerUUID] == nil {
				byConsumer[a.ConsumerUUID] = map[string]int64{}
			}
			byConsumer[a.ConsumerUUID][a.ResourceClass] += a.Used
		}
		uuids := slices.Sorted(maps.Keys(byConsumer))
		count = len(uuids)
		uuids = uuids[:min(limit, count)]
		consumers, err := tx.ConsumersByUUID(ctx, uuids)
		if err != nil {
			return fmt.Errorf("consumers of provider %s: %w", providerUUID, err)
		}
		out = make([]ProviderConsumer, 0, len(uuids))
		for _, u := range uuids {
			c, ok := consumers[u]
			if !ok { // cannot happen in one read: an allocation has its consumer
				c = model.Consumer{UUID: u}
			}
			out = append(out, ProviderConsumer{Consumer: c, Resources: byConsumer[u]})
		}
		return nil
	})
	return out, count, err
}
