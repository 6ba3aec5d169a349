package placement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"allot/internal/engine"
	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/query"
	"allot/internal/store"
)

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Search bounds and orders allocation-candidate searches.
	Search engine.SearchOptions
	// Metrics counts searches, writes of allocations and catch-ups (nil:
	// not counted).
	Metrics *metrics.Metrics
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
	m          *metrics.Metrics
	// unfollow unregisters afterCommit from the store.
	unfollow func()
}

// New returns a Service over st with a fresh engine. Once its index is
// loaded (the first Sync), every write committed through st brings it up
// to date before the write returns (afterCommit): the writer pays for the
// catch-up, not the next query.
func New(st *store.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{store: st, engine: engine.New(), log: opts.Logger, search: opts.Search, m: opts.Metrics}
	s.unfollow = st.AfterCommit(s.afterCommit)
	return s
}

// Close stops the service from following the store's commits (its index
// is then caught up by queries only). The store stays open.
func (s *Service) Close() { s.unfollow() }

// afterCommit catches the index up after a write committed through the
// service's store, in the writer's goroutine (store.Store.AfterCommit):
// every write this process commits (the Placement and bare-metal
// services', the reshaper's, the catalogs', a group commit of claims)
// goes through it. An index not loaded yet is left to its first query. A failure is
// logged, not returned: the write is committed, and the next query
// catches up anyway.
func (s *Service) afterCommit(ctx context.Context, rev int64) {
	if s.engine.Revision() == 0 {
		return
	}
	if err := s.syncTo(ctx, rev); err != nil {
		s.log.Warn("catching the candidate index up after a write failed; the next query retries", "revision", rev, "error", err)
	}
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
	return s.syncTo(ctx, rev)
}

// syncTo brings the engine up to at least revision rev (to the store's
// latest, when it has to read): a caller that knows the revision it needs
// (a writer, of its own commit) asks the store for nothing when the index
// has it already.
func (s *Service) syncTo(ctx context.Context, rev int64) error {
	if rev <= s.engine.Revision() && s.engine.Revision() > 0 {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if rev <= s.engine.Revision() && s.engine.Revision() > 0 {
		return nil
	}
	start := time.Now()
	ch, err := s.store.ChangesSince(ctx, s.engine.Revision())
	if err != nil {
		return err
	}
	u := engine.Update{Revision: ch.Revision, Full: ch.Full, Providers: ch.States, Removed: ch.Removed}
	if ch.Global {
		u.Classes, u.Traits = ch.Classes, ch.Traits
	}
	s.engine.Apply(u)
	s.m.CatchUp(u.Full, time.Since(start))
	return nil
}

// IndexRevision is the store revision the candidate index reflects.
func (s *Service) IndexRevision() int64 { return s.engine.Revision() }

// IndexedProviders is the number of providers in the candidate index.
func (s *Service) IndexedProviders() int { return s.engine.Len() }

// EachInventoryCapacity calls yield for every inventory in the candidate
// index, for the per-provider capacity metrics: no store access, so a scrape costs writes nothing.
// The rows are copied out under the index's read lock and yielded after
// it, so that a slow scrape never holds up the index's updates (and the
// searches queued behind them).
func (s *Service) EachInventoryCapacity(yield func(metrics.Capacity)) {
	var rows []metrics.Capacity
	s.engine.EachInventory(func(p *model.Provider, inv *model.Inventory) {
		rows = append(rows, metrics.Capacity{Provider: p.Name, Class: inv.ResourceClass, Total: inv.Total,
			Reserved: inv.Reserved, Usage: inv.Used, AllocationRatio: inv.AllocationRatio})
	})
	for _, r := range rows {
		yield(r)
	}
}

// candidates runs one search of the index and counts it.
func (s *Service) candidates(q query.Candidates, opts engine.SearchOptions) (*engine.Result, error) {
	start := time.Now()
	res, err := s.engine.Candidates(q, opts)
	if err == nil {
		truncated := ""
		switch {
		case res.Capped:
			truncated = metrics.TruncatedCap
		case res.Truncated:
			truncated = metrics.TruncatedBudget
		}
		s.m.Search(time.Since(start), len(res.Requests), truncated)
	}
	return res, err
}

// counted counts a write of allocations by operation op and returns its
// error: a commit, or a 409 by kind (any other error is not counted here).
func (s *Service) counted(op string, err error) error {
	if err == nil {
		s.m.Wrote(op)
	} else if kind := conflictKind(err); kind != "" {
		s.m.Conflict(op, kind)
	}
	return err
}

// conflictKind names the kind of a 409 for the metrics, "" for an error
// that is not a 409.
func conflictKind(err error) string {
	e, ok := model.AsError(err)
	if !ok || e.Kind != model.KindConflict {
		return ""
	}
	var capacity capacityError
	switch {
	case e.Code == model.CodeConcurrentUpdate:
		return metrics.ConflictConcurrentUpdate
	case errors.As(err, &capacity):
		return metrics.ConflictCapacity
	case e.Code == CodeClaimNoFit:
		return metrics.ConflictNoFit
	}
	return metrics.ConflictOther
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
