//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// writableHint says why SQLite may not be able to write the database at
// path (the file or its directory not writable by this process, a
// read-only file system), "" when both look writable.
func writableHint(path string) string {
	const wOK = 2
	for _, p := range []string{path, filepath.Dir(path)} {
		err := syscall.Access(p, wOK)
		switch {
		case err == nil, errors.Is(err, syscall.ENOENT):
			continue
		case errors.Is(err, syscall.EROFS):
			return fmt.Sprintf("%s is on a read-only file system", p)
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return fmt.Sprintf("%s is not writable by this process (uid %d)", p, os.Geteuid())
		default:
			return fmt.Sprintf("%s: %v", p, err)
		}
	}
	return ""
}
