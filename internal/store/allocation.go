package store

import (
	"context"
	"database/sql"

	"allot/internal/model"
)

// ConsumerAllocations returns the allocations of consumer id.
func (t *Tx) ConsumerAllocations(ctx context.Context, consumerID int64) ([]model.Allocation, error) {
	return t.allocations(ctx, `a.consumer_id = $1`, consumerID)
}

// ProviderAllocations returns the allocations held on provider id.
func (t *Tx) ProviderAllocations(ctx context.Context, providerID int64) ([]model.Allocation, error) {
	return t.allocations(ctx, `a.provider_id = $1`, providerID)
}

func (t *Tx) allocations(ctx context.Context, where string, arg any) ([]model.Allocation, error) {
	rows, err := t.query(ctx, `SELECT c.uuid, c.generation, p.id, p.uuid, p.generation, rc.id, rc.name, a.used, a.created_at, a.updated_at
		FROM allocations a
		JOIN consumers c ON c.id = a.consumer_id
		JOIN resource_providers p ON p.id = a.provider_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id
		WHERE `+where+` ORDER BY a.id`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Allocation
	for rows.Next() {
		var a model.Allocation
		var created, updated sql.NullInt64
		if err := rows.Scan(&a.ConsumerUUID, &a.ConsumerGeneration, &a.ProviderID, &a.ProviderUUID, &a.ProviderGeneration,
			&a.ClassID, &a.ResourceClass, &a.Used, &created, &updated); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteConsumerAllocations removes every allocation of consumer id. The
// caller adjusts the usage counters.
func (t *Tx) DeleteConsumerAllocations(ctx context.Context, consumerID int64) error {
	_, err := t.exec(ctx, `DELETE FROM allocations WHERE consumer_id = $1`, consumerID)
	return err
}

// InsertAllocation adds an allocation row. The caller adjusts the usage counters.
func (t *Tx) InsertAllocation(ctx context.Context, providerID, consumerID, classID, used int64) error {
	_, err := t.exec(ctx, `INSERT INTO allocations (provider_id, consumer_id, resource_class_id, used, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, providerID, consumerID, classID, used, micros(t.now))
	return err
}

// InventoryKey names one inventory.
type InventoryKey struct {
	ProviderID int64
	ClassID    int64
}

// LockedInventory is an inventory row with its class id.
type LockedInventory struct {
	model.Inventory
	ClassID int64
}

// InventoriesOf returns the inventories of these providers keyed by
// (provider, class). Callers lock the providers first.
func (t *Tx) InventoriesOf(ctx context.Context, providerIDs []int64) (map[InventoryKey]LockedInventory, error) {
	out := map[InventoryKey]LockedInventory{}
	ids := sortedUnique(providerIDs)
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := t.query(ctx, `SELECT i.provider_id, i.resource_class_id, `+inventoryColumns+` FROM inventories i
			JOIN resource_classes rc ON rc.id = i.resource_class_id WHERE i.provider_id IN (`+placeholders(1, len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k InventoryKey
			var inv model.Inventory
			var created, updated sql.NullInt64
			if err := rows.Scan(&k.ProviderID, &k.ClassID, &inv.ResourceClass, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
				&inv.StepSize, &inv.AllocationRatio, &inv.Used, &created, &updated); err != nil {
				rows.Close()
				return nil, err
			}
			inv.CreatedAt, inv.UpdatedAt = fromMicros(created), fromMicros(updated)
			out[k] = LockedInventory{Inventory: inv, ClassID: k.ClassID}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetUsed writes the maintained usage counter of one inventory.
func (t *Tx) SetUsed(ctx context.Context, k InventoryKey, used int64) error {
	_, err := t.exec(ctx, `UPDATE inventories SET used = $1 WHERE provider_id = $2 AND resource_class_id = $3`, used, k.ProviderID, k.ClassID)
	if err == nil {
		t.Touch(k.ProviderID)
	}
	return err
}

// UsageFilter selects consumers for Usages.
type UsageFilter struct {
	ProjectID string
	UserID    string // optional
	// Everyone sums the consumers of every project and user (ProjectID
	// and UserID are then ignored): the cloud's usage per consumer type.
	Everyone bool
}

// UsageRow is the usage of one class by one consumer type.
type UsageRow struct {
	ConsumerType string // "" for consumers without a type
	Class        string
	Used         int64
}

// Usages sums allocations of the matching consumers per consumer type and
// class, and counts distinct consumers per consumer type.
func (t *Tx) Usages(ctx context.Context, f UsageFilter) (rows []UsageRow, consumers map[string]int64, err error) {
	where := `pj.external_id = $1`
	args := []any{f.ProjectID}
	if f.Everyone {
		where, args = `1 = 1`, nil
	} else if f.UserID != "" {
		where += ` AND us.external_id = $2`
		args = append(args, f.UserID)
	}
	from := ` FROM allocations a
		JOIN consumers c ON c.id = a.consumer_id
		JOIN projects pj ON pj.id = c.project_id
		JOIN users us ON us.id = c.user_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id
		LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
		WHERE ` + where
	rs, err := t.query(ctx, `SELECT COALESCE(ct.name, ''), rc.name, SUM(a.used)`+from+` GROUP BY COALESCE(ct.name, ''), rc.name ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, nil, err
	}
	for rs.Next() {
		var r UsageRow
		if err := rs.Scan(&r.ConsumerType, &r.Class, &r.Used); err != nil {
			rs.Close()
			return nil, nil, err
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	consumers = map[string]int64{}
	rs, err = t.query(ctx, `SELECT COALESCE(ct.name, ''), COUNT(DISTINCT a.consumer_id)`+from+` GROUP BY COALESCE(ct.name, '')`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var typ string
		var n int64
		if err := rs.Scan(&typ, &n); err != nil {
			return nil, nil, err
		}
		consumers[typ] = n
	}
	return rows, consumers, rs.Err()
}
