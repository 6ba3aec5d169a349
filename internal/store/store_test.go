package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"allot/internal/store"
	"allot/internal/store/storetest"
	"allot/internal/testpg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.Stop()
	os.Exit(code)
}

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
	dsn := testpg.DSN(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := store.Open(context.Background(), dsn, store.Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Errorf("replica %d could not start: %v", i, err)
		}
	}
}

// Processes starting together on one SQLite file (a server and an admin
// command, say, after an upgrade that adds a migration) must each find the
// schema complete: the one that waited for the write lock skips the
// migrations the other applied.
func TestConcurrentOpenSQLite(t *testing.T) {
	for round := 0; round < 5; round++ {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() {
				s, err := store.Open(context.Background(), dsn, store.Options{})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: process %d could not start: %v", round, i, err)
			}
		}
	}
}
