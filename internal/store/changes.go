package store

import (
	"context"
	"fmt"

	"allot/internal/model"
)

// Changes is what a reader of the store (the candidate index) needs to
// catch up from a revision to the latest, all read in one snapshot.
type Changes struct {
	// Revision is the latest committed revision: the one the changes
	// bring the reader to.
	Revision int64
	// Full says that States holds every provider: the reader had read
	// nothing yet (since 0), or since is older than the change feed keeps.
	// Removed is then empty and the catalogs are set.
	Full bool
	// States are the providers written after since that exist, in id
	// order, with their inventories (and usage), traits and aggregates.
	States []model.ProviderState
	// Removed are the providers written after since that no longer
	// exist (deleted), in id order.
	Removed []int64
	// Global says that the catalogs of resource classes or traits
	// changed; Classes (in the order they were made) and Traits (by
	// name) are then every name in them.
	Global          bool
	Classes, Traits []string
}

// ChangesSince reads what changed after revision since, in one read-only
// snapshot. On PostgreSQL, where replicas share the database and a
// replica catches up before a query when another wrote, the whole read is
// one round trip (changes_postgres.go); SQLite reads it statement by
// statement in process.
func (s *Store) ChangesSince(ctx context.Context, since int64) (Changes, error) {
	if since > 0 && s.d.name() == "postgres" {
		ch, err := s.changesPipelined(ctx, since)
		if err != nil || !ch.Full {
			return ch, err
		}
		// since is older than the change feed keeps: read everything,
		// below.
	}
	var ch Changes
	err := s.Read(ctx, func(tx *Tx) error {
		var err error
		ch, err = tx.changesSince(ctx, since)
		return err
	})
	return ch, err
}

// changesSince is ChangesSince in a read transaction.
func (t *Tx) changesSince(ctx context.Context, since int64) (ch Changes, err error) {
	cur, oldest, err := t.Revision(ctx)
	if err != nil {
		return ch, err
	}
	ch.Revision = cur
	if since == 0 || since < oldest {
		ch.Full, ch.Global = true, true
		if ch.States, err = t.ProviderStates(ctx, nil); err != nil {
			return ch, err
		}
	} else {
		var ids []int64
		if ids, ch.Global, err = t.ChangedProviders(ctx, since, cur); err != nil {
			return ch, err
		}
		// A change of the catalogs alone names no provider: ids is then
		// empty, and ProviderStates(nil) would read every provider.
		if len(ids) > 0 {
			ids = sortedUnique(ids)
			if ch.States, err = t.ProviderStates(ctx, ids); err != nil {
				return ch, err
			}
			ch.Removed = missingFrom(ids, ch.States)
		}
	}
	if ch.Global {
		if ch.Classes, ch.Traits, err = t.catalogNames(ctx); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// catalogNames returns the names of every resource class and trait.
func (t *Tx) catalogNames(ctx context.Context) (classes, traits []string, err error) {
	if classes, err = t.catalog(ctx, catalogQuery("resource_classes", "id", "")); err != nil {
		return nil, nil, err
	}
	if traits, err = t.catalog(ctx, catalogQuery("traits", "name", "")); err != nil {
		return nil, nil, err
	}
	return classes, traits, nil
}

// catalogQuery reads the names of a catalog table in the order orderBy
// (classes by id, as they were made, which the index numbers them by;
// traits by name, as GET /traits lists them); cond, when not empty,
// must hold for any row to come back (the pipelined catch-up reads the
// catalogs only when they changed).
func catalogQuery(table, orderBy, cond string) string {
	q := `SELECT name FROM ` + table
	if cond != "" {
		q += ` WHERE ` + cond
	}
	return q + ` ORDER BY ` + orderBy
}

// catalog returns the one text column of q's rows.
func (t *Tx) catalog(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, err := scanNames(rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstWords(q), err)
	}
	return out, nil
}

func scanNames(rows rowScanner) ([]string, error) {
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// missingFrom returns the ids, in id order, that no state has: the
// changed providers that were deleted. Both lists are in id order.
func missingFrom(ids []int64, states []model.ProviderState) []int64 {
	var out []int64
	i := 0
	for _, id := range ids {
		for i < len(states) && states[i].ID < id {
			i++
		}
		if i == len(states) || states[i].ID != id {
			out = append(out, id)
		}
	}
	return out
}
