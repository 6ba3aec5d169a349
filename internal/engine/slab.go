package engine

// slab hands out small slices carved from large chunks, so that a search
// producing tens of thousands of partial solutions allocates a few chunks
// instead of tens of thousands of objects. Chunks are never grown in place,
// so slices handed out stay valid until reset.
type slab[T any] struct {
	buf   []T
	chunk int
	used  int // elements handed out since the last reset
}

func (s *slab[T]) take(n int) []T {
	if cap(s.buf)-len(s.buf) < n {
		// Chunks double from small to large: small answers stay cheap.
		s.chunk = min(max(2*s.chunk, 32), 1<<16)
		s.buf = make([]T, 0, max(s.chunk, n))
	}
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	s.used += n
	return s.buf[start : start+n : start+n]
}

// one returns a pointer to a fresh zero element.
func (s *slab[T]) one() *T { return &s.take(1)[0] }

// reset makes the slab reusable by a later search; every slice handed out
// must be dead. The next search gets one chunk as large as this one used.
func (s *slab[T]) reset() {
	var zero T
	if s.used > cap(s.buf) {
		s.buf = make([]T, 0, s.used)
	} else {
		for i := range s.buf {
			s.buf[i] = zero // drop references for the garbage collector
		}
		s.buf = s.buf[:0]
	}
	s.used = 0
}
