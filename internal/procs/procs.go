// Package procs sizes the number of threads that run Go code (GOMAXPROCS)
// to the request concurrency a server sees.
//
// A request served alone is fastest on one thread: with more, Go's
// scheduler hands a connection's goroutines (accept, serve, background
// read) between threads, and each hand-off wakes a sleeping CPU, which on a
// virtual machine costs 0.1-0.2 ms, as much as answering a small
// allocation-candidates query. Requests that overlap are fastest on every
// CPU. The Controller therefore runs on one thread while requests arrive
// one at a time, widens to all CPUs as soon as two overlap, and narrows
// again after a quiet period without overlap.
package procs

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQuiet is how long requests must stop overlapping before the
// Controller goes back to one thread.
const DefaultQuiet = 2 * time.Second

// Controller adapts GOMAXPROCS between 1 and Max. Its zero value is not
// usable; use New.
type Controller struct {
	// OnChange, when set before use, is called with the new thread count
	// after every change (e.g. to log it).
	OnChange func(threads int)

	max   int
	quiet time.Duration
	// set changes the thread count (runtime.GOMAXPROCS; replaced in tests).
	set func(int)
	now func() time.Time

	inflight    atomic.Int64
	wide        atomic.Bool
	lastOverlap atomic.Int64 // unix nanoseconds
	mu          sync.Mutex   // serialises changes of the thread count
	changes     atomic.Int64
}

// New returns a Controller that uses up to max threads (at least 1) and
// narrows to one after quiet without overlapping requests. It starts wide:
// a server is often busiest at start (clients reconnecting); the first
// quiet period narrows it.
func New(max int, quiet time.Duration) *Controller {
	if max < 1 {
		max = 1
	}
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	c := &Controller{max: max, quiet: quiet, set: func(n int) { runtime.GOMAXPROCS(n) }, now: time.Now}
	c.wide.Store(true)
	c.lastOverlap.Store(c.now().UnixNano())
	return c
}

// Max is the thread count used while requests overlap.
func (c *Controller) Max() int { return c.max }

// Threads is the thread count currently asked for.
func (c *Controller) Threads() int {
	if c.wide.Load() {
		return c.max
	}
	return 1
}

// Changes counts the changes of the thread count so far.
func (c *Controller) Changes() int64 { return c.changes.Load() }

// Wrap counts h's requests in flight. A request counts until it starts its
// response (WriteHeader or the first Write), not until the handler
// returns: once the answer is computed, what is left is sending it, and a
// client that has read it may send its next request before the handler
// has returned, which must not look like two requests computing at once.
func (c *Controller) Wrap(h http.Handler) http.Handler {
	if c.max == 1 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Enter()
		lw := &leavingWriter{ResponseWriter: w, c: c}
		defer lw.leave()
		h.ServeHTTP(lw, r)
	})
}

// leavingWriter calls Leave when the response starts.
type leavingWriter struct {
	http.ResponseWriter
	c    *Controller
	left bool
}

func (w *leavingWriter) leave() {
	if !w.left {
		w.left = true
		w.c.Leave()
	}
}

// WriteHeader implements http.ResponseWriter.
func (w *leavingWriter) WriteHeader(code int) {
	w.leave()
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *leavingWriter) Write(b []byte) (int, error) {
	w.leave()
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *leavingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Enter records a request starting; when another is in flight the
// Controller widens to Max threads before the request goes on.
func (c *Controller) Enter() {
	if c.inflight.Add(1) < 2 {
		return
	}
	c.lastOverlap.Store(c.now().UnixNano())
	if !c.wide.Load() {
		c.resize(true)
	}
}

// Leave records a request finishing.
func (c *Controller) Leave() { c.inflight.Add(-1) }

// Tick narrows to one thread when requests have not overlapped for the
// quiet period and at most one is in flight. Run calls it periodically.
func (c *Controller) Tick() {
	if !c.wide.Load() || c.inflight.Load() > 1 {
		return
	}
	if time.Duration(c.now().UnixNano()-c.lastOverlap.Load()) < c.quiet {
		return
	}
	c.resize(false)
}

// Run calls Tick every quarter of the quiet period until ctx ends, then
// restores Max threads.
func (c *Controller) Run(ctx context.Context) {
	if c.max == 1 {
		return
	}
	t := time.NewTicker(c.quiet / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.resize(true)
			return
		case <-t.C:
			c.Tick()
		}
	}
}

func (c *Controller) resize(wide bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wide.Load() == wide {
		return
	}
	if !wide && (c.inflight.Load() > 1 || time.Duration(c.now().UnixNano()-c.lastOverlap.Load()) < c.quiet) {
		return // requests overlapped again since Tick looked
	}
	c.apply(wide)
	if !wide && c.inflight.Load() > 1 {
		// A request entered while this narrowed and saw the old setting
		// (it counts itself before it looks): widen for it.
		c.apply(true)
	}
}

// apply sets the thread count; c.mu is held.
func (c *Controller) apply(wide bool) {
	if wide {
		c.set(c.max)
	} else {
		c.set(1)
	}
	c.wide.Store(wide)
	c.changes.Add(1)
	if c.OnChange != nil {
		c.OnChange(c.Threads())
	}
}
