package engine

import "sync"

// resultArena is the memory a Result's requests and summaries are carved
// from. A caller done with a Result hands it back with Release, so that
// the next answer reuses it instead of allocating (and later collecting)
// a hundred kilobytes per query.
type resultArena struct {
	requests  []Request
	summaries []Summary
	amounts   slab[ClassAmount]
	pas       slab[ProviderAmounts]
	maps      slab[Mapping]
	uuids     slab[string]
}

var arenaPool = sync.Pool{New: func() any { return new(resultArena) }}

// requestsOf returns n zero requests.
func (a *resultArena) requestsOf(n int) []Request {
	if cap(a.requests) < n {
		a.requests = make([]Request, n)
	}
	a.requests = a.requests[:n]
	return a.requests
}

// summariesOf returns n zero summaries.
func (a *resultArena) summariesOf(n int) []Summary {
	if cap(a.summaries) < n {
		a.summaries = make([]Summary, n)
	}
	a.summaries = a.summaries[:n]
	return a.summaries
}

func (a *resultArena) reset() {
	clear(a.requests)
	a.requests = a.requests[:0]
	clear(a.summaries)
	a.summaries = a.summaries[:0]
	a.amounts.reset()
	a.pas.reset()
	a.maps.reset()
	a.uuids.reset()
}

// Release returns the memory of the result's requests and summaries for
// reuse by later searches. The result, and every slice read from it, must
// not be used afterwards. Calling it is optional (without it the garbage
// collector reclaims the memory) and a second call does nothing.
func (r *Result) Release() {
	a := r.arena
	r.arena, r.Requests, r.Summaries = nil, nil, nil
	if a == nil {
		return
	}
	a.reset()
	arenaPool.Put(a)
}
