//go:build !race

package placementapi_test

// raceEnabled reports whether the race detector is on (it slows CPU-bound
// work several times, which CPU budgets allow for).
const raceEnabled = false
