package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"allot/internal/model"
)

const allocColumns = `a.id, a.uuid, a.name, COALESCE(a.node_id, 0), COALESCE(n.uuid, ''), a.state, a.last_error,
	a.resource_class, a.traits, a.candidate_nodes, a.extra, a.owner, COALESCE(a.worker, ''), a.lease_until,
	a.created_at, a.updated_at`

const allocFrom = ` FROM node_allocations a LEFT JOIN nodes n ON n.id = a.node_id`

func scanAllocation(sc interface{ Scan(...any) error }) (model.NodeAllocation, error) {
	var a model.NodeAllocation
	var name, lastErr, owner sql.NullString
	var traits, cands, extra string
	var lease int64
	var created, updated sql.NullInt64
	err := sc.Scan(&a.ID, &a.UUID, &name, &a.NodeID, &a.NodeUUID, &a.State, &lastErr, &a.ResourceClass, &traits, &cands,
		&extra, &owner, &a.Worker, &lease, &created, &updated)
	a.Name, a.LastError, a.Owner = stringPtr(name), stringPtr(lastErr), stringPtr(owner)
	a.Traits, a.CandidateNodes, a.Extra = jsonList(traits), jsonList(cands), jsonMap(extra)
	if lease != 0 {
		a.LeaseUntil = time.UnixMicro(lease).UTC()
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, err
}

func (t *Tx) allocationsWhere(ctx context.Context, where string, args ...any) ([]model.NodeAllocation, error) {
	rows, err := t.query(ctx, `SELECT `+allocColumns+allocFrom+` `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.NodeAllocation
	for rows.Next() {
		a, err := scanAllocation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// NodeAllocationBy returns the allocation whose column (uuid, name, id or
// node_id) equals value; ok is false if none. With lock its row stays
// locked until the end of a write transaction.
func (t *Tx) NodeAllocationBy(ctx context.Context, column string, value any, lock bool) (a model.NodeAllocation, ok bool, err error) {
	switch column {
	case "uuid", "name", "id", "node_id":
	default:
		return a, false, fmt.Errorf("NodeAllocationBy: bad column %q", column)
	}
	where := `WHERE a.` + column + ` = $1`
	if lock {
		where += t.lockRowsOf("a")
	}
	as, err := t.allocationsWhere(ctx, where, value)
	if err != nil || len(as) == 0 {
		return a, false, err
	}
	return as[0], true, nil
}

var allocSortColumns = map[string]bool{"id": true, "uuid": true, "name": true, "created_at": true, "updated_at": true,
	"state": true, "resource_class": true, "node_id": true}

// AllocationSortable reports whether allocations may be sorted by key.
func AllocationSortable(key string) bool { return allocSortColumns[key] }

// ListNodeAllocations returns the allocations matching f.
func (t *Tx) ListNodeAllocations(ctx context.Context, f model.NodeAllocationFilter) ([]model.NodeAllocation, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.NodeID != nil {
		conds = append(conds, "a.node_id = "+arg(*f.NodeID))
	}
	if f.ResourceClass != nil {
		conds = append(conds, "a.resource_class = "+arg(*f.ResourceClass))
	}
	if f.State != nil {
		conds = append(conds, "a.state = "+arg(*f.State))
	}
	if f.Owner != nil {
		conds = append(conds, "a.owner = "+arg(*f.Owner))
	}
	key := f.SortKey
	if !allocSortColumns[key] {
		key = "id"
	}
	dir, cmp := "ASC", ">"
	if f.SortDesc {
		dir, cmp = "DESC", "<"
	}
	if f.MarkerID != 0 {
		conds = append(conds, fmt.Sprintf("(a.%[1]s %[2]s (SELECT %[1]s FROM node_allocations WHERE id = %[3]s) OR (a.%[1]s = (SELECT %[1]s FROM node_allocations WHERE id = %[3]s) AND a.id %[2]s %[3]s))",
			key, cmp, arg(f.MarkerID)))
	}
	q := ""
	if len(conds) > 0 {
		q = "WHERE " + strings.Join(conds, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY a.%s %s, a.id %s", key, dir, dir)
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return t.allocationsWhere(ctx, q, args...)
}

// allocationConflict words unique violations of node_allocations.
func (t *Tx) allocationConflict(err error, a *model.NodeAllocation) error {
	if !t.s.d.uniqueViolation(err) {
		return err
	}
	if strings.Contains(uniqueColumn(err), "name") && a.Name != nil {
		return model.Conflict("An allocation with name %s already exists.", *a.Name)
	}
	return model.Conflict("An allocation with UUID %s already exists.", a.UUID)
}

// CreateNodeAllocation inserts an allocation and returns its id.
func (t *Tx) CreateNodeAllocation(ctx context.Context, a model.NodeAllocation) (int64, error) {
	var node any
	if a.NodeID != 0 {
		node = a.NodeID
	}
	var id int64
	err := t.queryRow(ctx, `INSERT INTO node_allocations (uuid, name, node_id, state, last_error, resource_class, traits,
		candidate_nodes, extra, owner, worker, lease_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, 0, $11, $12) RETURNING id`,
		a.UUID, nullString(a.Name), node, a.State, nullString(a.LastError), a.ResourceClass, listText(a.Traits),
		listText(a.CandidateNodes), jsonText(a.Extra), nullString(a.Owner), micros(t.now), nullMicros(a.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, t.allocationConflict(err, &a)
	}
	return id, nil
}

func listText(l []string) string {
	if l == nil {
		l = []string{}
	}
	return jsonText(l)
}

// UpdateNodeAllocation writes the mutable fields of a.
func (t *Tx) UpdateNodeAllocation(ctx context.Context, a model.NodeAllocation) error {
	var node any
	if a.NodeID != 0 {
		node = a.NodeID
	}
	var worker any
	if a.Worker != "" {
		worker = a.Worker
	}
	var lease int64
	if !a.LeaseUntil.IsZero() {
		lease = a.LeaseUntil.UnixMicro()
	}
	_, err := t.exec(ctx, `UPDATE node_allocations SET name = $1, node_id = $2, state = $3, last_error = $4, extra = $5,
		worker = $6, lease_until = $7, updated_at = $8 WHERE id = $9`,
		nullString(a.Name), node, a.State, nullString(a.LastError), jsonText(a.Extra), worker, lease, micros(t.now), a.ID)
	if err != nil {
		return t.allocationConflict(err, &a)
	}
	return nil
}

// DeleteNodeAllocation removes an allocation row.
func (t *Tx) DeleteNodeAllocation(ctx context.Context, id int64) error {
	_, err := t.exec(ctx, `DELETE FROM node_allocations WHERE id = $1`, id)
	return err
}

// CountNodeAllocations counts the allocations by state, and those in state
// allocating that no live worker holds at now (none, or its lease
// expired: what ClaimPendingAllocation would pick).
func (t *Tx) CountNodeAllocations(ctx context.Context, now time.Time) (byState map[string]int64, queued int64, err error) {
	rows, err := t.query(ctx, `SELECT state, COUNT(*),
		SUM(CASE WHEN state = $1 AND (worker IS NULL OR lease_until < $2) THEN 1 ELSE 0 END)
		FROM node_allocations GROUP BY state`, model.AllocAllocating, now.UnixMicro())
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	byState = map[string]int64{}
	for rows.Next() {
		var state string
		var n, q int64
		if err := rows.Scan(&state, &n, &q); err != nil {
			return nil, 0, fmt.Errorf("count node allocations: %w", err)
		}
		byState[state], queued = n, queued+q
	}
	return byState, queued, rows.Err()
}

// ClaimPendingAllocation picks one allocation in state allocating that no
// live worker holds (none, or its lease expired), leases it to worker until
// leaseUntil and returns it; ok is false when there is none. On PostgreSQL
// concurrent workers skip each other's rows (FOR UPDATE SKIP LOCKED).
func (t *Tx) ClaimPendingAllocation(ctx context.Context, worker string, now, leaseUntil time.Time) (a model.NodeAllocation, ok bool, err error) {
	skip := ""
	if t.s.d.name() == "postgres" {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var id int64
	err = t.queryRow(ctx, `SELECT id FROM node_allocations WHERE state = $1 AND (worker IS NULL OR lease_until < $2)
		ORDER BY id LIMIT 1`+skip, model.AllocAllocating, now.UnixMicro()).Scan(&id)
	if err == sql.ErrNoRows {
		return a, false, nil
	}
	if err != nil {
		return a, false, err
	}
	if _, err := t.exec(ctx, `UPDATE node_allocations SET worker = $1, lease_until = $2 WHERE id = $3`,
		worker, leaseUntil.UnixMicro(), id); err != nil {
		return a, false, err
	}
	return t.NodeAllocationBy(ctx, "id", id, false)
}
