package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
	"allot/internal/store/storetest"
	"allot/internal/testpg"
)

func TestReadOnlySQLite(t *testing.T) {
	storetest.RequireRoot(t)
	storetest.RunReadOnly(t, &storetest.SQLiteReadOnly{Path: filepath.Join(t.TempDir(), "ro.db")})
}

func TestReadOnlyPostgres(t *testing.T) {
	storetest.RunReadOnly(t, &postgresReadOnly{dsn: testpg.DSN(t)})
}

// postgresReadOnly makes a PostgreSQL database read-only for new sessions
// with default_transaction_read_only, as a standby or a managed database
// whose storage ran low would be.
type postgresReadOnly struct{ dsn string }

func (d *postgresReadOnly) Open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), d.dsn, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (d *postgresReadOnly) SetReadOnly(t *testing.T, readOnly bool) {
	storetest.SetPostgresReadOnly(t, d.dsn, readOnly)
}

// logBuffer is a logger whose output a test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestDiskFullSQLite fills the file system of a running store: writes fail
// with a 503-kind error naming the cause, reads keep working, the log says
// once that writes fail and once that they succeed again, the database is
// not damaged, and the first write after space is freed succeeds on the
// same store.
func TestDiskFullSQLite(t *testing.T) {
	dir := storetest.Tmpfs(t, "4m")
	ctx := context.Background()
	logs := &logBuffer{}
	path := filepath.Join(dir, "full.db")
	s, err := store.Open(ctx, "sqlite:"+path, store.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	create := func(name string) error {
		return s.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: name + strings.Repeat("x", 150)})
			return err
		})
	}
	if err := create("before"); err != nil {
		t.Fatal(err)
	}
	free := storetest.FillDisk(t, dir)
	for i := 0; i < 3; i++ {
		err := create(fmt.Sprint("full-", i))
		if !errors.Is(err, store.ErrDiskFull) || !model.IsKind(err, model.KindUnavailable) {
			t.Fatalf("write %d on a full disk: got %v (kind %v), want a KindUnavailable error matching store.ErrDiskFull", i, err, model.KindOf(err))
		}
		e, _ := model.AsError(err)
		if !strings.Contains(e.Message, "disk is full") || strings.Contains(e.Message, dir) {
			t.Fatalf("the client's message %q should say the disk is full without naming the server's files", e.Message)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "SQLITE_FULL") {
			t.Fatalf("the error for the log %q does not name the file and SQLITE_FULL", err)
		}
	}
	if err := s.Read(ctx, func(tx *store.Tx) error { _, err := tx.AllProviders(ctx); return err }); err != nil {
		t.Fatalf("a read while the disk is full: %v", err)
	}
	free()
	if err := create("after"); err != nil {
		t.Fatalf("the first write after space was freed: %v", err)
	}
	storetest.CheckIntegrity(t, s)
	out := logs.String()
	if n := strings.Count(out, "store writes are failing: disk full"); n != 1 {
		t.Errorf("the log says %d times that writes fail for a full disk, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "store writes succeed again") {
		t.Errorf("the log does not say that writes succeed again:\n%s", out)
	}
}

// TestReadOnlyFileSystemAtStartSQLite starts on a read-only file system:
// with no -wal and -shm files (the last process stopped cleanly) SQLite
// cannot even read a WAL database there, and the error says why.
func TestReadOnlyFileSystemAtStartSQLite(t *testing.T) {
	dir := storetest.Tmpfs(t, "4m")
	path := filepath.Join(dir, "ro.db")
	s, err := store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	storetest.Mount(t, "-o", "remount,ro", dir)
	_, err = store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err == nil || !model.IsKind(err, model.KindUnavailable) || !strings.Contains(err.Error(), "read-only file system") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open on a read-only file system: got %v, want an error naming %s and the read-only file system", err, dir)
	}
	storetest.Mount(t, "-o", "remount,rw", dir)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestSynchronousOption(t *testing.T) {
	for _, tc := range []struct {
		opt  string
		want string
	}{
		{"", "full"}, {"full", "full"}, {"FULL", "full"}, {"normal", "normal"}, {"off", "error"}, {"extra", "error"},
	} {
		t.Run(tc.opt, func(t *testing.T) {
			s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"),
				store.Options{SQLiteSynchronous: tc.opt, Logger: slog.New(slog.DiscardHandler)})
			if tc.want == "error" {
				if !model.IsKind(err, model.KindBadRequest) || !strings.Contains(err.Error(), "full") {
					t.Fatalf("Open with synchronous %q: got %v, want a bad-request error naming the choices", tc.opt, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Synchronous(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("synchronous = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDiskFullPostgres puts a test database in a tablespace on a 32 MiB
// tmpfs (needs root and the throwaway cluster on this machine) and fills
// it: writes fail with 53100 disk_full as a 503-kind error, reads keep
// working, and the first write after space is freed succeeds.
func TestDiskFullPostgres(t *testing.T) {
	if os.Getenv("ALLOT_TEST_POSTGRES") != "" {
		t.Skip("SKIPPING: needs the throwaway cluster on this machine for a tablespace on a local tmpfs; ALLOT_TEST_POSTGRES names another server")
	}
	storetest.RequireRoot(t)
	dsn := testpg.DSN(t)
	// Not under t.TempDir(), whose parent only root may enter.
	dir, err := os.MkdirTemp("", "allot-pgfull-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	// 32 MiB: an empty PostgreSQL database takes about 8.
	storetest.Mount(t, "-t", "tmpfs", "-o", "size=32m", "tmpfs", dir)
	t.Cleanup(func() { storetest.Unmount(t, dir) })
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("SKIPPING: no postgres user to own the tablespace: %v", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	space := dbName + "_full"
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLESPACE %s LOCATION '%s'`, space, dir),
		fmt.Sprintf(`ALTER DATABASE %s SET TABLESPACE %s`, dbName, space),
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err := store.Open(context.Background(), dsn, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + dbName + ` WITH (FORCE)`)
		if _, err := admin.Exec(`DROP TABLESPACE ` + space); err != nil {
			t.Errorf("drop the tablespace: %v", err)
		}
	})
	ctx := context.Background()
	create := func(name string) error {
		return s.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: name + strings.Repeat("x", 180)})
			return err
		})
	}
	if err := create("before"); err != nil {
		t.Fatal(err)
	}
	free := storetest.FillDisk(t, dir)
	// Writes first fill the free space left in the tables' pages; the
	// first one that needs a new page fails.
	var werr error
	for i := 0; i < 5000 && werr == nil; i++ {
		werr = create(fmt.Sprint("full-", i))
	}
	if !errors.Is(werr, store.ErrDiskFull) || !model.IsKind(werr, model.KindUnavailable) || !strings.Contains(werr.Error(), "53100") {
		t.Fatalf("writes on a full tablespace: got %v (kind %v), want a KindUnavailable error matching store.ErrDiskFull with SQLSTATE 53100", werr, model.KindOf(werr))
	}
	if err := s.Read(ctx, func(tx *store.Tx) error { _, err := tx.AllProviders(ctx); return err }); err != nil {
		t.Fatalf("a read while the disk is full: %v", err)
	}
	free()
	if err := create("after"); err != nil {
		t.Fatalf("the first write after space was freed: %v", err)
	}
}
