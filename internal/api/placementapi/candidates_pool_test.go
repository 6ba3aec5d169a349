package placementapi

import "testing"

// The response-buffer pool reuses buffers up to maxPooledBuffer and never
// keeps a larger one, so that what it holds across collections stays
// bounded (len(bufFree) * maxPooledBuffer).
func TestBufferPoolKeepsOnlyModestBuffers(t *testing.T) {
	drain := func() {
		for {
			select {
			case <-bufFree:
			default:
				return
			}
		}
	}
	cases := []struct {
		name     string
		capacity int
		estimate int // asked of getBuffer after putBuffer
		reused   bool
	}{
		{"small, fits", 64 << 10, 32 << 10, true},
		{"at the bound", maxPooledBuffer, maxPooledBuffer, true},
		{"over the bound", maxPooledBuffer + 1, 1024, false},
		{"huge", 64 << 20, 1024, false},
		{"too small for the estimate", 1024, 64 << 10, false},
		{"estimate over the bound", maxPooledBuffer, maxPooledBuffer + 1, false},
	}
	// A buffer too small for an answer leaves the pool, so that the pool
	// does not stay full of small answers' buffers that keep the large
	// ones' out.
	t.Run("small buffers give way to large ones", func(t *testing.T) {
		drain()
		defer drain()
		for i := 0; i < cap(bufFree); i++ {
			putBuffer(make([]byte, 0, 1024))
		}
		for i := 0; i < cap(bufFree); i++ {
			putBuffer(getBuffer(1 << 20))
		}
		for len(bufFree) > 0 {
			if b := <-bufFree; cap(b) < 1<<20 {
				t.Errorf("the pool still holds a buffer of %d bytes", cap(b))
			}
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			drain()
			defer drain()
			b := make([]byte, 10, tc.capacity)
			putBuffer(b)
			got := getBuffer(tc.estimate)
			if reused := cap(got) == tc.capacity && &got[:1][0] == &b[0]; reused != tc.reused {
				t.Errorf("reused = %v, want %v", reused, tc.reused)
			}
			if len(got) != 0 || cap(got) < tc.estimate {
				t.Errorf("len %d cap %d for an estimate of %d", len(got), cap(got), tc.estimate)
			}
			for len(bufFree) > 0 {
				if b := <-bufFree; cap(b) > maxPooledBuffer {
					t.Errorf("the pool keeps a buffer of %d bytes", cap(b))
				}
			}
		})
	}
}
