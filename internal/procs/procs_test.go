package procs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock and recorded thread counts make the controller deterministic.
type harness struct {
	c   *Controller
	now time.Time
	set []int
}

func newHarness(max int, quiet time.Duration) *harness {
	h := &harness{now: time.Unix(1000, 0)}
	c := New(max, quiet)
	c.now = func() time.Time { return h.now }
	c.set = func(n int) { h.set = append(h.set, n) }
	c.lastOverlap.Store(h.now.UnixNano())
	h.c = c
	return h
}

func (h *harness) wait(d time.Duration) { h.now = h.now.Add(d) }

func TestController(t *testing.T) {
	const quiet = 2 * time.Second
	type step struct {
		do      string // enter, leave, tick, wait
		want    int    // threads asked for after the step
		wantSet int    // changes of the thread count so far
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"starts wide and narrows after a quiet period", []step{
			{"tick", 4, 0}, {"wait1s", 4, 0}, {"tick", 4, 0}, {"wait1s", 4, 0}, {"tick", 1, 1},
		}},
		{"one request at a time stays on one thread", []step{
			{"wait2s", 4, 0}, {"tick", 1, 1},
			{"enter", 1, 1}, {"leave", 1, 1}, {"enter", 1, 1}, {"leave", 1, 1}, {"tick", 1, 1},
		}},
		{"an overlap widens at once", []step{
			{"wait2s", 4, 0}, {"tick", 1, 1},
			{"enter", 1, 1}, {"enter", 4, 2}, {"enter", 4, 2},
		}},
		{"no narrowing while requests overlap, however long", []step{
			{"wait2s", 4, 0}, {"tick", 1, 1}, {"enter", 1, 1}, {"enter", 4, 2},
			{"wait2s", 4, 2}, {"tick", 4, 2}, {"wait2s", 4, 2}, {"tick", 4, 2},
		}},
		{"the quiet period counts from the last overlap", []step{
			{"wait2s", 4, 0}, {"tick", 1, 1}, {"enter", 1, 1}, {"enter", 4, 2},
			{"wait1s", 4, 2}, {"leave", 4, 2}, {"tick", 4, 2}, // one still in flight, overlap 1 s ago
			{"wait1s", 4, 2}, {"tick", 1, 3}, // 2 s after the overlap, one in flight: narrow
			{"leave", 1, 3}, {"tick", 1, 3},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(4, quiet)
			var told []int
			h.c.OnChange = func(n int) { told = append(told, n) }
			for i, s := range tc.steps {
				switch s.do {
				case "enter":
					h.c.Enter()
				case "leave":
					h.c.Leave()
				case "tick":
					h.c.Tick()
				case "wait1s":
					h.wait(time.Second)
				case "wait2s":
					h.wait(2 * time.Second)
				default:
					t.Fatalf("unknown step %q", s.do)
				}
				if got := h.c.Threads(); got != s.want {
					t.Fatalf("step %d (%s): %d threads, want %d", i, s.do, got, s.want)
				}
				if got := h.c.Changes(); got != int64(s.wantSet) || len(h.set) != s.wantSet {
					t.Fatalf("step %d (%s): %d changes (%v), want %d", i, s.do, got, h.set, s.wantSet)
				}
			}
			if len(told) != len(h.set) {
				t.Errorf("OnChange told %v, thread counts set %v", told, h.set)
			}
			for i, n := range h.set {
				if want := []int{1, 4}[i%2]; n != want {
					t.Errorf("thread counts set: %v, want alternating 1 and 4", h.set)
					break
				}
			}
		})
	}
}

// With one CPU there is nothing to adapt: Wrap is the handler itself and Run
// returns at once.
func TestControllerOneCPU(t *testing.T) {
	c := New(0, 0)
	if c.Max() != 1 || c.quiet != DefaultQuiet {
		t.Fatalf("New(0, 0): max %d quiet %v", c.Max(), c.quiet)
	}
	h := &plainHandler{}
	if w := c.Wrap(h); w != http.Handler(h) {
		t.Fatal("with one CPU Wrap added a layer")
	}
	done := make(chan struct{})
	go func() { c.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run with one CPU did not return")
	}
}

type plainHandler struct{}

func (*plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// Two requests in flight over real HTTP widen the controller; Run restores
// every thread when its context ends.
func TestWrapOverHTTP(t *testing.T) {
	h := newHarness(2, time.Hour)
	h.wait(2 * time.Hour)
	h.c.Tick()
	if h.c.Threads() != 1 {
		t.Fatalf("did not narrow: %d threads", h.c.Threads())
	}
	var arrived sync.WaitGroup
	arrived.Add(2)
	release := make(chan struct{})
	seen := make(chan int, 2)
	srv := httptest.NewServer(h.c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release
		seen <- h.c.Threads()
	})))
	defer srv.Close()
	var clients sync.WaitGroup
	for range 2 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	arrived.Wait()
	close(release)
	clients.Wait()
	for range 2 {
		if n := <-seen; n != 2 {
			t.Errorf("a request overlapping another ran with %d threads, want 2", n)
		}
	}
	if h.c.inflight.Load() != 0 {
		t.Errorf("%d requests still counted in flight", h.c.inflight.Load())
	}
	h.wait(2 * time.Hour)
	h.c.Tick()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.c.Run(ctx)
	if h.c.Threads() != 2 || h.set[len(h.set)-1] != 2 {
		t.Errorf("after Run: %d threads, set %v", h.c.Threads(), h.set)
	}
}

// A request that has started its response no longer counts: the next one
// of a client that already read the answer is not an overlap.
func TestWrapCountsUntilResponseStarts(t *testing.T) {
	h := newHarness(2, time.Hour)
	h.wait(2 * time.Hour)
	h.c.Tick()
	answered := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(h.c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-to-return" {
			w.Write([]byte("answer"))
			http.NewResponseController(w).Flush()
			close(answered)
			<-release // still in the handler, e.g. logging
		}
	})))
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/slow-to-return")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-answered
	resp, err := http.Get(srv.URL + "/next")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h.c.Threads() != 1 || h.c.Changes() != 1 {
		t.Errorf("a request after an answered one widened the controller: %d threads, %d changes", h.c.Threads(), h.c.Changes())
	}
	if h.c.inflight.Load() != 0 {
		t.Errorf("%d requests still counted in flight", h.c.inflight.Load())
	}
}

// A request that enters while the controller narrows, and so still sees it
// wide, is not left overlapping another on one thread.
func TestNarrowRacingEnter(t *testing.T) {
	h := newHarness(2, time.Second)
	h.wait(2 * time.Second)
	h.c.Enter() // one request in flight: narrowing is allowed
	// The second request counts itself and reads "wide" just as the
	// controller sets one thread: simulated by entering from inside set.
	entered := false
	h.c.set = func(n int) {
		h.set = append(h.set, n)
		if n == 1 && !entered {
			entered = true
			h.c.inflight.Add(1) // Enter's first step; it then sees wide and returns
		}
	}
	h.c.Tick()
	if h.c.Threads() != 2 || len(h.set) != 2 || h.set[0] != 1 || h.set[1] != 2 {
		t.Fatalf("after a narrowing raced by an entering request: %d threads, set %v", h.c.Threads(), h.set)
	}
}
