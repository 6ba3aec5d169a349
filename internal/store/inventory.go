package store

import (
	"context"
	"database/sql"
	"slices"

	"allot/internal/model"
)

func sortInt64s(ids []int64) { slices.Sort(ids) }

const inventoryColumns = `rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio, i.used, i.created_at, i.updated_at`

func scanInventory(sc interface{ Scan(...any) error }) (model.Inventory, error) {
	var inv model.Inventory
	var created, updated sql.NullInt64
	err := sc.Scan(&inv.ResourceClass, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize,
		&inv.AllocationRatio, &inv.Used, &created, &updated)
	inv.CreatedAt, inv.UpdatedAt = fromMicros(created), fromMicros(updated)
	return inv, err
}

// Inventories returns the inventories of provider id (with usage), ordered
// by resource class id.
func (t *Tx) Inventories(ctx context.Context, providerID int64) ([]model.Inventory, error) {
	rows, err := t.query(ctx, `SELECT `+inventoryColumns+` FROM inventories i
		JOIN resource_classes rc ON rc.id = i.resource_class_id WHERE i.provider_id = $1 ORDER BY i.resource_class_id`, providerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Inventory
	for rows.Next() {
		inv, err := scanInventory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InsertInventory adds inventory inv (class id classID) to provider id.
func (t *Tx) InsertInventory(ctx context.Context, providerID, classID int64, inv model.Inventory) error {
	_, err := t.exec(ctx, `INSERT INTO inventories (provider_id, resource_class_id, total, reserved, min_unit, max_unit,
		step_size, allocation_ratio, used, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)`,
		providerID, classID, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio, micros(t.now))
	if err != nil && t.s.d.uniqueViolation(err) {
		return &model.Error{Kind: model.KindConflict, Code: model.CodeConcurrentUpdate,
			Message: "an inventory of class " + inv.ResourceClass + " already exists on this provider", Err: err}
	}
	if err == nil {
		t.Touch(providerID)
	}
	return err
}

// UpdateInventory changes the fields of an existing inventory (not its
// usage); ok is false if the provider has no inventory of that class.
func (t *Tx) UpdateInventory(ctx context.Context, providerID, classID int64, inv model.Inventory) (bool, error) {
	res, err := t.exec(ctx, `UPDATE inventories SET total = $1, reserved = $2, min_unit = $3, max_unit = $4, step_size = $5,
		allocation_ratio = $6, updated_at = $7 WHERE provider_id = $8 AND resource_class_id = $9`,
		inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio, micros(t.now), providerID, classID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		t.Touch(providerID)
	}
	return n > 0, nil
}

// DeleteInventories removes the inventories of these classes from provider
// id and returns how many rows went.
func (t *Tx) DeleteInventories(ctx context.Context, providerID int64, classIDs []int64) (int64, error) {
	if len(classIDs) == 0 {
		return 0, nil
	}
	args := append([]any{providerID}, int64Args(classIDs)...)
	res, err := t.exec(ctx, `DELETE FROM inventories WHERE provider_id = $1 AND resource_class_id IN (`+placeholders(2, len(classIDs))+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		t.Touch(providerID)
	}
	return n, nil
}

// AllocatedClasses returns the names of the classes, among classIDs, that
// some consumer holds allocations of on provider id, in class id order.
func (t *Tx) AllocatedClasses(ctx context.Context, providerID int64, classIDs []int64) ([]string, error) {
	if len(classIDs) == 0 {
		return nil, nil
	}
	args := append([]any{providerID}, int64Args(classIDs)...)
	rows, err := t.query(ctx, `SELECT rc.name FROM allocations a JOIN resource_classes rc ON rc.id = a.resource_class_id
		WHERE a.provider_id = $1 AND a.resource_class_id IN (`+placeholders(2, len(classIDs))+`) GROUP BY rc.id, rc.name ORDER BY rc.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
