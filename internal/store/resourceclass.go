package store

import (
	"context"
	"database/sql"
	"errors"

	"allot/internal/model"
)

func scanResourceClass(sc interface{ Scan(...any) error }) (model.ResourceClass, error) {
	var rc model.ResourceClass
	var created, updated sql.NullInt64
	err := sc.Scan(&rc.ID, &rc.Name, &created, &updated)
	rc.CreatedAt, rc.UpdatedAt = fromMicros(created), fromMicros(updated)
	return rc, err
}

// ResourceClasses returns every resource class, standard ones first, by id.
func (t *Tx) ResourceClasses(ctx context.Context) ([]model.ResourceClass, error) {
	rows, err := t.query(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.ResourceClass
	for rows.Next() {
		rc, err := scanResourceClass(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

// ResourceClass returns the class with that name; ok is false if none.
func (t *Tx) ResourceClass(ctx context.Context, name string) (rc model.ResourceClass, ok bool, err error) {
	rc, err = scanResourceClass(t.queryRow(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return rc, false, nil
	}
	return rc, err == nil, err
}

// ResourceClassIDs maps the given class names to ids; unknown names are
// missing from the map.
func (t *Tx) ResourceClassIDs(ctx context.Context, names []string) (map[string]int64, error) {
	out := make(map[string]int64, len(names))
	// Standard classes have fixed ids (seeded by the migrations, never
	// deleted): only custom names need the table.
	var custom []string
	for _, n := range names {
		if id, ok := model.StandardResourceClassID(n); ok {
			out[n] = int64(id)
		} else {
			custom = append(custom, n)
		}
	}
	if len(custom) == 0 {
		return out, nil
	}
	err := inChunks(custom, func(chunk []string) error {
		rows, err := t.query(ctx, `SELECT id, name FROM resource_classes WHERE name IN (`+placeholders(1, len(chunk))+`)`, stringArgs(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			out[name] = id
		}
		return rows.Err()
	})
	return out, err
}

// CreateResourceClass adds a custom class with the next free custom id. It
// returns a KindConflict error if the name exists.
func (t *Tx) CreateResourceClass(ctx context.Context, name string) (model.ResourceClass, error) {
	// Serialise custom-id allocation with every other writer of this table.
	if _, err := t.exec(ctx, `UPDATE meta SET revision = revision WHERE id = 1`); err != nil {
		return model.ResourceClass{}, err
	}
	if _, ok, err := t.ResourceClass(ctx, name); err != nil {
		return model.ResourceClass{}, err
	} else if ok {
		return model.ResourceClass{}, model.Conflict("resource class %s already exists", name).WithCode(model.CodeDuplicateName)
	}
	var id int64
	if err := t.queryRow(ctx, `SELECT COALESCE(MAX(id), $1) + 1 FROM resource_classes WHERE id >= $2`,
		model.CustomResourceClassMinID-1, model.CustomResourceClassMinID).Scan(&id); err != nil {
		return model.ResourceClass{}, err
	}
	if _, err := t.exec(ctx, `INSERT INTO resource_classes (id, name, created_at) VALUES ($1, $2, $3)`, id, name, micros(t.now)); err != nil {
		if t.s.d.uniqueViolation(err) {
			return model.ResourceClass{}, model.Conflict("resource class %s already exists", name).WithCode(model.CodeDuplicateName)
		}
		return model.ResourceClass{}, err
	}
	t.TouchGlobal()
	return model.ResourceClass{ID: id, Name: name, CreatedAt: t.now}, nil
}

// RenameResourceClass gives class id a new name.
func (t *Tx) RenameResourceClass(ctx context.Context, id int64, name string) (model.ResourceClass, error) {
	_, err := t.exec(ctx, `UPDATE resource_classes SET name = $1, updated_at = $2 WHERE id = $3`, name, micros(t.now), id)
	if err != nil {
		if t.s.d.uniqueViolation(err) {
			return model.ResourceClass{}, model.Conflict("resource class %s already exists", name).WithCode(model.CodeDuplicateName)
		}
		return model.ResourceClass{}, err
	}
	t.TouchGlobal()
	return scanResourceClass(t.queryRow(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes WHERE id = $1`, id))
}

// ResourceClassInUse reports whether any inventory uses class id.
func (t *Tx) ResourceClassInUse(ctx context.Context, id int64) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM inventories WHERE resource_class_id = $1 LIMIT 1) x`, id).Scan(&n)
	return n > 0, err
}

// DeleteResourceClass removes class id.
func (t *Tx) DeleteResourceClass(ctx context.Context, id int64) error {
	_, err := t.exec(ctx, `DELETE FROM resource_classes WHERE id = $1`, id)
	if err == nil {
		t.TouchGlobal()
	}
	return err
}
