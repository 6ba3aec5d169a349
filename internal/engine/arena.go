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

// sized returns *buf resized to n zero elements, reallocated only when its
// capacity is short (a reset arena's buffers are zeroed).
func sized[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return *buf
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
