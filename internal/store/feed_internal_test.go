package store

import (
	"testing"
	"time"
)

func TestRevisionMarkTrusts(t *testing.T) {
	now := time.Now().UnixNano()
	quiet := fileMark{size: 4096, mtime: now - int64(time.Second)}
	recent := fileMark{size: 4096, mtime: now - int64(time.Millisecond)}
	seen := func(files [2]fileMark) revisionMark {
		return revisionMark{valid: true, rev: 7, writes: 3, at: now, files: files}
	}
	cases := []struct {
		name string
		seen revisionMark
		cur  revisionMark
		want bool
	}{
		{"unchanged and quiet", seen([2]fileMark{{}, quiet}), revisionMark{writes: 3, files: [2]fileMark{{}, quiet}}, true},
		{"never answered", revisionMark{}, revisionMark{}, false},
		{"this process wrote", seen([2]fileMark{{}, quiet}), revisionMark{writes: 4, files: [2]fileMark{{}, quiet}}, false},
		{"log grew", seen([2]fileMark{{}, quiet}), revisionMark{writes: 3, files: [2]fileMark{{}, {size: 8192, mtime: quiet.mtime}}}, false},
		{"log appeared", seen([2]fileMark{quiet, {}}), revisionMark{writes: 3, files: [2]fileMark{{}, quiet}}, false},
		// Changed within a clock tick of the stat: a second write in that
		// tick could leave size and time as they are.
		{"changed just before the stat", seen([2]fileMark{{}, recent}), revisionMark{writes: 3, files: [2]fileMark{{}, recent}}, false},
	}
	for _, tc := range cases {
		if got := tc.seen.trusts(tc.cur); got != tc.want {
			t.Errorf("%s: trusts = %v, want %v", tc.name, got, tc.want)
		}
	}
}
