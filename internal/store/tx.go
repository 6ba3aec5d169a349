package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// Tx is one database transaction, handed to the functions given to
// Store.Write and Store.Read. It is not safe for concurrent use.
type Tx struct {
	s  *Store
	tx *sql.Tx
	// stmts are the prepared statements of the pool tx belongs to (nil:
	// none kept).
	stmts    *stmtCache
	now      time.Time
	readOnly bool
	touched  map[int64]struct{}
	global   bool
	// rev is the revision recordChanges gave this transaction (0: none).
	rev int64
	// names are lookup-table ids seen by this transaction, cached by the
	// store when it commits.
	names map[nameKey]int64
}

// Now is the transaction's timestamp, used for created_at/updated_at.
func (t *Tx) Now() time.Time { return t.now }

// Touch records that the providers with these ids changed, so that the
// change feed reports them.
func (t *Tx) Touch(ids ...int64) {
	if t.touched == nil {
		t.touched = make(map[int64]struct{})
	}
	for _, id := range ids {
		t.touched[id] = struct{}{}
	}
}

// TouchGlobal records a change that is not about one provider (a resource
// class or trait created, renamed or deleted).
func (t *Tx) TouchGlobal() { t.global = true }

// Savepoint runs fn inside a savepoint of the transaction, so that one
// of several independent changes made in one transaction can fail alone:
// when fn returns an error, what it wrote is undone, what it reported with
// Touch and the names it saw are forgotten, the transaction goes on, and
// fn's error is returned. An error of the savepoint itself leaves the
// transaction unusable: it is returned wrapped, for the caller to fail
// the transaction.
func (t *Tx) Savepoint(ctx context.Context, fn func() error) error {
	touched, global, names := maps.Clone(t.touched), t.global, maps.Clone(t.names)
	if _, err := t.exec(ctx, `SAVEPOINT one_of_many`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	ferr := fn()
	if ferr != nil {
		if _, err := t.exec(ctx, `ROLLBACK TO SAVEPOINT one_of_many`); err != nil {
			return fmt.Errorf("undoing a failed change (%v): %w", ferr, err)
		}
		t.touched, t.global, t.names = touched, global, names
	}
	if _, err := t.exec(ctx, `RELEASE SAVEPOINT one_of_many`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return ferr
}

// GlobalChange is the provider id the change feed uses for a global change.
const GlobalChange = 0

// exec, query and queryRow run every statement of the store: prepared
// once per connection when the pool keeps statements (stmtCache), else
// as they are.
func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var res sql.Result
	var err error
	if st := t.stmts.get(q, len(args)); st != nil {
		res, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstWords(q), err)
	}
	return res, nil
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := t.stmts.get(q, len(args)); st != nil {
		rows, err = t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = t.tx.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstWords(q), err)
	}
	return rows, nil
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmts.get(q, len(args)); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// firstWords names a statement in an error message without dumping it.
func firstWords(q string) string {
	f := strings.Fields(q)
	if len(f) > 4 {
		f = f[:4]
	}
	return strings.Join(f, " ")
}

// recordChanges bumps the global revision and writes the change rows. It is
// the last statement before commit: on PostgreSQL the row lock on meta
// serialises the commits of writers in revision order, so a reader that sees
// revision N has also seen every change up to N.
func (t *Tx) recordChanges(ctx context.Context) error {
	if len(t.touched) == 0 && !t.global {
		return nil
	}
	var rev int64
	if err := t.queryRow(ctx, `UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&rev); err != nil {
		return fmt.Errorf("bump revision: %w", err)
	}
	t.rev = rev
	ids := make([]int64, 0, len(t.touched)+1)
	for id := range t.touched {
		ids = append(ids, id)
	}
	if t.global {
		ids = append(ids, GlobalChange)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for start := 0; start < len(ids); start += 500 {
		end := min(start+500, len(ids))
		var b strings.Builder
		args := make([]any, 0, 2*(end-start))
		b.WriteString(`INSERT INTO changes (revision, provider_id) VALUES `)
		for i, id := range ids[start:end] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
			args = append(args, rev, id)
		}
		if _, err := t.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	if rev%changePruneEvery == 0 {
		return t.pruneChanges(ctx, rev)
	}
	return nil
}

const (
	changePruneEvery = 1000
	changeKeep       = 20000
)

func (t *Tx) pruneChanges(ctx context.Context, rev int64) error {
	cut := rev - changeKeep
	if cut <= 0 {
		return nil
	}
	if _, err := t.exec(ctx, `DELETE FROM changes WHERE revision <= $1`, cut); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE meta SET oldest_change = $1 WHERE id = 1`, cut)
	return err
}

// placeholders returns "$start, $start+1, ..." for n values.
func placeholders(start, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", start+i)
	}
	return b.String()
}

// chunkSize bounds the values of one "IN (...)" list: databases cap the
// parameters of a statement (SQLite at 32766), and a request may name tens
// of thousands of values.
const chunkSize = 500

// inChunks calls fn on consecutive pieces of items of at most chunkSize.
func inChunks[T any](items []T, fn func(chunk []T) error) error {
	for start := 0; start < len(items); start += chunkSize {
		if err := fn(items[start:min(start+chunkSize, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// int64Args converts ids to query arguments.
func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// stringArgs converts strings to query arguments.
func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
