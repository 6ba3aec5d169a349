package placement

import (
	"context"
	"testing"
	"time"
)

// A group commit's context outlives any one claim's cancellation and ends
// at the last of their deadlines, or never when one claim has none.
func TestBatchContext(t *testing.T) {
	base := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name      string
		deadlines []time.Duration // -1: none
		want      time.Duration   // -1: no deadline
	}{
		{"one without", []time.Duration{-1}, -1},
		{"one with", []time.Duration{time.Minute}, time.Minute},
		{"the latest", []time.Duration{time.Minute, 3 * time.Minute, 2 * time.Minute}, 3 * time.Minute},
		{"one without among others", []time.Duration{time.Minute, -1}, -1},
	} {
		var claims []*queuedClaim
		var cancels []context.CancelFunc
		for _, d := range c.deadlines {
			ctx, cancel := context.WithCancel(context.Background())
			if d >= 0 {
				ctx, cancel = context.WithDeadline(context.Background(), base.Add(d))
			}
			claims = append(claims, &queuedClaim{ctx: ctx})
			cancels = append(cancels, cancel)
		}
		ctx, cancel := batchContext(claims)
		for _, cancel := range cancels {
			cancel()
		}
		if ctx.Err() != nil {
			t.Errorf("%s: the group's context ended with its claims': %v", c.name, ctx.Err())
		}
		d, ok := ctx.Deadline()
		if c.want < 0 && ok || c.want >= 0 && (!ok || !d.Equal(base.Add(c.want))) {
			t.Errorf("%s: deadline %v (%v), want %v after base", c.name, d, ok, c.want)
		}
		cancel()
	}
}
