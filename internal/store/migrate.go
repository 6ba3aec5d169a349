package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"allot/internal/model"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises schema
// migrations when several replicas start at once.
const migrationLockKey = 727272001

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(d dialect) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		text := strings.ReplaceAll(string(body), "{{identity}}", d.identity())
		out = append(out, migration{version: v, name: name, sql: text})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrationRetryWindow is how long a starting process keeps retrying when
// another process holds the SQLite database locked (e.g. while it switches
// a new file to WAL mode or applies a migration).
const migrationRetryWindow = 30 * time.Second

// migrate applies the missing migrations and syncs the standard catalogs,
// retrying while another process starting on the same SQLite file holds it
// locked.
func (s *Store) migrate(ctx context.Context) error {
	deadline := time.Now().Add(migrationRetryWindow)
	for {
		err := s.migrateOnce(ctx)
		if err == nil || !s.d.retryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// migrateOnce applies the missing migrations and syncs the standard
// catalogs, under an advisory lock on PostgreSQL so that replicas starting
// together migrate exactly once.
func (s *Store) migrateOnce(ctx context.Context) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return s.classify(fmt.Errorf("connect to the database: %w", err))
	}
	defer conn.Close()
	if s.d.name() == "postgres" {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return s.classify(fmt.Errorf("take the migration lock: %w", err))
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}
	// Only a new database needs schema_migrations created: on a
	// read-only one (a PostgreSQL standby, say) even CREATE TABLE IF NOT
	// EXISTS is refused, and a read-only store is still served.
	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return s.classify(fmt.Errorf("create schema_migrations: %w", err))
		}
		if applied, err = appliedMigrations(ctx, conn); err != nil {
			return s.classify(err)
		}
	}
	ms, err := loadMigrations(s.d)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		done, err := applyMigration(ctx, conn, m)
		if err != nil {
			return s.classify(err)
		}
		if done {
			s.log.Info("applied database migration", "migration", m.name, "backend", s.d.name())
		}
	}
	return s.classify(syncCatalogs(ctx, conn))
}

// appliedMigrations reads the versions of the applied migrations.
func appliedMigrations(ctx context.Context, conn *sql.Conn) (map[int]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return applied, nil
}

// applyMigration applies m in one transaction; done is false when another
// process applied it first. The check is made again inside the
// transaction: on SQLite, where no advisory lock serialises processes, the
// transaction holds the write lock from its start (_txlock=immediate), so
// a process that waited for it sees the other's migration there.
func applyMigration(ctx context.Context, conn *sql.Conn, m migration) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	for _, stmt := range splitStatements(m.sql) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migration %s: %s: %w", m.name, firstWords(stmt), err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	return true, nil
}

// splitStatements splits a migration at semicolons that end a line.
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// syncCatalogs inserts the standard resource classes (with their fixed ids)
// and standard traits that the database does not have yet. A newer catalog
// only ever adds names.
func syncCatalogs(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sync catalogs: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM resource_classes WHERE id < $1`, model.CustomResourceClassMinID)
	if err != nil {
		return fmt.Errorf("sync catalogs: %w", err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		have[n] = true
	}
	rows.Close()
	changed := false
	for id, name := range model.StandardResourceClasses() {
		if have[name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO resource_classes (id, name, created_at) VALUES ($1, $2, $3)`, id, name, now); err != nil {
			return fmt.Errorf("add standard resource class %s: %w", name, err)
		}
		changed = true
	}
	have = map[string]bool{}
	rows, err = tx.QueryContext(ctx, `SELECT name FROM traits`)
	if err != nil {
		return fmt.Errorf("sync catalogs: %w", err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		have[n] = true
	}
	rows.Close()
	for _, name := range model.StandardTraits() {
		if have[name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO traits (name, created_at) VALUES ($1, $2)`, name, now); err != nil {
			return fmt.Errorf("add standard trait %s: %w", name, err)
		}
		changed = true
	}
	if changed {
		var rev int64
		if err := tx.QueryRowContext(ctx, `UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&rev); err != nil {
			return fmt.Errorf("sync catalogs: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (revision, provider_id) VALUES ($1, $2)`, rev, GlobalChange); err != nil {
			return fmt.Errorf("sync catalogs: %w", err)
		}
	}
	return tx.Commit()
}
