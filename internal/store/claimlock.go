package store

import (
	"context"
	"fmt"
)

// TryLockProviders locks, without waiting, those of the providers named
// by uuid that no other transaction holds, and returns the uuids it
// locked. On PostgreSQL this is FOR UPDATE SKIP LOCKED, and providers that
// do not exist are left out; on SQLite the writer holds the whole file, so
// every uuid is returned without a query (the caller's locking read finds
// out which exist). The atomic claim uses it to pass over candidates that
// a concurrent claim is writing instead of queueing behind it. As it never
// waits it cannot deadlock, whatever the order.
func (t *Tx) TryLockProviders(ctx context.Context, uuids []string) (map[string]bool, error) {
	uuids = uniqueStrings(uuids)
	out := make(map[string]bool, len(uuids))
	lock := t.lockRowsOf("p")
	if lock == "" {
		for _, u := range uuids {
			out[u] = true
		}
		return out, nil
	}
	err := inChunks(uuids, func(chunk []string) error {
		q := `SELECT p.uuid FROM resource_providers p WHERE p.uuid IN (` + placeholders(1, len(chunk)) + `) ORDER BY p.id` + lock + ` SKIP LOCKED`
		rows, err := t.query(ctx, q, stringArgs(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return err
			}
			out[u] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("locking providers without waiting: %w", err)
	}
	return out, nil
}
