//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile opens the SQLite database file at path (creating it empty, as
// SQLite would, when it does not exist) and takes an exclusive flock on it
// for the Store's life: a second Store on the same file, in another process
// or in this one, is refused with ErrInUse. flock locks are separate from
// the POSIX record locks SQLite takes on the same file, so they do not
// interfere; the sqlite3 shell and backup tools, which take no flock, can
// still read the file. A read-only file (or mount) is opened read-only: a
// flock needs no write access.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil && (errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EPERM)) {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open the SQLite database %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUse(path)
		}
		return nil, fmt.Errorf("lock the SQLite database %s: %w", path, err)
	}
	return f, nil
}
