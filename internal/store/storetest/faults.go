package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// ReadOnlyDB is one database that a test can make read-only and writable
// again, the way an operator's mistake and its fix would: for SQLite a
// read-only mount of the database file, for PostgreSQL
// default_transaction_read_only.
type ReadOnlyDB interface {
	// Open opens a store on the database (the same one at every call);
	// it is closed when the test ends.
	Open(t *testing.T) *store.Store
	// SetReadOnly makes the database read-only, or writable again. Stores
	// opened before may have to be closed first (SQLite: a file open for
	// writing cannot be made read-only).
	SetReadOnly(t *testing.T, readOnly bool)
}

// RunReadOnly checks a store opened on a read-only database: it starts
// (and serves reads), its writes fail as a KindUnavailable error that
// matches store.ErrReadOnly and says so, and once the database is writable
// again the same store writes without being reopened.
func RunReadOnly(t *testing.T, db ReadOnlyDB) {
	ctx := context.Background()
	s := db.Open(t)
	p := newProvider(t, s, "before", nil)
	s.Close()

	db.SetReadOnly(t, true)
	s = db.Open(t)
	read(t, s, func(tx *store.Tx) error {
		_, ok, err := tx.ProviderByUUID(ctx, p.UUID, false)
		if err == nil && !ok {
			err = fmt.Errorf("provider %s written before is not found on the read-only store", p.UUID)
		}
		return err
	})
	create := func(name string) error {
		return s.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: name})
			return err
		})
	}
	for i := 0; i < 2; i++ {
		err := create(fmt.Sprint("while-read-only-", i))
		if !errors.Is(err, store.ErrReadOnly) || !model.IsKind(err, model.KindUnavailable) {
			t.Fatalf("write %d on a read-only store: got %v (kind %v), want a KindUnavailable error matching store.ErrReadOnly", i, err, model.KindOf(err))
		}
		if e, _ := model.AsError(err); !strings.Contains(e.Message, "read-only") {
			t.Fatalf("the client's message %q does not say the store is read-only", e.Message)
		}
	}

	db.SetReadOnly(t, false)
	if err := create("after"); err != nil {
		t.Fatalf("the first write after the database became writable again failed (no restart should be needed): %v", err)
	}
	CheckIntegrity(t, s)
}

// CheckIntegrity fails the test when the store's database is damaged.
func CheckIntegrity(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.CheckIntegrity(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// RequireRoot skips a test that needs to mount file systems, unless it
// runs as root (as CI does).
func RequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPING: this test mounts a tmpfs or a read-only bind mount, which needs root (CI runs it as root)")
	}
}

// Mount runs mount(8) with args and fails the test when it fails.
func Mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Unmount unmounts dir lazily (its files may still be open).
func Unmount(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
		t.Errorf("umount %s: %v: %s", dir, err, out)
	}
}

// Tmpfs mounts a tmpfs of the given size (e.g. "4m") on a new temporary
// directory, unmounted when the test ends, and returns the directory.
func Tmpfs(t *testing.T, size string) string {
	t.Helper()
	RequireRoot(t)
	dir := t.TempDir()
	Mount(t, "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir)
	t.Cleanup(func() { Unmount(t, dir) })
	return dir
}

// FillDisk writes a file in dir until its file system is full and returns
// the function that deletes it.
func FillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for _, n := range []int{len(buf), 4 << 10, 512} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// SQLiteReadOnly is a ReadOnlyDB on an SQLite file that is made read-only
// with a read-only bind mount of the file onto itself: its directory stays
// writable, as when an operator's chmod or chown left the file read-only
// to allot (root bypasses file modes, a read-only mount it does not).
type SQLiteReadOnly struct {
	// Path is the database file.
	Path string
	// Options are given to store.Open.
	Options store.Options
	mounted bool
}

// Open implements ReadOnlyDB.
func (d *SQLiteReadOnly) Open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+d.Path, d.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// SetReadOnly implements ReadOnlyDB.
func (d *SQLiteReadOnly) SetReadOnly(t *testing.T, readOnly bool) {
	t.Helper()
	RequireRoot(t)
	if !d.mounted {
		Mount(t, "--bind", d.Path, d.Path)
		d.mounted = true
		t.Cleanup(func() { Unmount(t, d.Path) })
	}
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	Mount(t, "-o", "remount,bind,"+mode, d.Path)
}

// SetPostgresReadOnly makes the PostgreSQL database of dsn read-only for
// new sessions (default_transaction_read_only), as a standby or a managed
// database whose storage ran low would be, or writable again.
func SetPostgresReadOnly(t *testing.T, dsn string, readOnly bool) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var name string
	if _, err := conn.ExecContext(ctx, `SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE "%s" SET default_transaction_read_only = %t`, name, readOnly)); err != nil {
		t.Fatal(err)
	}
}
