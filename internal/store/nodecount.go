package store

import (
	"context"
	"database/sql"
	"fmt"

	"allot/internal/model"
)

// CountNodes counts the nodes a project owns or leases (project nil:
// every node), grouped by provision state, power state, maintenance,
// resource class and whether they have an allocation: what the web
// console's summary shows, in one query however many nodes there are. The
// groups come in no particular order.
func (t *Tx) CountNodes(ctx context.Context, project *string) ([]model.NodeCount, error) {
	q := `SELECT provision_state, power_state, maintenance, resource_class, CASE WHEN allocation_id IS NULL THEN 0 ELSE 1 END, COUNT(*) FROM nodes`
	var args []any
	if project != nil {
		q += ` WHERE owner = $1 OR lessee = $1`
		args = append(args, *project)
	}
	q += ` GROUP BY provision_state, power_state, maintenance, resource_class, CASE WHEN allocation_id IS NULL THEN 0 ELSE 1 END`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count nodes: %w", err)
	}
	defer rows.Close()
	var out []model.NodeCount
	for rows.Next() {
		var c model.NodeCount
		var power, class sql.NullString
		var maint, allocated int64
		if err := rows.Scan(&c.ProvisionState, &power, &maint, &class, &allocated, &c.Count); err != nil {
			return nil, fmt.Errorf("count nodes: %w", err)
		}
		c.PowerState, c.ResourceClass = stringPtr(power), stringPtr(class)
		c.Maintenance, c.Allocated = maint != 0, allocated != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountNodeAllocationsByOwner counts the allocations of owner (nil: every
// allocation) by state and owner, so that a caller's policy can be applied
// to each owner's group as to each of its allocations.
func (t *Tx) CountNodeAllocationsByOwner(ctx context.Context, owner *string) ([]model.NodeAllocationCount, error) {
	q := `SELECT state, owner, COUNT(*) FROM node_allocations`
	var args []any
	if owner != nil {
		q += ` WHERE owner = $1`
		args = append(args, *owner)
	}
	q += ` GROUP BY state, owner`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count node allocations: %w", err)
	}
	defer rows.Close()
	var out []model.NodeAllocationCount
	for rows.Next() {
		var c model.NodeAllocationCount
		var o sql.NullString
		if err := rows.Scan(&c.State, &o, &c.Count); err != nil {
			return nil, fmt.Errorf("count node allocations: %w", err)
		}
		c.Owner = stringPtr(o)
		out = append(out, c)
	}
	return out, rows.Err()
}
