package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"allot/internal/metrics"
	"allot/internal/model"
)

// Options tune a Store. The zero value is sensible.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
	// Logger receives store diagnostics (default slog.Default()).
	Logger *slog.Logger
	// MaxRetries is how often a write transaction that failed with a
	// transient conflict (deadlock, serialization failure, busy database) is
	// retried before the error is returned (default 10).
	MaxRetries int
	// SQLiteSynchronous is SQLite's synchronous setting in WAL mode:
	// "full" (the default: a commit is on disk before it is acknowledged,
	// and survives a power loss or an OS crash) or "normal" (faster: the
	// last commits before a power loss or an OS crash may be lost, though
	// the database stays consistent). PostgreSQL ignores it.
	SQLiteSynchronous string
	// Now is the clock that stamps transactions (Tx.Now: created_at,
	// expiry of idempotency keys); default time.Now. Tests move it.
	Now func() time.Time
	// Metrics times transactions and counts retries and database errors
	// (nil: not counted).
	Metrics *metrics.Metrics
}

// Synchronous values of Options.SQLiteSynchronous.
const (
	SynchronousFull   = "full"
	SynchronousNormal = "normal"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	dsn     string
	d       dialect
	writer  *sql.DB // write transactions
	reader  *sql.DB // read transactions (the same pool on PostgreSQL)
	log     *slog.Logger
	retries int
	now     func() time.Time // Options.Now
	path    string           // SQLite database file
	// lock is the SQLite database file, open and locked (flock) for the
	// Store's life, so that no other Store (in this process or another)
	// serves the same file; nil on PostgreSQL.
	lock *os.File
	// rev is the latest committed revision on SQLite: every commit to the
	// file goes through this Store (see lock), which keeps it here.
	rev    atomic.Int64
	names  nameCache
	health healthState
	m      *metrics.Metrics
	// writeStmts and readStmts keep SQLite's statements prepared (nil on
	// PostgreSQL, whose driver keeps its own).
	writeStmts, readStmts *stmtCache
	// commits are the functions AfterCommit registered.
	commits commitHooks
}

// Open connects to the database named by dsn ("sqlite:PATH" or
// "postgres://..."/"postgresql://..."), creates or migrates its schema and
// makes sure the standard resource classes and traits are present.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 10
	}
	s := &Store{dsn: dsn, log: opts.Logger, retries: opts.MaxRetries, now: opts.Now, m: opts.Metrics}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		sync := strings.ToLower(strings.TrimSpace(opts.SQLiteSynchronous))
		switch sync {
		case "":
			sync = SynchronousFull
		case SynchronousFull, SynchronousNormal:
		default:
			return nil, model.BadRequest("SQLite synchronous %q is not supported: use full (durable commits, the default) or normal (faster; a power loss may lose the last acknowledged commits)", opts.SQLiteSynchronous)
		}
		lock, err := lockFile(path)
		if err != nil {
			return nil, err
		}
		s.lock = lock
		pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + strings.ToUpper(sync) + ")"
		w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// One writer at a time: SQLite serialises writers anyway, and
		// queueing in Go is fairer than spinning on busy_timeout.
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
		if err != nil {
			w.Close()
			s.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		r.SetMaxOpenConns(8)
		s.d, s.writer, s.reader = sqliteDialect{}, w, r
		s.writeStmts, s.readStmts = newStmtCache(w), newStmtCache(r)
		s.path = path
		if sync == SynchronousNormal {
			s.log.Warn("SQLite runs with synchronous=normal: a power loss or an OS crash may lose the last acknowledged commits (--sqlite-synchronous full makes every commit durable)", "file", path)
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.d, s.writer, s.reader = postgresDialect{}, db, db
	default:
		return nil, model.BadRequest("unsupported database %q: use sqlite:PATH or postgres://USER@HOST/DB", redact(dsn))
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.lock != nil {
		if err := s.loadRevision(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	// A read-only store still serves reads: say so now rather than at
	// the first write. Writes answer 503 until it is writable again,
	// and then succeed without a restart.
	if err := s.checkWritable(ctx); err != nil {
		if !errors.Is(err, ErrReadOnly) {
			s.Close()
			return nil, err
		}
		var se *storageError
		errors.As(err, &se)
		s.log.Warn("the store is read-only at start: reads are served, writes answer 503 until it is writable; "+se.detail, "error", se.err)
		s.health.failing.Store(&se.cause)
	}
	return s, nil
}

// DSN returns the data source name the store was opened with.
func (s *Store) DSN() string { return s.dsn }

// Dialect names the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name() }

// Close releases the connections and, on SQLite, the database file's lock
// (after the connections: another Store may then open the file).
func (s *Store) Close() error {
	var err error
	s.writeStmts.close()
	s.readStmts.close()
	if s.writer != nil {
		err = s.writer.Close()
	}
	if s.reader != nil && s.reader != s.writer {
		if e := s.reader.Close(); err == nil {
			err = e
		}
	}
	if s.lock != nil {
		// Closing releases the lock. A second Close of the Store finds
		// the file closed: not an error.
		if e := s.lock.Close(); err == nil && !errors.Is(e, os.ErrClosed) {
			err = e
		}
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.classify(s.reader.PingContext(ctx))
}

// redact hides a password in a DSN for messages and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Write runs fn in one write transaction. Providers that fn reports with
// Tx.Touch are recorded in the change feed under a new revision in the same
// transaction; when there were any (or a global change), the functions
// registered with AfterCommit run after the commit, before Write returns. Transient conflicts (deadlocks, serialization failures, a
// busy SQLite file) retry the whole transaction; an error returned by fn is
// returned as is, after rollback.
//
// A write that fails because the store is read-only is retried once on a
// new connection (the failed one is discarded): the first write after an
// operator made the store writable succeeds.
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		var rev int64
		rev, err = s.writeOnce(ctx, fn)
		if err == nil {
			s.succeeded()
			if rev > 0 {
				s.commits.run(ctx, rev)
			}
			return nil
		}
		if attempt == 0 && ctx.Err() == nil {
			if cause, _ := storageCause(err); cause == ErrReadOnly {
				continue
			}
		}
		if attempt >= s.retries || !s.d.retryable(err) || ctx.Err() != nil {
			break
		}
		s.log.Debug("retrying write transaction", "attempt", attempt+1, "error", err)
		s.m.TxRetry()
		time.Sleep(time.Duration(rand.IntN(5*(attempt+1))+1) * time.Millisecond)
	}
	err = s.classify(err)
	if e, ok := model.AsError(err); ok {
		s.failed(e)
	}
	s.countError(err)
	return err
}

// countError counts a database error that a store operation returns:
// one classified unavailable (a lost connection; a storage failure), or
// one that is not allot's own model error (a driver's error). Errors that
// the transaction's function returned on purpose (a 404, a 409) and a
// caller's cancelled context are no database errors.
func (s *Store) countError(err error) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	e, ok := model.AsError(err)
	switch {
	case !ok:
		s.m.DBError(metrics.DBOther)
	case e.Kind != model.KindUnavailable:
	case errors.Is(err, ErrDiskFull), errors.Is(err, ErrReadOnly), errors.Is(err, ErrStorageIO):
		s.m.DBError(metrics.DBStorage)
	default:
		s.m.DBError(metrics.DBUnavailable)
	}
}

// PoolStats describes the store's connection pools (both of SQLite's:
// its writer and its readers).
func (s *Store) PoolStats() metrics.Pool {
	var p metrics.Pool
	for _, db := range []*sql.DB{s.writer, s.reader} {
		st := db.Stats()
		p.InUse += st.InUse
		p.Idle += st.Idle
		p.Max += st.MaxOpenConnections
		p.WaitCount += st.WaitCount
		p.WaitSeconds += st.WaitDuration.Seconds()
		if s.reader == s.writer {
			break
		}
	}
	return p
}

// writeOnce runs fn in one write transaction on a connection of its own, so
// that a connection that met a storage failure can be discarded. It
// returns the revision the transaction committed (0: it recorded no
// change).
func (s *Store) writeOnce(ctx context.Context, fn func(tx *Tx) error) (rev int64, err error) {
	start := time.Now()
	defer func() { s.m.Tx("write", time.Since(start), err) }()
	s.writeStmts.prepareWanted(ctx)
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect to the database: %w", err)
	}
	defer func() {
		if cause, _ := storageCause(err); cause != nil {
			discard(conn)
		}
		conn.Close()
	}()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin write transaction: %w", err)
	}
	tx := &Tx{s: s, tx: sqlTx, stmts: s.writeStmts, now: s.clock()}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return 0, err
	}
	if err := tx.recordChanges(ctx); err != nil {
		sqlTx.Rollback()
		return 0, err
	}
	if err := sqlTx.Commit(); err != nil {
		if tx.rev > 0 {
			// A commit that reports an error may still have committed
			// (an I/O error after the log was written).
			s.reloadRevision(ctx)
		}
		return 0, fmt.Errorf("commit: %w", err)
	}
	if tx.rev > 0 {
		s.advanceRevision(tx.rev)
	}
	if len(tx.names) > 0 {
		s.names.addAll(tx.names)
	}
	return tx.rev, nil
}

// Read runs fn in one read-only transaction: everything fn reads comes from
// one consistent snapshot of the database.
func (s *Store) Read(ctx context.Context, fn func(tx *Tx) error) error {
	var opts *sql.TxOptions
	if s.d.name() == "postgres" {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.readOnce(ctx, opts, fn)
		if err == nil || !s.d.retryable(err) {
			break
		}
	}
	err = s.classify(err)
	s.countError(err)
	return err
}

func (s *Store) readOnce(ctx context.Context, opts *sql.TxOptions, fn func(tx *Tx) error) (err error) {
	start := time.Now()
	defer func() { s.m.Tx("read", time.Since(start), err) }()
	s.readStmts.prepareWanted(ctx)
	sqlTx, err := s.reader.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer sqlTx.Rollback()
	tx := &Tx{s: s, tx: sqlTx, stmts: s.readStmts, now: s.clock(), readOnly: true}
	return fn(tx)
}

// classify turns a lost database connection and a storage failure (disk
// full, read-only store, I/O error; see storageFailure) into a
// KindUnavailable error (503 to API clients) and leaves every other error
// as it is.
func (s *Store) classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := model.AsError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if e := s.storageFailure(err); e != nil {
		return e
	}
	if isConnectionError(err) {
		return &model.Error{Kind: model.KindUnavailable, Message: "the database is unavailable; retry in a moment", Err: err}
	}
	return err
}

func isConnectionError(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, sql.ErrConnDone), errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "failed to connect")
}

// micros converts a time to the stored form (microseconds since the epoch).
// clock is the time that stamps a transaction: Options.Now (time.Now when
// none was given, so every way of making a Store has a clock), in UTC, to
// the microsecond the stores keep.
func (s *Store) clock() time.Time {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	return now().UTC().Truncate(time.Microsecond)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored timestamp back; NULL/0 becomes the zero time.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// ErrInUse is the error (under errors.Is) of Open on a SQLite file that
// another Store already serves.
var ErrInUse = errors.New("the SQLite database is in use")

// inUse says why a second Store on one SQLite file is refused, and what to
// do instead.
func inUse(path string) error {
	return fmt.Errorf("%w: %s is already open in another allot process (or another store of this one): "+
		"one SQLite file is served by one allot serve, which keeps its revision in memory; "+
		"to run several replicas, use PostgreSQL (--db postgres://USER@HOST/DB)", ErrInUse, path)
}
