package store

import (
	"context"
	"database/sql"
	"fmt"

	"allot/internal/model"
)

// The reads and repairs of the store audit (allot db check): facts that the
// writers maintain and the audit recomputes, each in one statement.

// AuditInventory is one inventory as the audit sees it: its fields, the
// usage counter the claims maintain (Inventory.Used) and the sum of the
// allocations held against it (Allocated), which the counter must equal.
type AuditInventory struct {
	ProviderID   int64
	ProviderUUID string
	ProviderName string
	ClassID      int64
	model.Inventory
	Allocated int64
}

// AuditInventories returns every inventory with its counter and the sum of
// its allocations, in provider and class id order.
func (t *Tx) AuditInventories(ctx context.Context) ([]AuditInventory, error) {
	rows, err := t.query(ctx, `SELECT p.id, p.uuid, p.name, i.resource_class_id, `+inventoryColumns+`, COALESCE(s.allocated, 0)
		FROM inventories i
		JOIN resource_providers p ON p.id = i.provider_id
		JOIN resource_classes rc ON rc.id = i.resource_class_id
		LEFT JOIN (SELECT provider_id, resource_class_id, SUM(used) AS allocated FROM allocations
			GROUP BY provider_id, resource_class_id) s
			ON s.provider_id = i.provider_id AND s.resource_class_id = i.resource_class_id
		ORDER BY p.id, i.resource_class_id`)
	if err != nil {
		return nil, fmt.Errorf("audit inventories: %w", err)
	}
	defer rows.Close()
	var out []AuditInventory
	for rows.Next() {
		var a AuditInventory
		var created, updated sql.NullInt64
		if err := rows.Scan(&a.ProviderID, &a.ProviderUUID, &a.ProviderName, &a.ClassID, &a.ResourceClass, &a.Total, &a.Reserved,
			&a.MinUnit, &a.MaxUnit, &a.StepSize, &a.AllocationRatio, &a.Used, &created, &updated, &a.Allocated); err != nil {
			return nil, fmt.Errorf("audit inventories: %w", err)
		}
		a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// StrayAllocation is what consumers hold of a class on a provider that has
// no inventory of that class.
type StrayAllocation struct {
	ProviderUUID string
	ProviderName string
	Class        string
	Allocated    int64
	Consumers    int64
}

// AuditStrayAllocations returns the allocations held against no inventory
// (an inventory is never deleted while allocations use it), summed per
// provider and class.
func (t *Tx) AuditStrayAllocations(ctx context.Context) ([]StrayAllocation, error) {
	rows, err := t.query(ctx, `SELECT p.uuid, p.name, rc.name, SUM(a.used), COUNT(DISTINCT a.consumer_id)
		FROM allocations a
		JOIN resource_providers p ON p.id = a.provider_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id
		LEFT JOIN inventories i ON i.provider_id = a.provider_id AND i.resource_class_id = a.resource_class_id
		WHERE i.provider_id IS NULL
		GROUP BY p.id, p.uuid, p.name, rc.id, rc.name ORDER BY p.id, rc.id`)
	if err != nil {
		return nil, fmt.Errorf("audit allocations without inventory: %w", err)
	}
	defer rows.Close()
	var out []StrayAllocation
	for rows.Next() {
		var s StrayAllocation
		if err := rows.Scan(&s.ProviderUUID, &s.ProviderName, &s.Class, &s.Allocated, &s.Consumers); err != nil {
			return nil, fmt.Errorf("audit allocations without inventory: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AuditEmptyConsumers returns the consumers that hold no allocation: a
// write that leaves a consumer with none deletes it, as Placement does.
func (t *Tx) AuditEmptyConsumers(ctx context.Context) ([]model.Consumer, error) {
	rows, err := t.query(ctx, `SELECT `+consumerColumns+consumerFrom+`
		WHERE NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.id) ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("audit consumers: %w", err)
	}
	defer rows.Close()
	var out []model.Consumer
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, fmt.Errorf("audit consumers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditConsumerAllocations returns the allocations of every consumer of
// the given consumer type, keyed by consumer UUID.
func (t *Tx) AuditConsumerAllocations(ctx context.Context, consumerType string) (map[string][]model.Allocation, error) {
	as, err := t.allocations(ctx, `c.consumer_type_id IN (SELECT id FROM consumer_types WHERE name = $1)`, consumerType)
	if err != nil {
		return nil, fmt.Errorf("audit allocations of %s consumers: %w", consumerType, err)
	}
	out := map[string][]model.Allocation{}
	for _, a := range as {
		out[a.ConsumerUUID] = append(out[a.ConsumerUUID], a)
	}
	return out, nil
}

// RecountUsage sets the usage counter of provider providerID's inventory of
// class classID to the sum of the allocations held against it, with the
// provider locked as a claim locks it (so no claim moves either meanwhile),
// and bumps the provider's generation: the change feed reports it. It
// returns the counter before and after; found is false when the inventory
// is gone.
func (t *Tx) RecountUsage(ctx context.Context, providerID, classID int64) (before, after int64, found bool, err error) {
	if _, err := t.LockProviders(ctx, []int64{providerID}, nil); err != nil {
		return 0, 0, false, err
	}
	err = t.queryRow(ctx, `SELECT used FROM inventories WHERE provider_id = $1 AND resource_class_id = $2`, providerID, classID).Scan(&before)
	if err == sql.ErrNoRows {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("read the usage counter: %w", err)
	}
	if err := t.queryRow(ctx, `SELECT COALESCE(SUM(used), 0) FROM allocations WHERE provider_id = $1 AND resource_class_id = $2`,
		providerID, classID).Scan(&after); err != nil {
		return 0, 0, false, fmt.Errorf("sum the allocations: %w", err)
	}
	if before == after {
		return before, after, true, nil
	}
	if err := t.SetUsed(ctx, InventoryKey{ProviderID: providerID, ClassID: classID}, after); err != nil {
		return 0, 0, false, err
	}
	return before, after, true, t.BumpGenerations(ctx, []int64{providerID})
}

// DeleteEmptyConsumer deletes consumer uuid, locked first, if it still
// holds no allocation; deleted is false when it is gone or holds some.
func (t *Tx) DeleteEmptyConsumer(ctx context.Context, uuid string) (deleted bool, err error) {
	c, ok, err := t.Consumer(ctx, uuid, true)
	if err != nil || !ok {
		return false, err
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM allocations WHERE consumer_id = $1 LIMIT 1) x`, c.ID).Scan(&n); err != nil {
		return false, fmt.Errorf("count the consumer's allocations: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	return true, t.DeleteConsumer(ctx, c.ID)
}
