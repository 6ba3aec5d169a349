package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ProviderAggregates returns the aggregate uuids of provider id, sorted.
func (t *Tx) ProviderAggregates(ctx context.Context, providerID int64) ([]string, error) {
	rows, err := t.query(ctx, `SELECT a.uuid FROM aggregates a JOIN provider_aggregates pa ON pa.aggregate_id = a.id
		WHERE pa.provider_id = $1 ORDER BY a.uuid`, providerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ensureAggregates returns the ids of these aggregate uuids, creating the
// aggregates that do not exist yet.
func (t *Tx) ensureAggregates(ctx context.Context, uuids []string) (map[string]int64, error) {
	ids := make(map[string]int64, len(uuids))
	if len(uuids) == 0 {
		return ids, nil
	}
	err := inChunks(uuids, func(chunk []string) error {
		rows, err := t.query(ctx, `SELECT id, uuid FROM aggregates WHERE uuid IN (`+placeholders(1, len(chunk))+`)`, stringArgs(chunk)...)
		if err != nil {
			return err
		}
		return scanIDs(rows, ids)
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, u := range uuids {
		if _, ok := ids[u]; !ok {
			missing = append(missing, u)
		}
	}
	// Create the missing ones, many rows a statement (a provider may name
	// tens of thousands). ON CONFLICT: a concurrent writer may have
	// created some meanwhile; RETURNING gives their ids too.
	err = inChunks(uniqueStrings(missing), func(chunk []string) error {
		args := make([]any, 0, 2*len(chunk))
		for _, u := range chunk {
			args = append(args, u, micros(t.now))
		}
		rows, err := t.query(ctx, `INSERT INTO aggregates (uuid, created_at) VALUES `+pairs(len(chunk))+`
			ON CONFLICT (uuid) DO UPDATE SET uuid = excluded.uuid RETURNING id, uuid`, args...)
		if err != nil {
			return err
		}
		return scanIDs(rows, ids)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// SetProviderAggregates replaces the aggregates of provider id and reports
// whether the set changed. The caller decides about the generation.
func (t *Tx) SetProviderAggregates(ctx context.Context, providerID int64, uuids []string) (bool, error) {
	current, err := t.ProviderAggregates(ctx, providerID)
	if err != nil {
		return false, err
	}
	want := map[string]bool{}
	for _, u := range uuids {
		want[u] = true
	}
	have := map[string]bool{}
	var del []string
	for _, u := range current {
		have[u] = true
		if !want[u] {
			del = append(del, u)
		}
	}
	var add []string
	for _, u := range uuids {
		if !have[u] {
			add = append(add, u)
			have[u] = true
		}
	}
	if len(add) == 0 && len(del) == 0 {
		return false, nil
	}
	err = inChunks(del, func(chunk []string) error {
		args := append([]any{providerID}, stringArgs(chunk)...)
		_, err := t.exec(ctx, `DELETE FROM provider_aggregates WHERE provider_id = $1 AND aggregate_id IN
			(SELECT id FROM aggregates WHERE uuid IN (`+placeholders(2, len(chunk))+`))`, args...)
		return err
	})
	if err != nil {
		return false, err
	}
	ids, err := t.ensureAggregates(ctx, add)
	if err != nil {
		return false, err
	}
	err = inChunks(add, func(chunk []string) error {
		args := make([]any, 0, 2*len(chunk))
		for _, u := range chunk {
			args = append(args, providerID, ids[u])
		}
		_, err := t.exec(ctx, `INSERT INTO provider_aggregates (provider_id, aggregate_id) VALUES `+pairs(len(chunk)), args...)
		return err
	})
	if err != nil {
		return false, err
	}
	t.Touch(providerID)
	return true, nil
}

// scanIDs reads (id, uuid) rows into ids, keyed by uuid, and closes them.
func scanIDs(rows *sql.Rows, ids map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			return err
		}
		ids[u] = id
	}
	return rows.Err()
}

// pairs is the VALUES list of n rows of two parameters: ($1, $2), ($3, $4), ...
func pairs(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
	}
	return b.String()
}
