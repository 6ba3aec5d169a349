package store_test

import (
	"context"
	"path/filepath"
	"testing"

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
