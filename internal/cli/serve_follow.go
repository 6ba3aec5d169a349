package cli

import (
	"context"
	"fmt"
	"time"

	"allot/internal/placement"
)

// follow runs svc.Follow in the background until the returned function is
// called (or ctx ends); that function waits for it to return, so that the
// store can then be closed under no catch-up.
func follow(ctx context.Context, svc *placement.Service, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Follow(ctx, interval)
	}()
	return func() {
		cancel()
		<-done
	}
}

// minFollowInterval bounds --follow-interval from below: each tick is a
// read of the PostgreSQL store.
const minFollowInterval = 10 * time.Millisecond

// checkFollowInterval accepts 0 (no following) or at least
// minFollowInterval.
func checkFollowInterval(d time.Duration) error {
	if d != 0 && d < minFollowInterval {
		return fmt.Errorf("--follow-interval %s: use 0 (catch up only when queried) or at least %s (each tick reads the store)", d, minFollowInterval)
	}
	return nil
}
