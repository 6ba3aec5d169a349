package store

import (
	"context"
	"database/sql"
	"fmt"

	"allot/internal/model"
)

// Revision returns the latest committed revision and the oldest revision
// the change feed can still be read from (a reader older than that must
// reload everything).
func (t *Tx) Revision(ctx context.Context) (rev, oldest int64, err error) {
	err = t.queryRow(ctx, `SELECT revision, oldest_change FROM meta WHERE id = 1`).Scan(&rev, &oldest)
	return rev, oldest, err
}

// Revision returns the latest committed revision: the one check an engine
// makes before each search, so that every search sees every write
// committed before it began. On SQLite, one process serves a file (Open
// refuses a second Store on it) and every commit goes through this Store,
// which keeps the revision in memory: no I/O. On PostgreSQL, which several
// replicas share, it is one indexed read of the row every commit updates.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if s.lock != nil {
		return s.rev.Load(), nil
	}
	var rev int64
	if err := s.reader.QueryRowContext(ctx, `SELECT revision FROM meta WHERE id = 1`).Scan(&rev); err != nil {
		return 0, s.classify(err)
	}
	return rev, nil
}

// loadRevision reads the committed revision into the SQLite Store's
// memory (at Open, when the file is locked and migrated).
func (s *Store) loadRevision(ctx context.Context) error {
	var rev int64
	if err := s.reader.QueryRowContext(ctx, `SELECT revision FROM meta WHERE id = 1`).Scan(&rev); err != nil {
		return fmt.Errorf("read the revision: %w", s.classify(err))
	}
	s.advanceRevision(rev)
	return nil
}

// reloadRevision rereads the revision after a commit whose outcome is
// unknown; on failure the next commit or reload catches up.
func (s *Store) reloadRevision(ctx context.Context) {
	if s.lock == nil {
		return
	}
	if err := s.loadRevision(context.WithoutCancel(ctx)); err != nil {
		s.log.Warn("after a failed commit, the revision could not be read; the next write updates it", "error", err)
	}
}

// advanceRevision records a committed revision (SQLite); the revision
// only grows.
func (s *Store) advanceRevision(rev int64) {
	if s.lock == nil {
		return
	}
	for {
		cur := s.rev.Load()
		if rev <= cur || s.rev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// ChangedProviders returns the ids of the providers changed after revision
// since up to and including revision upto; global reports a change of the
// class or trait catalogs.
func (t *Tx) ChangedProviders(ctx context.Context, since, upto int64) (ids []int64, global bool, err error) {
	rows, err := t.query(ctx, `SELECT DISTINCT provider_id FROM changes WHERE revision > $1 AND revision <= $2`, since, upto)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		if id == GlobalChange {
			global = true
		} else {
			ids = append(ids, id)
		}
	}
	return ids, global, rows.Err()
}

// ProviderStates loads providers with their inventories, traits and
// aggregates. With ids == nil it loads every provider.
func (t *Tx) ProviderStates(ctx context.Context, ids []int64) ([]model.ProviderState, error) {
	if ids != nil && len(ids) == 0 {
		return nil, nil
	}
	var out []model.ProviderState
	if ids == nil {
		ps, err := t.AllProviders(ctx)
		if err != nil {
			return nil, err
		}
		out = make([]model.ProviderState, len(ps))
		for i, p := range ps {
			out[i].Provider = p
		}
		if err := t.fillStates(ctx, out, "", nil); err != nil {
			return nil, err
		}
		return out, nil
	}
	ids = sortedUnique(ids)
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in := ` IN (` + placeholders(1, len(chunk)) + `)`
		args := int64Args(chunk)
		ps, err := t.providers(ctx, `WHERE p.id`+in+` ORDER BY p.id`, args...)
		if err != nil {
			return nil, err
		}
		part := make([]model.ProviderState, len(ps))
		for i, p := range ps {
			part[i].Provider = p
		}
		if err := t.fillStates(ctx, part, in, args); err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// rowScanner is a result set as the state reads consume it: database/sql's
// rows and pgx's (the pipelined catch-up, changes_postgres.go) alike.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// stateRead is one of the reads that fill a provider's state beyond its
// row: the statement, given the WHERE clause on its provider column
// (where returns "" to read every provider), and how one of its rows
// lands in the state stateOf returns for the row's provider (nil: a
// provider not read, whose row is skipped).
type stateRead struct {
	query func(where func(col string) string) string
	add   func(sc rowScanner, stateOf func(pid int64) *model.ProviderState) error
}

// stateReads are a provider's inventories (with their usage), traits and
// aggregates, each ordered by provider and then as the API lists them.
var stateReads = []stateRead{
	{
		query: func(where func(string) string) string {
			return `SELECT i.provider_id, ` + inventoryColumns + ` FROM inventories i
		JOIN resource_classes rc ON rc.id = i.resource_class_id` + where("i.provider_id") + ` ORDER BY i.provider_id, i.resource_class_id`
		},
		add: func(sc rowScanner, stateOf func(int64) *model.ProviderState) error {
			var pid int64
			var inv model.Inventory
			var created, updated sql.NullInt64
			if err := sc.Scan(&pid, &inv.ResourceClass, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize,
				&inv.AllocationRatio, &inv.Used, &created, &updated); err != nil {
				return err
			}
			inv.CreatedAt, inv.UpdatedAt = fromMicros(created), fromMicros(updated)
			if st := stateOf(pid); st != nil {
				st.Inventories = append(st.Inventories, inv)
			}
			return nil
		},
	},
	nameRead(`SELECT pt.provider_id, t.name FROM provider_traits pt JOIN traits t ON t.id = pt.trait_id`, "pt.provider_id", "t.name",
		func(st *model.ProviderState) *[]string { return &st.Traits }),
	nameRead(`SELECT pa.provider_id, a.uuid FROM provider_aggregates pa JOIN aggregates a ON a.id = pa.aggregate_id`, "pa.provider_id", "a.uuid",
		func(st *model.ProviderState) *[]string { return &st.Aggregates }),
}

// nameRead is a state read of rows (provider id, one name), ordered by
// provider and name, each name appended to the state's list that field
// returns: a provider's traits, its aggregates.
func nameRead(selectFrom, idCol, nameCol string, field func(*model.ProviderState) *[]string) stateRead {
	return stateRead{
		query: func(where func(string) string) string {
			return selectFrom + where(idCol) + ` ORDER BY ` + idCol + `, ` + nameCol
		},
		add: func(sc rowScanner, stateOf func(int64) *model.ProviderState) error {
			var pid int64
			var name string
			if err := sc.Scan(&pid, &name); err != nil {
				return err
			}
			if st := stateOf(pid); st != nil {
				list := field(st)
				*list = append(*list, name)
			}
			return nil
		},
	}
}

// statesByID returns a lookup of states by provider id, for stateRead.add.
func statesByID(states []model.ProviderState) func(pid int64) *model.ProviderState {
	idx := make(map[int64]int, len(states))
	for i, s := range states {
		idx[s.ID] = i
	}
	return func(pid int64) *model.ProviderState {
		if i, ok := idx[pid]; ok {
			return &states[i]
		}
		return nil
	}
}

// readStateRows adds every row of rows to the states through read.
func readStateRows(rows rowScanner, read stateRead, stateOf func(int64) *model.ProviderState) error {
	for rows.Next() {
		if err := read.add(rows, stateOf); err != nil {
			return err
		}
	}
	return rows.Err()
}

// fillStates adds inventories, traits and aggregates to states, reading
// only providers matching the " IN (...)" clause in when it is not empty.
func (t *Tx) fillStates(ctx context.Context, states []model.ProviderState, in string, args []any) error {
	where := func(col string) string {
		if in == "" {
			return ""
		}
		return " WHERE " + col + in
	}
	stateOf := statesByID(states)
	for _, read := range stateReads {
		rows, err := t.query(ctx, read.query(where), args...)
		if err != nil {
			return err
		}
		err = readStateRows(rows, read, stateOf)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
