package api

// stackReserve is how much stack growStack makes room for. A goroutine
// starts with a 2 KiB stack that the runtime doubles, copying it whole,
// each time a call needs more. net/http runs every connection on a new
// goroutine, and a request through parsing, the engine and net/http's
// response writing needs about 8 KiB: grown a step at a time, that is three
// copies of an ever deeper stack per request, about 10 µs of CPU, more than
// the search of a small query. Reserving it when the stack is still shallow
// costs one copy of a few frames.
const stackReserve = 12 << 10

// touch keeps growStack's buffer from being optimised away: the compiler
// cannot see through a call it may not inline, so the buffer must exist.
//
//go:noinline
func touch(b []byte) byte { return b[len(b)-1] }

// growStack makes the calling goroutine's stack large enough for a
// request, in one step: its frame alone needs stackReserve bytes, so the
// runtime grows the stack once to fit them (to 16 KiB when called from a
// shallow stack). Once grown, the call costs next to nothing.
//
//go:noinline
func growStack() {
	var buf [stackReserve]byte
	touch(buf[:])
}
