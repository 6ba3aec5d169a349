package store

import (
	"context"
	"slices"
	"sync"
)

// AfterCommit registers fn to run after every write transaction of this
// Store that recorded a change (Tx.Touch or Tx.TouchGlobal) commits, with
// the revision it committed: the one place where a process learns of its
// own writes, so that it can bring what it derives from the store up to
// date before the write returns to its caller. fn runs in the writing
// goroutine after the transaction ended and its connection went back to
// the pool (it may read the store), before Write returns; its ctx is the
// write's, without its cancellation (the write is committed whatever the
// caller does next). fn must not write to the store. Writes that other
// processes commit (other replicas on PostgreSQL) do not call it.
//
// The returned function unregisters fn.
func (s *Store) AfterCommit(fn func(ctx context.Context, rev int64)) (unregister func()) {
	return s.commits.add(fn)
}

// commitHooks are the functions AfterCommit registered, in the order
// they were.
type commitHooks struct {
	mu    sync.Mutex
	next  int
	hooks []commitHook
}

type commitHook struct {
	id int
	fn func(ctx context.Context, rev int64)
}

func (h *commitHooks) add(fn func(ctx context.Context, rev int64)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.hooks = append(h.hooks, commitHook{id: id, fn: fn})
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.hooks = slices.DeleteFunc(h.hooks, func(c commitHook) bool { return c.id == id })
	}
}

// run calls the registered functions in order, outside the lock (one may
// register or unregister).
func (h *commitHooks) run(ctx context.Context, rev int64) {
	h.mu.Lock()
	hooks := slices.Clone(h.hooks)
	h.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	for _, c := range hooks {
		c.fn(ctx, rev)
	}
}
