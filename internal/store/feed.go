package store

import (
	"context"
	"database/sql"
	"os"
	"time"

	"allot/internal/model"
)

// Revision returns the latest committed revision and the oldest revision
// the change feed can still be read from (a reader older than that must
// reload everything).
func (t *Tx) Revision(ctx context.Context) (rev, oldest int64, err error) {
	err = t.queryRow(ctx, `SELECT revision, oldest_change FROM meta WHERE id = 1`).Scan(&rev, &oldest)
	return rev, oldest, err
}

// Revision reads the latest committed revision: the one cheap check an
// engine makes before each search. On SQLite it skips the query when this
// process wrote nothing and the database files are unchanged since the
// last answer, so another process writing to the same file is still
// noticed.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var mark revisionMark
	if s.path != "" {
		mark.writes = s.writes.Load()
		mark.at = time.Now().UnixNano()
		mark.files = s.fileMarks()
		s.revMu.Lock()
		seen := s.revSeen
		s.revMu.Unlock()
		if seen.trusts(mark) {
			return seen.rev, nil
		}
	}
	var rev int64
	if err := s.reader.QueryRowContext(ctx, `SELECT revision FROM meta WHERE id = 1`).Scan(&rev); err != nil {
		return 0, s.classify(err)
	}
	if s.path != "" {
		mark.valid, mark.rev = true, rev
		s.revMu.Lock()
		if !s.revSeen.valid || rev >= s.revSeen.rev {
			s.revSeen = mark
		}
		s.revMu.Unlock()
	}
	return rev, nil
}

// racyWindow is how recently a file may have changed before its size and
// modification time stop proving that it has not changed since. Linux
// stamps writes with a clock that advances once per kernel tick (10 ms at
// the slowest, 100 Hz, unless the kernel has fine-grained timestamps), so a
// second write in the same tick can leave both as they were (once SQLite
// starts its log over from the beginning, the size does not grow either).
// A mark taken when the files had been quiet for two such ticks cannot be
// fooled that way. The price: for this long after any write, each check
// queries the database (about 11 µs more than a trusted check).
const racyWindow = 20 * time.Millisecond

// trusts reports whether the revision seen under m still holds for cur:
// nothing written by this process since, the files' stats equal, and the
// files already quiet for racyWindow when m was taken.
func (m revisionMark) trusts(cur revisionMark) bool {
	if !m.valid || m.writes != cur.writes || m.files != cur.files {
		return false
	}
	for _, f := range m.files {
		if f != (fileMark{}) && f.mtime > m.at-int64(racyWindow) {
			return false
		}
	}
	return true
}

// fileMarks stats the SQLite write-ahead log, where every commit lands in
// WAL mode (a checkpoint only copies it into the database file). Only when
// there is no log does it stat the database file: one system call per
// query instead of two.
func (s *Store) fileMarks() [2]fileMark {
	var out [2]fileMark
	if fi, err := os.Stat(s.walPath); err == nil {
		out[1] = fileMark{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		return out
	}
	if fi, err := os.Stat(s.path); err == nil {
		out[0] = fileMark{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	}
	return out
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

// fillStates adds inventories, traits and aggregates to states, reading
// only providers matching the " IN (...)" clause in when it is not empty.
func (t *Tx) fillStates(ctx context.Context, states []model.ProviderState, in string, args []any) error {
	idx := make(map[int64]int, len(states))
	for i, s := range states {
		idx[s.ID] = i
	}
	where := func(col string) string {
		if in == "" {
			return ""
		}
		return " WHERE " + col + in
	}
	rows, err := t.query(ctx, `SELECT i.provider_id, `+inventoryColumns+` FROM inventories i
		JOIN resource_classes rc ON rc.id = i.resource_class_id`+where("i.provider_id")+` ORDER BY i.provider_id, i.resource_class_id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var pid int64
		var inv model.Inventory
		var created, updated sql.NullInt64
		if err := rows.Scan(&pid, &inv.ResourceClass, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize,
			&inv.AllocationRatio, &inv.Used, &created, &updated); err != nil {
			rows.Close()
			return err
		}
		inv.CreatedAt, inv.UpdatedAt = fromMicros(created), fromMicros(updated)
		if i, ok := idx[pid]; ok {
			states[i].Inventories = append(states[i].Inventories, inv)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.query(ctx, `SELECT pt.provider_id, t.name FROM provider_traits pt JOIN traits t ON t.id = pt.trait_id`+
		where("pt.provider_id")+` ORDER BY pt.provider_id, t.name`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var pid int64
		var name string
		if err := rows.Scan(&pid, &name); err != nil {
			rows.Close()
			return err
		}
		if i, ok := idx[pid]; ok {
			states[i].Traits = append(states[i].Traits, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.query(ctx, `SELECT pa.provider_id, a.uuid FROM provider_aggregates pa JOIN aggregates a ON a.id = pa.aggregate_id`+
		where("pa.provider_id")+` ORDER BY pa.provider_id, a.uuid`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var u string
		if err := rows.Scan(&pid, &u); err != nil {
			return err
		}
		if i, ok := idx[pid]; ok {
			states[i].Aggregates = append(states[i].Aggregates, u)
		}
	}
	return rows.Err()
}
