package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"allot/internal/model"
)

const providerColumns = `p.id, p.uuid, p.name, p.generation, COALESCE(p.parent_id, 0), COALESCE(pp.uuid, ''),
	p.root_id, COALESCE(rp.uuid, ''), p.created_at, p.updated_at`

const providerFrom = ` FROM resource_providers p
	LEFT JOIN resource_providers pp ON pp.id = p.parent_id
	LEFT JOIN resource_providers rp ON rp.id = p.root_id`

func scanProvider(sc interface{ Scan(...any) error }) (model.Provider, error) {
	var p model.Provider
	var created, updated sql.NullInt64
	err := sc.Scan(&p.ID, &p.UUID, &p.Name, &p.Generation, &p.ParentID, &p.ParentUUID, &p.RootID, &p.RootUUID, &created, &updated)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, err
}

func (t *Tx) providers(ctx context.Context, where string, args ...any) ([]model.Provider, error) {
	rows, err := t.query(ctx, `SELECT `+providerColumns+providerFrom+` `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Provider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ProviderByUUID returns the provider with that uuid; ok is false if none.
// With lock, the row is locked until the end of a write transaction.
func (t *Tx) ProviderByUUID(ctx context.Context, uuid string, lock bool) (p model.Provider, ok bool, err error) {
	q := `SELECT ` + providerColumns + providerFrom + ` WHERE p.uuid = $1`
	if lock {
		q += t.lockRowsOf("p") // only the provider's row, not its parent's or root's
	}
	p, err = scanProvider(t.queryRow(ctx, q, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// ProvidersByUUID returns the providers with these uuids, keyed by uuid.
func (t *Tx) ProvidersByUUID(ctx context.Context, uuids []string) (map[string]model.Provider, error) {
	out := map[string]model.Provider{}
	for start := 0; start < len(uuids); start += 500 {
		chunk := uuids[start:min(start+500, len(uuids))]
		ps, err := t.providers(ctx, `WHERE p.uuid IN (`+placeholders(1, len(chunk))+`)`, stringArgs(chunk)...)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out[p.UUID] = p
		}
	}
	return out, nil
}

// LockProviders locks every provider named by id or by uuid, in id order (a
// fixed order, so that concurrent writers cannot deadlock), until the end of
// the write transaction, and returns them with their current generations,
// keyed by id. Names of providers that do not exist are ignored.
func (t *Tx) LockProviders(ctx context.Context, ids []int64, uuids []string) (map[int64]model.Provider, error) {
	ids, uuids = sortedUnique(ids), uniqueStrings(uuids)
	out := make(map[int64]model.Provider, len(ids)+len(uuids))
	if len(ids)+len(uuids) == 0 {
		return out, nil
	}
	if len(ids)+len(uuids) <= chunkSize {
		// One statement; rows are locked as the sorted result is produced.
		var where []string
		if len(ids) > 0 {
			where = append(where, `p.id IN (`+placeholders(1, len(ids))+`)`)
		}
		if len(uuids) > 0 {
			where = append(where, `p.uuid IN (`+placeholders(len(ids)+1, len(uuids))+`)`)
		}
		ps, err := t.providers(ctx, `WHERE `+strings.Join(where, ` OR `)+` ORDER BY p.id`+t.lockRowsOf("p"),
			append(int64Args(ids), stringArgs(uuids)...)...)
		if err != nil {
			return nil, fmt.Errorf("locking providers: %w", err)
		}
		for _, p := range ps {
			out[p.ID] = p
		}
		return out, nil
	}
	// Too many for one statement: resolve the uuids without locking, then
	// lock every id in sorted chunks, which keeps the one id order.
	byUUID, err := t.ProvidersByUUID(ctx, uuids)
	if err != nil {
		return nil, err
	}
	for _, p := range byUUID {
		ids = append(ids, p.ID)
	}
	err = inChunks(sortedUnique(ids), func(chunk []int64) error {
		ps, err := t.providers(ctx, `WHERE p.id IN (`+placeholders(1, len(chunk))+`) ORDER BY p.id`+t.lockRowsOf("p"), int64Args(chunk)...)
		for _, p := range ps {
			out[p.ID] = p
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("locking providers: %w", err)
	}
	return out, nil
}

// AllProviders returns every provider ordered by id.
func (t *Tx) AllProviders(ctx context.Context) ([]model.Provider, error) {
	return t.providers(ctx, `ORDER BY p.id`)
}

// TreeProviders returns every provider whose root is rootID, ordered by id.
func (t *Tx) TreeProviders(ctx context.Context, rootID int64) ([]model.Provider, error) {
	return t.providers(ctx, `WHERE p.root_id = $1 ORDER BY p.id`, rootID)
}

// CreateProvider inserts p (uuid, name, parent) and returns it with id,
// root and timestamps filled in. Duplicate uuid or name is a KindConflict
// error whose message names the column.
func (t *Tx) CreateProvider(ctx context.Context, p model.Provider) (model.Provider, error) {
	var parent any
	if p.ParentID != 0 {
		parent = p.ParentID
	}
	err := t.queryRow(ctx, `INSERT INTO resource_providers (uuid, name, generation, parent_id, root_id, created_at, updated_at)
		VALUES ($1, $2, 0, $3, $4, $5, $5) RETURNING id`, p.UUID, p.Name, parent, p.RootID, micros(t.now)).Scan(&p.ID)
	if err != nil {
		if t.s.d.uniqueViolation(err) {
			return p, &model.Error{Kind: model.KindConflict, Code: model.CodeDuplicateName, Message: uniqueColumn(err), Err: err}
		}
		return p, err
	}
	if p.RootID == 0 {
		p.RootID, p.RootUUID = p.ID, p.UUID
		if _, err := t.exec(ctx, `UPDATE resource_providers SET root_id = $1 WHERE id = $1`, p.ID); err != nil {
			return p, err
		}
	}
	p.Generation = 0
	p.CreatedAt, p.UpdatedAt = t.now, t.now
	t.Touch(p.ID)
	return p, nil
}

// UpdateProvider saves the name and parent of p and moves the given
// subtree (p's descendants) to p's root. It does not bump the generation.
func (t *Tx) UpdateProvider(ctx context.Context, p model.Provider, subtree []int64) error {
	var parent any
	if p.ParentID != 0 {
		parent = p.ParentID
	}
	_, err := t.exec(ctx, `UPDATE resource_providers SET name = $1, parent_id = $2, root_id = $3, updated_at = $4 WHERE id = $5`,
		p.Name, parent, p.RootID, micros(t.now), p.ID)
	if err != nil {
		if t.s.d.uniqueViolation(err) {
			return &model.Error{Kind: model.KindConflict, Code: model.CodeDuplicateName, Message: uniqueColumn(err), Err: err}
		}
		return err
	}
	t.Touch(p.ID)
	for start := 0; start < len(subtree); start += 500 {
		chunk := subtree[start:min(start+500, len(subtree))]
		args := append([]any{p.RootID}, int64Args(chunk)...)
		if _, err := t.exec(ctx, `UPDATE resource_providers SET root_id = $1 WHERE id IN (`+placeholders(2, len(chunk))+`)`, args...); err != nil {
			return err
		}
		t.Touch(chunk...)
	}
	return nil
}

// HasChildren reports whether some provider has id as its parent.
func (t *Tx) HasChildren(ctx context.Context, id int64) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM resource_providers WHERE parent_id = $1 LIMIT 1) x`, id).Scan(&n)
	return n > 0, err
}

// HasAllocations reports whether some consumer holds allocations on provider id.
func (t *Tx) HasAllocations(ctx context.Context, id int64) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM allocations WHERE provider_id = $1 LIMIT 1) x`, id).Scan(&n)
	return n > 0, err
}

// DeleteProvider removes provider id with its inventories, trait and
// aggregate links. The caller checks children and allocations first.
func (t *Tx) DeleteProvider(ctx context.Context, id int64) error {
	for _, q := range []string{
		`DELETE FROM inventories WHERE provider_id = $1`,
		`DELETE FROM provider_traits WHERE provider_id = $1`,
		`DELETE FROM provider_aggregates WHERE provider_id = $1`,
		`DELETE FROM resource_providers WHERE id = $1`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return err
		}
	}
	t.Touch(id)
	return nil
}

// BumpGeneration increments the generation of provider id if it is still
// expected; otherwise it returns a KindConflict concurrent-update error.
func (t *Tx) BumpGeneration(ctx context.Context, id, expected int64) (int64, error) {
	res, err := t.exec(ctx, `UPDATE resource_providers SET generation = generation + 1, updated_at = $1 WHERE id = $2 AND generation = $3`,
		micros(t.now), id, expected)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, model.Conflict("resource provider generation conflict: another writer changed the provider; reload it and retry").WithCode(model.CodeConcurrentUpdate)
	}
	t.Touch(id)
	return expected + 1, nil
}

// BumpGenerations increments the generations of providers ids, which the
// caller has locked (so no expected generation needs checking).
func (t *Tx) BumpGenerations(ctx context.Context, ids []int64) error {
	err := inChunks(sortedUnique(ids), func(chunk []int64) error {
		_, err := t.exec(ctx, `UPDATE resource_providers SET generation = generation + 1, updated_at = $1 WHERE id IN (`+placeholders(2, len(chunk))+`)`,
			append([]any{micros(t.now)}, int64Args(chunk)...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("bumping provider generations: %w", err)
	}
	for _, id := range ids {
		t.Touch(id)
	}
	return nil
}

// uniqueStrings returns ss without repetitions, in first-seen order.
func uniqueStrings(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sortedUnique(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sortInt64s(out)
	return out
}
