package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCache keeps the statements of one SQLite pool prepared, so that a
// statement is parsed once per connection instead of at every call (the
// parse was about a quarter of the server's CPU under atomic claims).
// Tx.exec, Tx.query and Tx.queryRow take a statement from it; PostgreSQL
// needs none: pgx keeps its own cache of prepared statements on every
// connection.
//
// database/sql reuses a Stmt's preparation on each connection it was
// prepared on (Tx.StmtContext prepares it on the transaction's connection
// the first time), but preparing a Stmt takes a free connection from the
// pool, and a SQLite write transaction holds the only writer connection. So
// a statement met in a transaction is only noted as wanted, and prepared
// before the next transaction of the pool takes its connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	// stmts are the prepared statements by SQL text; wanted are texts met
	// since, to prepare.
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

// Bounds of what the cache keeps.
const (
	// maxCachedStatements bounds the statements kept per pool.
	maxCachedStatements = 512
	// maxCachedArgs keeps statements with long generated IN lists (whose
	// text changes with the length of the list) out of the cache.
	maxCachedArgs = 32
)

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// cacheable says whether a statement is worth keeping prepared.
func cacheable(q string, nargs int) bool {
	return nargs <= maxCachedArgs && !strings.Contains(q, ";")
}

// get returns the prepared statement of q, or nil (and notes q as wanted,
// when it is cacheable and the cache has room). A nil cache has nothing.
func (c *stmtCache) get(q string, nargs int) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	if cacheable(q, nargs) && len(c.stmts)+len(c.wanted) < maxCachedStatements {
		c.wanted[q] = true
	}
	return nil
}

// prepareWanted prepares the statements noted as wanted. It must be called
// without a transaction of the pool open (it takes a connection). A
// statement that fails to prepare is dropped: it runs unprepared, and its
// error shows there, with context.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.wanted) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.wanted))
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range qs {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q] = st
			st = nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// close closes the prepared statements.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}
