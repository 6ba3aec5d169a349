package store_test

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
	"allot/internal/store/storetest"
	"allot/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func openSQLite(t *testing.T, opts store.Options) *store.Store {
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, opts store.Options) *store.Store {
	s, err := store.Open(context.Background(), testpg.DSN(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContractSQLite(t *testing.T)   { storetest.Run(t, openSQLite) }
func TestContractPostgres(t *testing.T) { storetest.Run(t, openPostgres) }

func TestOpenTwiceMigratesOnce(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "twice.db")
	for i := 0; i < 2; i++ {
		s, err := store.Open(context.Background(), path, store.Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

func TestOpenRejectsBadDSN(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "sqlite:", "sqlite::memory:"} {
		if _, err := store.Open(context.Background(), dsn, store.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestConcurrentOpenPostgres(t *testing.T) {
	openConcurrently(t, testpg.DSN(t), 4)
}

// openConcurrently opens n stores on one database at once, as n replicas
// or processes starting together would, and fails if any cannot start.
func openConcurrently(t *testing.T, dsn string, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			s, err := store.Open(context.Background(), dsn, store.Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("process %d of %d could not start: %v", i+1, n, err)
		}
	}
}

// Stores opening one SQLite file at once (two allot serve started
// together, say): one serves it, every other is refused with ErrInUse,
// none fails otherwise, and the file is complete for the next Store.
func TestConcurrentOpenSQLite(t *testing.T) {
	for round := 0; round < 5; round++ {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
		const n = 4
		type result struct {
			s   *store.Store
			err error
		}
		results := make(chan result, n)
		for i := 0; i < n; i++ {
			go func() {
				s, err := store.Open(context.Background(), dsn, store.Options{})
				results <- result{s, err}
			}()
		}
		opened := 0
		for i := 0; i < n; i++ {
			r := <-results
			switch {
			case r.err == nil:
				opened++
				defer r.s.Close()
			case !errors.Is(r.err, store.ErrInUse):
				t.Fatalf("a store could not start: %v", r.err)
			}
		}
		if opened == 0 {
			t.Fatal("every store was refused")
		}
	}
}

// One SQLite file is served by one Store: a second, in this process or in
// another, is refused at Open with a message that names the file and says
// that replicas need PostgreSQL; once the first is closed, the file opens
// again.
func TestSQLiteServedByOneStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "one.db")
	first, err := store.Open(ctx, "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	refused := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("a second store opened the file")
		}
		for _, want := range []string{path, "is already open in another allot process", "one SQLite file is served by one allot serve", "PostgreSQL"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	}
	t.Run("this process", func(t *testing.T) {
		_, err := store.Open(ctx, "sqlite:"+path, store.Options{})
		refused(t, err)
		if !errors.Is(err, store.ErrInUse) {
			t.Errorf("error %v is not ErrInUse", err)
		}
	})
	t.Run("another process", func(t *testing.T) {
		out, err := openInChild(path)
		if err == nil {
			t.Fatalf("the other process opened the file: %s", out)
		}
		refused(t, errors.New(out))
	})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	t.Run("after Close", func(t *testing.T) {
		if out, err := openInChild(path); err != nil {
			t.Fatalf("the other process could not open the file once it was free: %v: %s", err, out)
		}
		s, err := store.Open(ctx, "sqlite:"+path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
}

// openInChild opens the SQLite file at path in another process (this test
// binary, running TestOpenInChildProcess) and returns what it printed.
func openInChild(path string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenInChildProcess$")
	cmd.Env = append(os.Environ(), "ALLOT_STORE_TEST_OPEN="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOpenInChildProcess is openInChild's other process: it opens the
// store named by ALLOT_STORE_TEST_OPEN, prints the error and exits 1 when
// that fails. Without the variable it does nothing.
func TestOpenInChildProcess(t *testing.T) {
	path := os.Getenv("ALLOT_STORE_TEST_OPEN")
	if path == "" {
		return
	}
	s, err := store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	s.Close()
	os.Exit(0)
}

// Revision is the latest committed revision, after every kind of write,
// on both stores: on SQLite from the Store's memory (checked against the
// database file), on PostgreSQL also in a second store on the same
// database, as another replica reads it.
func TestRevisionFollowsCommits(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var writer, other *store.Store
			var stored func() int64
			if backend == "sqlite" {
				path := filepath.Join(t.TempDir(), "rev.db")
				writer = openDSN(t, "sqlite:"+path)
				raw, err := sql.Open("sqlite", "file:"+path)
				if err != nil {
					t.Fatal(err)
				}
				defer raw.Close()
				stored = func() int64 {
					var rev int64
					if err := raw.QueryRowContext(ctx, `SELECT revision FROM meta WHERE id = 1`).Scan(&rev); err != nil {
						t.Fatal(err)
					}
					return rev
				}
			} else {
				dsn := testpg.DSN(t)
				writer, other = openDSN(t, dsn), openDSN(t, dsn)
				stored = func() int64 {
					rev, err := other.Revision(ctx)
					if err != nil {
						t.Fatal(err)
					}
					return rev
				}
			}
			check := func(when string, changed bool, before int64) int64 {
				t.Helper()
				got, err := writer.Revision(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := stored(); got != want {
					t.Fatalf("%s: Revision %d, the database's %d", when, got, want)
				}
				if changed && got <= before || !changed && got != before {
					t.Fatalf("%s: Revision %d after %d (changed: %v)", when, got, before, changed)
				}
				return got
			}
			rev := check("at open", true, 0)
			for i := 0; i < 20; i++ {
				if err := writer.Write(ctx, func(tx *store.Tx) error {
					_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: fmt.Sprintf("p%d", i)})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				rev = check(fmt.Sprintf("write %d", i), true, rev)
			}
			if err := writer.Write(ctx, func(tx *store.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			rev = check("a write that changed nothing", false, rev)
			failed := errors.New("refused")
			if err := writer.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: "rolled back"}); err != nil {
					return err
				}
				return failed
			}); !errors.Is(err, failed) {
				t.Fatalf("rolled-back write: %v", err)
			}
			check("a rolled-back write", false, rev)
		})
	}
}

func openDSN(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
