package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetAllocationFailure records why the allocation with id allocID failed
// (a JSON document, replacing any earlier one), after pruning the records
// of allocations that no longer exist.
func (t *Tx) SetAllocationFailure(ctx context.Context, allocID int64, failure []byte) error {
	if _, err := t.exec(ctx, `DELETE FROM node_allocation_failures
		WHERE allocation_id = $1 OR allocation_id NOT IN (SELECT id FROM node_allocations)`, allocID); err != nil {
		return fmt.Errorf("pruning allocation failures: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO node_allocation_failures (allocation_id, failure) VALUES ($1, $2)`,
		allocID, string(failure)); err != nil {
		return fmt.Errorf("recording the failure of allocation %d: %w", allocID, err)
	}
	return nil
}

// AllocationFailure reads what SetAllocationFailure recorded for the
// allocation with id allocID; ok is false when nothing was.
func (t *Tx) AllocationFailure(ctx context.Context, allocID int64) (failure []byte, ok bool, err error) {
	var doc string
	err = t.queryRow(ctx, `SELECT failure FROM node_allocation_failures WHERE allocation_id = $1`, allocID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the failure of allocation %d: %w", allocID, err)
	}
	return []byte(doc), true, nil
}
