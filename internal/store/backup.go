package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"allot/internal/model"
)

// This file lets a second process read a store that allot serve holds
// (OpenReadOnly: allot db check), copy it while it serves (Backup: allot db
// backup) and replace a stopped SQLite store with such a copy (Restore).

// sqlitePath returns the file of a "sqlite:PATH" DSN, or "" for another
// kind of DSN.
func sqlitePath(dsn string) (string, error) {
	if !strings.HasPrefix(dsn, "sqlite:") {
		return "", nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	if path == "" {
		return "", model.BadRequest("the database %q names no file: use sqlite:PATH, e.g. sqlite:allot.db", dsn)
	}
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		return "", model.BadRequest("an in-memory SQLite database cannot be shared by a connection pool: use a file, e.g. sqlite:allot.db")
	}
	return path, nil
}

// OpenReadOnly opens the store named by dsn for reading only, beside the
// allot serve that may hold it: on SQLite it takes no lock (a reader of a
// WAL-mode file sees one committed snapshot per transaction and never
// blocks the writer) and does not create a missing file; it migrates
// nothing and refuses a store whose schema is not this allot's.
func OpenReadOnly(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{dsn: dsn, log: opts.Logger, retries: 3}
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	switch {
	case path != "":
		if _, err := os.Stat(path); err != nil {
			return nil, &model.Error{Kind: model.KindBadRequest, Message: "no allot store at " + path, Err: err}
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		db.SetMaxOpenConns(2)
		s.d, s.writer, s.reader, s.path = sqliteDialect{}, db, db, path
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// Every transaction of these sessions is read-only: PostgreSQL
		// itself refuses a write.
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err := sql.Open("pgx", dsn+sep+"default_transaction_read_only=on")
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(2)
		s.d, s.writer, s.reader = postgresDialect{}, db, db
	default:
		return nil, model.BadRequest("unsupported database %q: use sqlite:PATH or postgres://USER@HOST/DB", redact(dsn))
	}
	applied, latest, err := s.schemaVersion(ctx)
	if err == nil && applied != latest {
		err = fmt.Errorf("the store is at migration %d and this allot's schema is at %d: start allot serve on it once (it migrates the store), then retry", applied, latest)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// schemaVersion returns the store's last applied migration and the last
// one this allot knows; it fails when the database is not an allot store
// or was migrated by a newer allot.
func (s *Store) schemaVersion(ctx context.Context) (applied, latest int, err error) {
	ms, err := loadMigrations(s.d)
	if err != nil {
		return 0, 0, err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
		latest = max(latest, m.version)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		if cerr := s.classify(err); model.IsKind(cerr, model.KindUnavailable) {
			return 0, 0, cerr
		}
		return 0, 0, &model.Error{Kind: model.KindBadRequest, Message: fmt.Sprintf("%s is not an allot store (it has no schema_migrations table)", s.where()), Err: err}
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return 0, 0, fmt.Errorf("read schema_migrations: %w", err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	for i, v := range versions {
		if !known[v] {
			return 0, 0, model.BadRequest("%s was migrated by a newer allot (migration %d is unknown here; this allot knows up to %d): use that allot", s.where(), v, latest)
		}
		if v != i+1 {
			return 0, 0, model.BadRequest("%s is not an allot store at a known migration: its migrations are %v", s.where(), versions)
		}
	}
	if len(versions) == 0 {
		return 0, 0, model.BadRequest("%s is not an allot store: it records no migration", s.where())
	}
	return versions[len(versions)-1], latest, nil
}

// where names the store in messages: its file, or its redacted DSN.
func (s *Store) where() string {
	if s.path != "" {
		return s.path
	}
	return redact(s.dsn)
}

// ErrBackupPostgres is the error of Backup and Restore on PostgreSQL, whose
// own tools do it (docs/operations.md, "Backup and restore").
var ErrBackupPostgres = errors.New("allot backs up and restores SQLite stores only: for PostgreSQL use pg_dump and pg_restore (see docs/operations.md, \"Backup and restore\")")

// Backup writes a consistent copy of the SQLite store to the new file dest
// while allot serve may be writing it: SQLite's VACUUM INTO reads one
// snapshot (every commit made before it began, none after) and writes a
// compact database, to a temporary file in dest's directory that is synced
// and then renamed, so dest is either absent or complete. dest must not
// exist.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if s.path == "" {
		return ErrBackupPostgres
	}
	if _, err := os.Lstat(dest); err == nil {
		return model.BadRequest("%s already exists: name a new file (a backup never overwrites one)", dest)
	}
	if fi, err := os.Stat(filepath.Dir(dest)); err != nil || !fi.IsDir() {
		return model.BadRequest("%s is not a directory: name a file in an existing directory", filepath.Dir(dest))
	}
	// VACUUM INTO is refused on a query_only connection: use one of its
	// own, which reads the source and writes only dest.
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, err)
	}
	defer db.Close()
	return vacuumInto(ctx, db, dest)
}

// vacuumInto copies the database of db into the new file dest through a
// synced temporary file.
func vacuumInto(ctx context.Context, db *sql.DB, dest string) error {
	dir := filepath.Dir(dest)
	tmp, err := os.CreateTemp(dir, filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create a file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants a new file; the name stays ours
	defer os.Remove(tmpName)
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, tmpName); err != nil {
		return fmt.Errorf("copy the database into %s: %w", tmpName, err)
	}
	if err := syncFile(tmpName); err != nil {
		return err
	}
	if err := os.Link(tmpName, dest); err != nil {
		return fmt.Errorf("name the copy %s: %w", dest, err)
	}
	return syncFile(dir)
}

// syncFile flushes a file (or directory) to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// Restored says what Restore did.
type Restored struct {
	// From is the migration of the backup; To the migration of the store
	// it became (this allot's latest).
	From, To int
}

// Restore replaces the SQLite store of dsn with a copy of the backup file
// src, then migrates it forward when the backup is older than this allot.
// It refuses (ErrInUse) while an allot serve holds the store, and refuses
// a src that is not an intact allot store at a known migration. The store
// is replaced whole or not at all.
func Restore(ctx context.Context, src, dsn string, opts Options) (Restored, error) {
	var out Restored
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	path, err := sqlitePath(dsn)
	if err != nil {
		return out, err
	}
	if path == "" {
		if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
			return out, ErrBackupPostgres
		}
		return out, model.BadRequest("unsupported database %q: use sqlite:PATH", redact(dsn))
	}
	if same, _ := sameFile(src, path); same {
		return out, model.BadRequest("the backup %s is the store itself: name another file", src)
	}
	// The backup: an intact SQLite file of an allot at a migration this
	// allot knows.
	if _, err := os.Stat(src); err != nil {
		return out, &model.Error{Kind: model.KindBadRequest, Message: "no backup at " + src, Err: err}
	}
	sdb, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return out, fmt.Errorf("open the backup %s: %w", src, err)
	}
	defer sdb.Close()
	srcStore := &Store{d: sqliteDialect{}, reader: sdb, writer: sdb, path: src, log: opts.Logger}
	if err := srcStore.CheckIntegrity(ctx); err != nil {
		return out, &model.Error{Kind: model.KindBadRequest, Message: fmt.Sprintf("the backup %s is not an intact SQLite database (name a file made by allot db backup)", src), Err: err}
	}
	if out.From, out.To, err = srcStore.schemaVersion(ctx); err != nil {
		return out, err
	}
	// The store: locked as allot serve locks it, so that none runs on it
	// meanwhile.
	lock, err := lockFile(path)
	if err != nil {
		return out, err
	}
	err = func() error {
		defer lock.Close()
		tmp := path + ".restoring"
		os.Remove(tmp)
		if err := vacuumInto(ctx, sdb, tmp); err != nil {
			return err
		}
		defer os.Remove(tmp)
		// The old store's log must go with it: SQLite would replay it
		// into the new file.
		for _, f := range []string{path + "-wal", path + "-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove the old store's %s: %w", f, err)
			}
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("replace %s: %w", path, err)
		}
		return syncFile(filepath.Dir(path))
	}()
	if err != nil {
		return out, err
	}
	// Migrate forward (and check it opens) as allot serve would.
	st, err := Open(ctx, "sqlite:"+path, opts)
	if err != nil {
		return out, fmt.Errorf("open the restored store: %w", err)
	}
	return out, st.Close()
}

// sameFile reports whether two paths name one existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
