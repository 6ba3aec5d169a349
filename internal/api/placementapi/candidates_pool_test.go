package placementapi

import (
	"slices"
	"testing"
)

// The response-buffer pool hands out the smallest free buffer that fits
// an estimate, keeps a buffer given back within its bounds (no buffer over
// maxPooledBuffer, at most count buffers and limit bytes), and makes room
// for a large buffer by dropping smaller ones, never the other way round.
func TestBufferPool(t *testing.T) {
	const kib = 1 << 10
	// Buffers of half and a quarter of the pool's bytes (half is at most
	// maxPooledBuffer): two halves fill it.
	const half, quarter = pooledBytes / 2, pooledBytes / 4
	if half > maxPooledBuffer {
		t.Fatalf("half the pool (%d bytes) is over maxPooledBuffer", half)
	}
	cases := []struct {
		name     string
		put      []int // capacities given back, in order
		estimate int   // then asked of get
		reused   int   // the capacity get hands out from the pool (0: a new buffer)
		left     []int // the capacities the pool holds afterwards
	}{
		{"empty pool", nil, 64 * kib, 0, nil},
		{"fits", []int{64 * kib}, 32 * kib, 64 * kib, nil},
		{"exact fit", []int{64 * kib}, 64 * kib, 64 * kib, nil},
		{"too small stays for smaller answers", []int{kib}, 64 * kib, 0, []int{kib}},
		{"smallest that fits", []int{256 * kib, 64 * kib, 128 * kib, kib}, 100 * kib, 128 * kib, []int{kib, 64 * kib, 256 * kib}},
		{"at the bound", []int{maxPooledBuffer}, maxPooledBuffer, maxPooledBuffer, nil},
		{"over the bound is not kept", []int{maxPooledBuffer + 1}, kib, 0, nil},
		{"huge is not kept", []int{64 << 20}, kib, 0, nil},
		{"estimate over the bound", []int{maxPooledBuffer}, maxPooledBuffer + 1, 0, []int{maxPooledBuffer}},
		{"bytes: a large buffer drops smaller ones", []int{quarter, quarter, half, half}, kib, half, []int{half}},
		{"bytes: a smaller buffer does not drop larger ones", []int{half, half, quarter}, kib, half, []int{half}},
		{"count: the smallest gives way", []int{kib, 2 * kib, 3 * kib, 4 * kib, 5 * kib, 6 * kib, 7 * kib, 8 * kib, 9 * kib}, 9 * kib, 9 * kib,
			[]int{2 * kib, 3 * kib, 4 * kib, 5 * kib, 6 * kib, 7 * kib, 8 * kib}},
		{"count: a smaller one is not kept when full", []int{2 * kib, 3 * kib, 4 * kib, 5 * kib, 6 * kib, 7 * kib, 8 * kib, 9 * kib, kib}, 64 * kib, 0,
			[]int{2 * kib, 3 * kib, 4 * kib, 5 * kib, 6 * kib, 7 * kib, 8 * kib, 9 * kib}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := bufferPool{limit: pooledBytes, count: pooledBuffers}
			given := map[*byte]bool{}
			for _, c := range tc.put {
				b := make([]byte, 10, c)
				given[&b[:1][0]] = true
				p.put(b)
				if p.held > p.limit || len(p.free) > p.count {
					t.Fatalf("the pool holds %d buffers, %d bytes", len(p.free), p.held)
				}
			}
			got := p.get(tc.estimate)
			if len(got) != 0 || cap(got) < tc.estimate {
				t.Errorf("len %d cap %d for an estimate of %d", len(got), cap(got), tc.estimate)
			}
			reused := 0
			if cap(got) > 0 && given[&got[:1][0]] {
				reused = cap(got)
			}
			if reused != tc.reused {
				t.Errorf("reused a buffer of %d bytes, want %d", reused, tc.reused)
			}
			var left []int
			held := 0
			for _, b := range p.free {
				left = append(left, cap(b))
				held += cap(b)
				if len(b) != 0 {
					t.Errorf("a pooled buffer has length %d", len(b))
				}
			}
			if !slices.Equal(left, tc.left) || held != p.held {
				t.Errorf("the pool holds %v (%d bytes counted), want %v", left, p.held, tc.left)
			}
		})
	}
}
