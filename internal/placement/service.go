package placement

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"allot/internal/engine"
	"allot/internal/model"
	"allot/internal/store"
)

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Search bounds and orders allocation-candidate searches.
	Search engine.SearchOptions
}

// Service implements the Placement operations over a store and an engine.
type Service struct {
	store  *store.Store
	engine *engine.Engine
	log    *slog.Logger
	search engine.SearchOptions
	syncMu sync.Mutex
	// claimBatch groups the commits of single atomic claims (atomicclaim_batch.go).
	claimBatch claimBatcher
}

// New returns a Service over st with a fresh engine.
func New(st *store.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{store: st, engine: engine.New(), log: opts.Logger, search: opts.Search}
}

// Store returns the service's store.
func (s *Service) Store() *store.Store { return s.store }

// Sync brings the engine up to the store's latest revision: afterwards it
// reflects every write committed before Sync was called.
func (s *Service) Sync(ctx context.Context) error {
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return err
	}
	if rev <= s.engine.Revision() && s.engine.Revision() > 0 {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if rev <= s.engine.Revision() && s.engine.Revision() > 0 {
		return nil
	}
	return s.store.Read(ctx, func(tx *store.Tx) error {
		cur, oldest, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		since := s.engine.Revision()
		u := engine.Update{Revision: cur}
		global := false
		if since == 0 || since < oldest {
			u.Full, global = true, true
			if u.Providers, err = tx.ProviderStates(ctx, nil); err != nil {
				return err
			}
		} else {
			ids, g, err := tx.ChangedProviders(ctx, since, cur)
			if err != nil {
				return err
			}
			global = g
			if u.Providers, err = tx.ProviderStates(ctx, ids); err != nil {
				return err
			}
			present := make(map[int64]bool, len(u.Providers))
			for _, p := range u.Providers {
				present[p.ID] = true
			}
			for _, id := range ids {
				if !present[id] {
					u.Removed = append(u.Removed, id)
				}
			}
		}
		if global {
			rcs, err := tx.ResourceClasses(ctx)
			if err != nil {
				return err
			}
			u.Classes = make([]string, len(rcs))
			for i, rc := range rcs {
				u.Classes[i] = rc.Name
			}
			ts, err := tx.Traits(ctx, model.TraitFilter{})
			if err != nil {
				return err
			}
			u.Traits = make([]string, len(ts))
			for i, t := range ts {
				u.Traits[i] = t.Name
			}
		}
		s.engine.Apply(u)
		return nil
	})
}

// errProviderNotFound is the 404 for an unknown provider uuid.
func errProviderNotFound(uuid string) error {
	return model.NotFound("No resource provider with uuid %s found", uuid)
}

// providerForRead returns the provider, or a 404, inside a read.
func providerForRead(ctx context.Context, tx *store.Tx, uuid string) (model.Provider, error) {
	p, ok, err := tx.ProviderByUUID(ctx, uuid, false)
	if err != nil {
		return p, fmt.Errorf("read provider %s: %w", uuid, err)
	}
	if !ok {
		return p, errProviderNotFound(uuid)
	}
	return p, nil
}

// readOfProvider reads something of one provider in one read transaction:
// the provider (a 404 when unknown) and what read returns for it.
func readOfProvider[T any](ctx context.Context, s *Service, uuid string, read func(*store.Tx, model.Provider) (T, error)) (p model.Provider, out T, err error) {
	err = s.store.Read(ctx, func(tx *store.Tx) error {
		if p, err = providerForRead(ctx, tx, uuid); err != nil {
			return err
		}
		out, err = read(tx, p)
		return err
	})
	return p, out, err
}

// providerForWrite locks and returns the provider, or a 404.
func providerForWrite(ctx context.Context, tx *store.Tx, uuid string) (model.Provider, error) {
	p, ok, err := tx.ProviderByUUID(ctx, uuid, true)
	if err != nil {
		return p, fmt.Errorf("lock provider %s: %w", uuid, err)
	}
	if !ok {
		return p, errProviderNotFound(uuid)
	}
	return p, nil
}

// providerForInput is providerForWrite for a write whose request input may
// be invalid: a write to an unknown provider is a 404 whatever its input,
// and otherwise invalid (why the caller could not parse the input, or nil)
// is the answer. Placement looks the provider up before it validates the
// body, and its tests check that order; this keeps it in one transaction.
func providerForInput(ctx context.Context, tx *store.Tx, uuid string, invalid error) (model.Provider, error) {
	p, err := providerForWrite(ctx, tx, uuid)
	if err != nil {
		return p, err
	}
	return p, invalid
}
