package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"allot/internal/model"
)

// The storage failures a store classifies. A classified error matches one
// of them with errors.Is; it is a model.KindUnavailable error (503 to API
// clients) whose message says what the operator has to do.
var (
	// ErrDiskFull: the file system of the database (SQLite), or the
	// PostgreSQL server, ran out of space or resources.
	ErrDiskFull = errors.New("disk full")
	// ErrReadOnly: the database accepts reads but no writes (an SQLite
	// file or directory that is not writable, a read-only mount, a
	// PostgreSQL hot standby or default_transaction_read_only).
	ErrReadOnly = errors.New("read-only")
	// ErrStorageIO: the database file could not be read or written, or
	// could not be opened.
	ErrStorageIO = errors.New("storage I/O error")
)

// storageError is a classified storage failure: cause is one of the
// sentinel errors above, detail what the log shows about it (file, code
// and what to do), err the driver's error.
type storageError struct {
	cause  error
	detail string
	err    error
}

func (e *storageError) Error() string   { return e.detail + ": " + e.err.Error() }
func (e *storageError) Unwrap() []error { return []error{e.cause, e.err} }

// storageFailure classifies err as a storage failure, nil when it is not
// one. The result's message is what an API client reads; the log line of
// the failed request (the error's text) also names the file or server, the
// driver's code and what to do.
func (s *Store) storageFailure(err error) *model.Error {
	cause, code := storageCause(err)
	if cause == nil {
		return nil
	}
	where := "the PostgreSQL server"
	if s.path != "" {
		where = s.path
	}
	var msg, detail string
	switch cause {
	case ErrDiskFull:
		msg = "the store's disk is full: writes fail until an operator frees space, then resume by themselves; reads still work; retry later"
		detail = fmt.Sprintf("disk full (%s, %s): free space on its file system; writes resume by themselves, no restart needed", where, code)
		if s.path == "" {
			detail = fmt.Sprintf("PostgreSQL is out of disk space or resources (%s): free space or resources on the database server; writes resume by themselves, no restart needed", code)
		}
	case ErrReadOnly:
		msg = "the store is read-only: writes fail until an operator makes it writable, then resume by themselves; reads still work; retry later"
		detail = fmt.Sprintf("the store is read-only (%s, %s): make the database file, its -wal and -shm files and their directory writable by this process (owner, mode, mount); writes resume by themselves, no restart needed", where, code)
		if s.path == "" {
			detail = fmt.Sprintf("PostgreSQL refuses writes (%s): the server is a standby or default_transaction_read_only is on; point allot at the primary or turn it off; writes resume by themselves, no restart needed", code)
		}
	default:
		msg = "the store cannot read or write its database file; retry later"
		detail = fmt.Sprintf("I/O error on the store (%s, %s): check the disk, the file system and the kernel log", where, code)
		if s.path != "" && strings.Contains(code, "CANTOPEN") {
			detail = fmt.Sprintf("cannot open the store (%s, %s): SQLite needs to read and write the file and to create its -wal and -shm files next to it", where, code)
		}
	}
	if s.path != "" && cause != ErrDiskFull {
		if hint := writableHint(s.path); hint != "" {
			detail += " (" + hint + ")"
		}
	}
	return &model.Error{Kind: model.KindUnavailable, Message: msg, Err: &storageError{cause: cause, detail: detail, err: err}}
}

// storageCause names the storage failure err is, with the driver's code
// for the log, or returns nil.
func storageCause(err error) (error, string) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		name := fmt.Sprintf("SQLite code %d", se.Code())
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return ErrDiskFull, "SQLITE_FULL"
		case sqlite3.SQLITE_READONLY:
			return ErrReadOnly, name + ", SQLITE_READONLY"
		case sqlite3.SQLITE_IOERR:
			return ErrStorageIO, name + ", SQLITE_IOERR"
		case sqlite3.SQLITE_CANTOPEN:
			return ErrStorageIO, name + ", SQLITE_CANTOPEN"
		}
		return nil, ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "53100":
			return ErrDiskFull, "SQLSTATE 53100 disk_full"
		case "53000":
			return ErrDiskFull, "SQLSTATE 53000 insufficient_resources"
		case "53200":
			return ErrDiskFull, "SQLSTATE 53200 out_of_memory"
		case "25006":
			return ErrReadOnly, "SQLSTATE 25006 read_only_sql_transaction"
		case "58030":
			return ErrStorageIO, "SQLSTATE 58030 io_error"
		}
	}
	return nil, ""
}

// healthState remembers the storage failure writes last met, so that the
// log says once when writes start failing and once when they succeed
// again, not once per request.
type healthState struct {
	failing atomic.Pointer[error]
}

// failed records a classified write failure and logs it when it is news.
func (s *Store) failed(err *model.Error) {
	var se *storageError
	if !errors.As(err, &se) {
		return
	}
	prev := s.health.failing.Swap(&se.cause)
	if prev == nil || *prev != se.cause {
		s.log.Error("store writes are failing: "+se.detail, "cause", se.cause.Error(), "error", se.err)
	}
}

// succeeded records a committed write and logs the recovery when writes
// had been failing.
func (s *Store) succeeded() {
	if s.health.failing.Load() == nil {
		return
	}
	if prev := s.health.failing.Swap(nil); prev != nil {
		s.log.Info("store writes succeed again", "after", (*prev).Error())
	}
}

// discard closes conn's driver connection instead of returning it to the
// pool. SQLite opens a connection read-only when its file cannot be
// written at that moment, and it stays read-only after the file becomes
// writable; a PostgreSQL connection to a server that became a standby
// stays there. A new connection sees the store as it is now.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
}

// checkWritable tries a write that changes nothing and rolls it back; it
// returns the classified failure when the store is read-only.
func (s *Store) checkWritable(ctx context.Context) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return s.classify(fmt.Errorf("connect to the database: %w", err))
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.classify(fmt.Errorf("begin write transaction: %w", err))
	}
	_, err = tx.ExecContext(ctx, `UPDATE meta SET revision = revision WHERE id = 1`)
	tx.Rollback()
	if err != nil {
		if _, code := storageCause(err); code != "" {
			discard(conn)
		}
		return s.classify(fmt.Errorf("check that the store is writable: %w", err))
	}
	return nil
}

// CheckIntegrity checks the database for damage: SQLite's
// integrity_check (nil when it answers "ok"); PostgreSQL checks its own
// pages as it reads them, so there it only checks that the database
// answers.
func (s *Store) CheckIntegrity(ctx context.Context) error {
	if s.d.name() != "sqlite" {
		return s.Ping(ctx)
	}
	rows, err := s.reader.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return s.classify(fmt.Errorf("integrity_check: %w", err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.classify(fmt.Errorf("integrity_check: %w", err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity_check of %s: %s", s.path, strings.Join(problems, "; "))
	}
	return nil
}

// Synchronous reports SQLite's synchronous setting as the store's write
// connection runs it ("off", "normal", "full" or "extra"); "" on
// PostgreSQL, whose durability is its own synchronous_commit.
func (s *Store) Synchronous(ctx context.Context) (string, error) {
	if s.d.name() != "sqlite" {
		return "", nil
	}
	var n int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n); err != nil {
		return "", s.classify(fmt.Errorf("read PRAGMA synchronous: %w", err))
	}
	if n < 0 || n > 3 {
		return fmt.Sprint(n), nil
	}
	return [...]string{"off", "normal", "full", "extra"}[n], nil
}
