//go:build unix

package api

import (
	"math"
	"syscall"
)

// openFileLimit is RLIMIT_NOFILE's soft limit (which Go raises to the hard
// limit at start on Linux).
func openFileLimit() (int, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return int(min(uint64(rl.Cur), math.MaxInt32)), nil // RLIM_INFINITY is the largest uint64
}
