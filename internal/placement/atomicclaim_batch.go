package placement

import (
	"context"
	"errors"
	"sync"
	"time"

	"allot/internal/model"
	"allot/internal/store"
)

// Group commit of single atomic claims. On SQLite every write transaction
// holds the one writer connection until its commit is on disk (one flush
// of the log per commit with the default --sqlite-synchronous full), so
// concurrent claims queue for the writer and the flush bounds their rate.
// Instead, a single claim's transaction joins a queue; one goroutine at a
// time takes what is queued (at most maxClaimBatch) and runs it in one
// store transaction, each claim in a savepoint of its own (store.Tx.Savepoint)
// in queue order, then commits once. A claim that is refused (nothing in
// its window fits, a consumer generation or idempotency key conflict, bad
// input) is undone alone and answered its refusal; the others commit. A
// database failure fails the transaction: the store retries it whole when
// the failure is transient, else every claim of the batch gets the error
// and nothing of the batch was written. Each claim is planned on what the
// claims before it in the batch wrote, exactly as if it had run in a
// transaction of its own after theirs.
//
// PostgreSQL runs write transactions side by side (claims on different
// providers do not wait for each other) and groups concurrent commits'
// log flushes by itself, so claims there keep a transaction each.

// maxClaimBatch bounds the claims of one group commit.
const maxClaimBatch = 32

// claimBatcher queues single claims for group commit. The zero value is
// ready.
type claimBatcher struct {
	mu      sync.Mutex
	queue   []*queuedClaim
	running bool
	// pending counts the claims queued or in a running group commit.
	pending int
}

// queuedClaim is one claim's transaction waiting for a group commit, and
// then its result.
type queuedClaim struct {
	ctx   context.Context
	req   ClaimRequest
	hash  string
	cands []claimCandidate
	wait  bool

	done     chan struct{}
	answer   ClaimAnswer
	replayed bool
	err      error
}

// groupsClaims says whether single claims commit in groups: on a store
// with one writer (SQLite).
func (s *Service) groupsClaims() bool { return s.store.Dialect() == "sqlite" }

// claim runs claimInTx for one single claim in the next group commit and
// returns its result. It waits for the group's commit even when ctx ends
// meanwhile (the claim may be written); the group's transaction ends at the
// last deadline of its claims (batchContext).
func (b *claimBatcher) claim(ctx context.Context, s *Service, req ClaimRequest, hash string, cands []claimCandidate, wait bool) (ClaimAnswer, bool, error) {
	q := &queuedClaim{ctx: ctx, req: req, hash: hash, cands: cands, wait: wait, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	b.pending++
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		go b.lead(s)
	}
	<-q.done
	b.mu.Lock()
	b.pending--
	b.mu.Unlock()
	return q.answer, q.replayed, q.err
}

// lead runs group commits until the queue is empty.
func (b *claimBatcher) lead(s *Service) {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), maxClaimBatch)
		batch := make([]*queuedClaim, n)
		copy(batch, b.queue)
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()
		s.commitClaims(batch)
	}
}

// commitClaims runs a batch of claims in one transaction (see the top of
// this file) and answers each.
func (s *Service) commitClaims(batch []*queuedClaim) {
	var live []*queuedClaim
	for _, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = err // abandoned while queued: not attempted
			close(q.done)
			continue
		}
		live = append(live, q)
	}
	if len(live) == 0 {
		return
	}
	// The transaction serves every claim of the batch: one client going
	// away must not undo the others'. It ends at the last of their
	// deadlines, when every one has one.
	ctx, cancel := batchContext(live)
	defer cancel()
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		for _, q := range live {
			q.answer, q.replayed, q.err = ClaimAnswer{}, false, nil
			err := tx.Savepoint(ctx, func() error {
				var err error
				q.answer, q.replayed, err = claimInTx(ctx, tx, q.req, q.hash, q.cands, q.wait)
				return err
			})
			if err != nil && !refusesClaim(err) {
				return err
			}
			q.err = err
		}
		return nil
	})
	for _, q := range live {
		if err != nil {
			q.answer, q.replayed, q.err = ClaimAnswer{}, false, err
		}
		close(q.done)
	}
}

// batchContext is the context of a group commit: not cancelled with any
// one claim's, and ending at the latest of their deadlines when each has
// one.
func batchContext(claims []*queuedClaim) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(claims[0].ctx)
	var last time.Time
	for _, q := range claims {
		d, ok := q.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(last) {
			last = d
		}
	}
	return context.WithDeadline(ctx, last)
}

// refusesClaim says whether an error of claimInTx is the claim's own
// refusal (nothing fits, a conflict, bad input), which fails that claim
// alone, rather than a failure of the database.
func refusesClaim(err error) bool {
	var nf *noFitError
	if errors.As(err, &nf) {
		return true
	}
	e, ok := model.AsError(err)
	return ok && e.Kind != model.KindUnavailable && e.Kind != model.KindInternal
}
