package engine

import (
	"testing"
	"time"
)

// A search whose Done channel is closed (the request's context ended)
// stops as a spent budget does: truncated, early.
func TestCandidatesDone(t *testing.T) {
	e := benchEngine(wideTree(2, 8, 8, 0))
	q := wideQuery(6, "none")
	full, err := e.Candidates(q, SearchOptions{MaxCandidates: 1000})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	close(done)
	start := time.Now()
	res, err := e.Candidates(q, SearchOptions{MaxCandidates: 1000, Done: done})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d candidates without Done, %d with Done closed (in %s)", len(full.Requests), len(res.Requests), time.Since(start))
	if !res.Truncated || len(res.Requests) >= len(full.Requests) {
		t.Errorf("with Done closed: %d candidates (truncated: %v), %d without", len(res.Requests), res.Truncated, len(full.Requests))
	}
}
