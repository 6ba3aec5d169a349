package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
	"allot/internal/testpg"
)

// addProvider writes one provider and returns its uuid.
func addProvider(t *testing.T, s *store.Store, name string) string {
	t.Helper()
	id := uuid.NewString()
	err := s.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.CreateProvider(context.Background(), model.Provider{UUID: id, Name: name})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// hasProvider reports whether the store holds provider id.
func hasProvider(t *testing.T, s *store.Store, id string) bool {
	t.Helper()
	var ok bool
	err := s.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		_, ok, err = tx.ProviderByUUID(context.Background(), id, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestOpenReadOnlyBesideTheServer: a store that a Store holds (as allot
// serve holds it) opens read-only beside it on both backends, sees its
// commits, and writes nothing.
func TestOpenReadOnlyBesideTheServer(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "served.db")
			if backend == "postgres" {
				dsn = testpg.DSN(t)
			}
			served, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer served.Close()
			id := addProvider(t, served, "before")
			ro, err := store.OpenReadOnly(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatalf("read-only open beside the serving store: %v", err)
			}
			defer ro.Close()
			if !hasProvider(t, ro, id) {
				t.Fatal("the read-only store does not see a committed provider")
			}
			later := addProvider(t, served, "after")
			if !hasProvider(t, ro, later) {
				t.Fatal("the read-only store does not see a provider committed after it opened")
			}
			if err := ro.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: "x"})
				return err
			}); err == nil {
				t.Fatal("a write through the read-only store succeeded")
			}
		})
	}
}

// TestOpenReadOnlyRefuses: a missing file (not created), a file that is
// not an allot store and a store of a newer allot are refused as bad
// requests that say so.
func TestOpenReadOnlyRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE x (a INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	newer := filepath.Join(dir, "newer.db")
	s, err := store.Open(ctx, "sqlite:"+newer, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err = sql.Open("sqlite", "file:"+newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct{ path, want string }{
		{missing, "no allot store at"},
		{other, "is not an allot store"},
		{newer, "migrated by a newer allot"},
	} {
		_, err := store.OpenReadOnly(ctx, "sqlite:"+tc.path, store.Options{})
		if !model.IsKind(err, model.KindBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenReadOnly(%s): %v, want a bad request saying %q", filepath.Base(tc.path), err, tc.want)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created the missing file: %v", err)
	}
}

// TestBackupAndRestore: a backup of a served SQLite store holds its
// commits; it never overwrites a file; a restore refuses a served store,
// replaces a stopped one whole (its old log included) and migrates an
// older backup forward; PostgreSQL is refused with what to use instead.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "served.db")
	served, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	kept := addProvider(t, served, "kept")
	ro, err := store.OpenReadOnly(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	backup := filepath.Join(dir, "backup.db")
	if err := ro.Backup(ctx, backup); err != nil {
		t.Fatalf("backup of a served store: %v", err)
	}
	if err := ro.Backup(ctx, backup); !model.IsKind(err, model.KindBadRequest) {
		t.Fatalf("a second backup to the same file: %v, want a bad request (never overwrite)", err)
	}
	if entries, _ := filepath.Glob(backup + ".tmp-*"); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	lost := addProvider(t, served, "after the backup")

	if _, err := store.Restore(ctx, backup, dsn, store.Options{}); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("restore over a served store: %v, want ErrInUse", err)
	}
	served.Close()
	res, err := store.Restore(ctx, backup, dsn, store.Options{})
	if err != nil {
		t.Fatalf("restore over the stopped store: %v", err)
	}
	if res.From != res.To {
		t.Errorf("restored from migration %d to %d, want the same", res.From, res.To)
	}
	back, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasProvider(t, back, kept) || hasProvider(t, back, lost) {
		t.Errorf("the restored store holds the provider written before the backup: %t, after it: %t; want true, false",
			hasProvider(t, back, kept), hasProvider(t, back, lost))
	}
	back.Close()

	// An older backup (one migration short) is migrated forward.
	old := filepath.Join(dir, "old.db")
	if err := func() error {
		s, err := store.OpenReadOnly(ctx, dsn, store.Options{})
		if err != nil {
			return err
		}
		defer s.Close()
		return s.Backup(ctx, old)
	}(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	var last int
	db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&last)
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = $1`, last); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE node_allocation_failures`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	target := "sqlite:" + filepath.Join(dir, "new.db")
	res, err = store.Restore(ctx, old, target, store.Options{})
	if err != nil || res.From != last-1 || res.To != last {
		t.Fatalf("restore of an older backup: %+v, %v; want from %d to %d", res, err, last-1, last)
	}
	if _, err := store.OpenReadOnly(ctx, target, store.Options{}); err != nil {
		t.Fatalf("the restored store is not at this allot's migration: %v", err)
	}

	if _, err := store.Restore(ctx, filepath.Join(dir, "none.db"), target, store.Options{}); !model.IsKind(err, model.KindBadRequest) {
		t.Errorf("restore of a missing backup: %v, want a bad request", err)
	}
	pg := testpg.DSN(t)
	if _, err := store.Restore(ctx, backup, pg, store.Options{}); !errors.Is(err, store.ErrBackupPostgres) {
		t.Errorf("restore into PostgreSQL: %v, want ErrBackupPostgres", err)
	}
	migrated, err := store.Open(ctx, pg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	migrated.Close()
	pgs, err := store.OpenReadOnly(ctx, pg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pgs.Close()
	if err := pgs.Backup(ctx, filepath.Join(dir, "pg.db")); !errors.Is(err, store.ErrBackupPostgres) {
		t.Errorf("backup of PostgreSQL: %v, want ErrBackupPostgres", err)
	}
}
