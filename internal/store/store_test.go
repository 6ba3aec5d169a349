package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
	"allot/internal/store/storetest"
	"allot/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func openSQLite(t *testing.T) *store.Store {
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) *store.Store {
	s, err := store.Open(context.Background(), testpg.DSN(t), store.Options{})
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

// Processes starting together on one SQLite file (a server and an admin
// command, say, after an upgrade that adds a migration) must each find the
// schema complete: the one that waited for the write lock skips the
// migrations the other applied.
func TestConcurrentOpenSQLite(t *testing.T) {
	for round := 0; round < 5; round++ {
		openConcurrently(t, "sqlite:"+filepath.Join(t.TempDir(), "shared.db"), 4)
	}
}

// TestRevisionSeesAnotherProcess opens one SQLite file twice, as two
// processes would, and checks that each write of one is visible in the
// other's Revision at once: its cached revision must not survive writes it
// did not make, even writes in quick succession after SQLite restarted its
// write-ahead log (where the log's size stays the same).
func TestRevisionSeesAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *store.Store {
		s, err := store.Open(ctx, "sqlite:"+path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	reader, writer := open(), open()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for i := 0; i < 60; i++ {
		if i%20 == 10 {
			// Move the log into the database: the next write starts it over.
			if _, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`); err != nil {
				t.Fatal(err)
			}
		}
		before, err := reader.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: fmt.Sprintf("p%d", i)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		want, err := writer.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reader.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got <= before {
			t.Fatalf("write %d: the other store's Revision is %d (before the write %d), the writer's %d", i, got, before, want)
		}
	}
}
