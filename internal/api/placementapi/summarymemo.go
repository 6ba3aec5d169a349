package placementapi

import "sync/atomic"

// memoFormats is the number of summary formats a memo entry keeps: with
// and without tree uuids (1.29), for answers listing all of a provider's
// classes and its traits (1.27). Formats listing only the requested
// classes depend on the query and are rendered every time.
const memoFormats = 2

// memoSlots is the number of summaries the memo keeps (a power of two):
// an answer at the default cap of 10,000 candidates names fewer providers.
// The table itself is 8 bytes a slot.
const memoSlots = 1 << 16

// summaryMemo keeps rendered provider summaries between answers: most of
// a large answer is summaries of providers that did not change since the
// last one. It is keyed by engine.Summary.Version, which is new after
// every change of a provider and never reused in the process, so a
// fragment is served only for the content it was rendered from; a
// changed provider simply misses.
//
// It is a direct-mapped table of memoSlots entries (a version's slot is
// its low bits): bounded whatever the churn, as an entry is replaced when
// another version lands in its slot, and lock-free, as a lookup is one
// atomic load. Safe for concurrent use.
type summaryMemo struct {
	slots []atomic.Pointer[memoEntry]
}

// memoEntry holds the renderings of one summary version, one per format
// (nil: not rendered yet). It is immutable once published: put replaces
// it with a copy.
type memoEntry struct {
	version uint64
	frags   [memoFormats][]byte
}

func newSummaryMemo() *summaryMemo {
	return &summaryMemo{slots: make([]atomic.Pointer[memoEntry], memoSlots)}
}

// get returns the rendering of version in format, or nil. A nil memo or
// version 0 (an unversioned summary) keeps nothing.
func (m *summaryMemo) get(version uint64, format int) []byte {
	if m == nil || version == 0 {
		return nil
	}
	if e := m.slots[version&(memoSlots-1)].Load(); e != nil && e.version == version {
		return e.frags[format]
	}
	return nil
}

// put keeps frag as the rendering of version in format; frag must not be
// modified afterwards. It keeps the entry's other format when the slot
// holds this version, and gives up if another put changes the slot
// meanwhile (the memo is a cache: a lost put costs a rendering).
func (m *summaryMemo) put(version uint64, format int, frag []byte) {
	if m == nil || version == 0 {
		return
	}
	slot := &m.slots[version&(memoSlots-1)]
	old := slot.Load()
	e := &memoEntry{version: version}
	if old != nil && old.version == version {
		e.frags = old.frags
	}
	e.frags[format] = frag
	slot.CompareAndSwap(old, e)
}
