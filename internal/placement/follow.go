package placement

import (
	"context"
	"time"
)

// Follow keeps the index current with the writes other processes commit
// (the other replicas of a PostgreSQL store), until ctx ends: every
// interval it catches up (Sync), so that queries rarely find writes to
// read first. Nothing changed costs one read of the revision. The
// service's own writes need no following (they catch it up as they
// commit: New), nor does a SQLite store, which only this process writes.
//
// Queries keep catching up themselves: one that arrives between another
// replica's commit and the next tick reads that write first (a client
// that wrote on one replica and queries another sees its write). A failed
// catch-up (a lost connection) is logged once, retried at every tick
// through the store's pool, which reconnects, and its recovery logged.
func (s *Service) Follow(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Sync(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			s.log.Warn("following the store's writes failed; retrying at every interval (queries still catch up themselves)", "interval", interval, "error", err)
		case err == nil && failing:
			failing = false
			s.log.Info("following the store's writes again", "revision", s.engine.Revision())
		}
	}
}
