package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"allot/internal/model"
)

// sqliteError returns the driver's error for a real SQLite failure: setup
// runs on a fresh database, then stmt fails.
func sqliteError(t *testing.T, dsnParams string, setup []string, stmt string) error {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "e.db")+"?"+dsnParams)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range setup {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err = db.Exec(stmt)
	if err == nil {
		t.Fatalf("%s did not fail", stmt)
	}
	return fmt.Errorf("wrapped: %w", err)
}

func TestStorageFailureClassification(t *testing.T) {
	big := "INSERT INTO t SELECT randomblob(4000) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100) SELECT x FROM c)"
	for _, tc := range []struct {
		name    string
		err     func(t *testing.T) error
		sqlite  bool
		cause   error // nil: not a storage failure
		message string
		logs    []string
	}{
		{"SQLITE_FULL", func(t *testing.T) error {
			return sqliteError(t, "", []string{"CREATE TABLE t (b BLOB)", "PRAGMA max_page_count = 10"}, big)
		}, true, ErrDiskFull, "the store's disk is full", []string{"SQLITE_FULL", "free space"}},
		{"SQLITE_READONLY (query_only)", func(t *testing.T) error {
			return sqliteError(t, "", []string{"CREATE TABLE t (b BLOB)", "PRAGMA query_only = 1"}, "INSERT INTO t VALUES (1)")
		}, true, ErrReadOnly, "the store is read-only", []string{"SQLITE_READONLY", "writable"}},
		{"SQLITE_READONLY (mode=ro)", func(t *testing.T) error {
			path := filepath.Join(t.TempDir(), "ro.db")
			db, _ := sql.Open("sqlite", "file:"+path)
			db.Exec("CREATE TABLE t (b BLOB)")
			db.Close()
			ro, _ := sql.Open("sqlite", "file:"+path+"?mode=ro")
			defer ro.Close()
			_, err := ro.Exec("INSERT INTO t VALUES (1)")
			return err
		}, true, ErrReadOnly, "the store is read-only", []string{"SQLITE_READONLY"}},
		{"SQLite constraint", func(t *testing.T) error {
			return sqliteError(t, "", []string{"CREATE TABLE t (b BLOB NOT NULL)"}, "INSERT INTO t VALUES (NULL)")
		}, true, nil, "", nil},
		{"53100 disk_full", pgError("53100"), false, ErrDiskFull, "the store's disk is full", []string{"53100", "disk_full", "free space"}},
		{"53000 insufficient_resources", pgError("53000"), false, ErrDiskFull, "the store's disk is full", []string{"53000"}},
		{"25006 read_only_sql_transaction", pgError("25006"), false, ErrReadOnly, "the store is read-only", []string{"25006", "standby", "default_transaction_read_only"}},
		{"58030 io_error", pgError("58030"), false, ErrStorageIO, "cannot read or write", []string{"58030"}},
		{"23505 unique_violation", pgError("23505"), false, nil, "", nil},
		{"not a driver error", func(*testing.T) error { return errors.New("boom") }, false, nil, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{}
			if tc.sqlite {
				s.path = "/var/lib/allot/allot.db"
			}
			err := s.classify(tc.err(t))
			if tc.cause == nil {
				if model.IsKind(err, model.KindUnavailable) {
					t.Fatalf("classified as a storage failure: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.cause) || !model.IsKind(err, model.KindUnavailable) {
				t.Fatalf("got %v (kind %v), want KindUnavailable matching %v", err, model.KindOf(err), tc.cause)
			}
			e, _ := model.AsError(err)
			if !strings.Contains(e.Message, tc.message) || strings.Contains(e.Message, "/var/lib") {
				t.Errorf("client message %q: want %q and no file names", e.Message, tc.message)
			}
			if tc.sqlite {
				tc.logs = append(tc.logs, s.path)
			}
			for _, want := range tc.logs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("log text %q does not contain %q", err, want)
				}
			}
		})
	}
}

func pgError(code string) func(*testing.T) error {
	return func(*testing.T) error {
		return fmt.Errorf("commit: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "from the server"})
	}
}

func TestStorageFailureDiscardsTheConnection(t *testing.T) {
	// A connection that met SQLITE_READONLY is not reused: the pool opens
	// a new one, which sees the file as it is now.
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "d.db"), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Write(context.Background(), func(tx *Tx) error {
		if _, err := tx.exec(context.Background(), `PRAGMA query_only = 1`); err != nil {
			return err
		}
		_, err := tx.exec(context.Background(), `UPDATE meta SET revision = revision WHERE id = 1`)
		return err
	})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("got %v, want ErrReadOnly", err)
	}
	// query_only stays set on a connection: the next write succeeds only
	// on a new one.
	if err := s.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.exec(context.Background(), `UPDATE meta SET revision = revision WHERE id = 1`)
		return err
	}); err != nil {
		t.Fatalf("a write after the read-only connections were discarded: %v", err)
	}
}
