package engine

import (
	"runtime"
	"testing"
)

// TestFreeListKeepsItemsAcrossCollections checks what a sync.Pool does not
// do: an item put back is there after garbage collections, and the list
// holds at most its capacity.
func TestFreeListKeepsItemsAcrossCollections(t *testing.T) {
	f := newFreeList[passMarks]()
	m := f.get()
	m.marks = make([]uint32, 100)
	f.put(m)
	runtime.GC()
	runtime.GC()
	if got := f.get(); got != m {
		t.Fatalf("after two collections the list gave a new item, not the one put back")
	}
	n := cap(f.items)
	for range n + 3 {
		f.put(new(passMarks))
	}
	if len(f.items) != n {
		t.Fatalf("the list holds %d items, want at most %d", len(f.items), n)
	}
}

// TestMarksHaveRoomForNewProviders checks that a pass over one more
// provider than the last does not reallocate the marks (providers are
// created one at a time, and every search would otherwise pay for it).
func TestMarksHaveRoomForNewProviders(t *testing.T) {
	sc := &scratch{passMarks: new(passMarks)}
	sc.newPass(1000)
	before := &sc.marks[0]
	sc.newPass(1001)
	if &sc.marks[0] != before {
		t.Fatalf("a pass over 1001 providers after one over 1000 reallocated the marks")
	}
}
