package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"

	"allot/internal/model"
)

func scanTrait(sc interface{ Scan(...any) error }) (model.Trait, error) {
	var tr model.Trait
	var created, updated sql.NullInt64
	err := sc.Scan(&tr.ID, &tr.Name, &created, &updated)
	tr.CreatedAt, tr.UpdatedAt = fromMicros(created), fromMicros(updated)
	return tr, err
}

// Traits returns the traits matching f, sorted by name.
func (t *Tx) Traits(ctx context.Context, f model.TraitFilter) ([]model.Trait, error) {
	if len(f.Names) > chunkSize {
		// A long name=in: list: one query per chunk of names, merged.
		var out []model.Trait
		err := inChunks(uniqueStrings(f.Names), func(chunk []string) error {
			g := f
			g.Names = chunk
			part, err := t.Traits(ctx, g)
			out = append(out, part...)
			return err
		})
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, err
	}
	q := `SELECT id, name, created_at, updated_at FROM traits t WHERE 1 = 1`
	var args []any
	if f.Names != nil {
		if len(f.Names) == 0 {
			return nil, nil
		}
		q += ` AND name IN (` + placeholders(len(args)+1, len(f.Names)) + `)`
		args = append(args, stringArgs(f.Names)...)
	}
	if f.Prefix != "" {
		// Compare by range rather than LIKE so that '_' and '%' in the prefix
		// are literal on both backends.
		q += ` AND substr(name, 1, ` + strconv.Itoa(len(f.Prefix)) + `) = $` + strconv.Itoa(len(args)+1)
		args = append(args, f.Prefix)
	}
	if f.Associated != nil {
		not := ""
		if !*f.Associated {
			not = "NOT "
		}
		q += ` AND ` + not + `EXISTS (SELECT 1 FROM provider_traits pt WHERE pt.trait_id = t.id)`
	}
	q += ` ORDER BY name`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Trait
	for rows.Next() {
		tr, err := scanTrait(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, rows.Err()
}

// Trait returns the trait with that name; ok is false if none.
func (t *Tx) Trait(ctx context.Context, name string) (tr model.Trait, ok bool, err error) {
	tr, err = scanTrait(t.queryRow(ctx, `SELECT id, name, created_at, updated_at FROM traits WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return tr, false, nil
	}
	return tr, err == nil, err
}

// CreateTrait adds a trait; created is false when it already existed.
func (t *Tx) CreateTrait(ctx context.Context, name string) (tr model.Trait, created bool, err error) {
	if tr, ok, err := t.Trait(ctx, name); err != nil || ok {
		return tr, false, err
	}
	var id int64
	err = t.queryRow(ctx, `INSERT INTO traits (name, created_at) VALUES ($1, $2) RETURNING id`, name, micros(t.now)).Scan(&id)
	if err != nil {
		if t.s.d.uniqueViolation(err) {
			return model.Trait{}, false, &model.Error{Kind: model.KindConflict, Code: model.CodeConcurrentUpdate,
				Message: "the trait " + name + " was created concurrently; retry", Err: err}
		}
		return model.Trait{}, false, err
	}
	t.TouchGlobal()
	return model.Trait{ID: id, Name: name, CreatedAt: t.now}, true, nil
}

// TraitInUse reports whether some provider has trait id.
func (t *Tx) TraitInUse(ctx context.Context, id int64) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM provider_traits WHERE trait_id = $1 LIMIT 1) x`, id).Scan(&n)
	return n > 0, err
}

// DeleteTrait removes trait id.
func (t *Tx) DeleteTrait(ctx context.Context, id int64) error {
	_, err := t.exec(ctx, `DELETE FROM traits WHERE id = $1`, id)
	if err == nil {
		t.TouchGlobal()
	}
	return err
}

// ProviderTraits returns the traits of provider id, sorted by name.
func (t *Tx) ProviderTraits(ctx context.Context, providerID int64) ([]model.Trait, error) {
	rows, err := t.query(ctx, `SELECT t.id, t.name, t.created_at, t.updated_at FROM traits t
		JOIN provider_traits pt ON pt.trait_id = t.id WHERE pt.provider_id = $1 ORDER BY t.name`, providerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Trait
	for rows.Next() {
		tr, err := scanTrait(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, rows.Err()
}

// SetProviderTraits replaces the trait set of provider id and reports
// whether it changed. The caller bumps the generation.
func (t *Tx) SetProviderTraits(ctx context.Context, providerID int64, traitIDs []int64) (bool, error) {
	current, err := t.ProviderTraits(ctx, providerID)
	if err != nil {
		return false, err
	}
	want := map[int64]bool{}
	for _, id := range traitIDs {
		want[id] = true
	}
	have := map[int64]bool{}
	var del []int64
	for _, tr := range current {
		have[tr.ID] = true
		if !want[tr.ID] {
			del = append(del, tr.ID)
		}
	}
	var add []int64
	for id := range want {
		if !have[id] {
			add = append(add, id)
		}
	}
	if len(add) == 0 && len(del) == 0 {
		return false, nil
	}
	if len(del) > 0 {
		args := append([]any{providerID}, int64Args(del)...)
		if _, err := t.exec(ctx, `DELETE FROM provider_traits WHERE provider_id = $1 AND trait_id IN (`+placeholders(2, len(del))+`)`, args...); err != nil {
			return false, err
		}
	}
	for _, id := range add {
		if _, err := t.exec(ctx, `INSERT INTO provider_traits (provider_id, trait_id) VALUES ($1, $2)`, providerID, id); err != nil {
			return false, err
		}
	}
	t.Touch(providerID)
	return true, nil
}
