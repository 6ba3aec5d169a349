package engine

import "runtime"

// freeList recycles what a search needs in proportion to the cloud (its
// pass marks, a number per provider: 400 KB at 100,000 providers).
// Unlike a sync.Pool, which the garbage collector empties, it keeps what
// it holds: with a pool, the first search after a collection allocated
// and zeroed the marks again, a cost proportional to the cloud that came
// back after every write busy enough to start a collection. It holds at
// most one item per CPU, plus one; more are left to the collector. (What
// grows with an answer stays in sync.Pools, which hand it back to the
// collector when answers shrink.)
type freeList[T any] struct {
	items chan *T
}

func newFreeList[T any]() freeList[T] {
	return freeList[T]{items: make(chan *T, runtime.GOMAXPROCS(0)+1)}
}

// get returns a recycled item, or a new one.
func (f freeList[T]) get() *T {
	select {
	case x := <-f.items:
		return x
	default:
		return new(T)
	}
}

// put keeps x for a later get, unless the list is full.
func (f freeList[T]) put(x *T) {
	select {
	case f.items <- x:
	default:
	}
}
