//go:build !unix

package store

import (
	"fmt"
	"os"
)

// lockFile opens the SQLite database file at path and holds it open for
// the Store's life. Where flock is not available, a second process on the
// same file is not detected: serve one SQLite file with one process.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the SQLite database %s: %w", path, err)
	}
	return f, nil
}
