//go:build !unix

package api

import "math"

// openFileLimit: systems without RLIMIT_NOFILE (Windows) have no small
// per-process descriptor limit; the cap is then MaxConnectionsCeiling.
func openFileLimit() (int, error) { return math.MaxInt32, nil }
