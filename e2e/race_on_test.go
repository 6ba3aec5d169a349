//go:build race

package e2e

// raceEnabled reports whether the race detector is on: it slows the
// server several times, so the tests that time pages at scale seed less.
const raceEnabled = true
