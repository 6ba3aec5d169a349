package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// SQLite statements are prepared once and then reused, by writes and by
// reads, with the answers of unprepared statements; statements with long
// generated IN lists and multi-statement texts stay out of the cache, and
// the cache is bounded.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const ins = `INSERT INTO meta_test (k, v) VALUES ($1, $2)`
	const sel = `SELECT v FROM meta_test WHERE k = $1`
	if err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `CREATE TABLE meta_test (k TEXT PRIMARY KEY, v INTEGER)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, ins, fmt.Sprint("k", i), i)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := s.Read(ctx, func(tx *Tx) error { return tx.queryRow(ctx, sel, fmt.Sprint("k", i)).Scan(&v) }); err != nil || v != i {
			t.Fatalf("read k%d: %d, %v", i, v, err)
		}
	}
	for _, c := range []struct {
		cache *stmtCache
		q     string
	}{{s.writeStmts, ins}, {s.readStmts, sel}} {
		if c.cache.stmts[c.q] == nil {
			t.Errorf("%q was not kept prepared", c.q)
		}
	}
	// A failing statement fails the same way prepared and not.
	for range 3 {
		err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, ins, "k1", 9)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "INSERT INTO meta_test") || !s.d.uniqueViolation(err) {
			t.Fatalf("duplicate key: %v", err)
		}
	}
	long := make([]any, maxCachedArgs+1)
	for i := range long {
		long[i] = fmt.Sprint("k", i)
	}
	longQ := `SELECT count(*) FROM meta_test WHERE k IN (` + placeholders(1, len(long)) + `)`
	for range 2 {
		var n int
		if err := s.Read(ctx, func(tx *Tx) error { return tx.queryRow(ctx, longQ, long...).Scan(&n) }); err != nil || n != 5 {
			t.Fatalf("long IN list: %d, %v", n, err)
		}
	}
	if s.readStmts.stmts[longQ] != nil || s.readStmts.wanted[longQ] {
		t.Error("a statement with a long IN list was cached")
	}
	c := newStmtCache(nil)
	for i := range maxCachedStatements + 10 {
		c.get(fmt.Sprintf("SELECT %d", i), 0)
	}
	if len(c.wanted) != maxCachedStatements {
		t.Errorf("the cache wants %d statements, at most %d", len(c.wanted), maxCachedStatements)
	}
	c = newStmtCache(nil)
	c.get("SELECT 1; SELECT 2", 0)
	c.get("SELECT 3", 0)
	if c.wanted["SELECT 1; SELECT 2"] || !c.wanted["SELECT 3"] {
		t.Errorf("wanted %v: want SELECT 3 and not the multi-statement text", c.wanted)
	}
}
