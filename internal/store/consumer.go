package store

import (
	"context"
	"database/sql"
	"errors"

	"allot/internal/model"
)

const consumerColumns = `c.id, c.uuid, pj.external_id, us.external_id, COALESCE(ct.name, ''), c.generation, c.created_at, c.updated_at`

const consumerFrom = ` FROM consumers c
	JOIN projects pj ON pj.id = c.project_id
	JOIN users us ON us.id = c.user_id
	LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id`

func scanConsumer(sc interface{ Scan(...any) error }) (model.Consumer, error) {
	var c model.Consumer
	var created, updated sql.NullInt64
	err := sc.Scan(&c.ID, &c.UUID, &c.ProjectID, &c.UserID, &c.ConsumerType, &c.Generation, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, err
}

// Consumer returns the consumer with that uuid; ok is false if none. With
// lock, its row is locked until the end of a write transaction.
func (t *Tx) Consumer(ctx context.Context, uuid string, lock bool) (c model.Consumer, ok bool, err error) {
	q := `SELECT ` + consumerColumns + consumerFrom + ` WHERE c.uuid = $1`
	if lock {
		q += t.lockRowsOf("c")
	}
	c, err = scanConsumer(t.queryRow(ctx, q, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// ConsumersByUUID returns the consumers with these uuids that exist,
// keyed by uuid, in one statement per chunk of uuids.
func (t *Tx) ConsumersByUUID(ctx context.Context, uuids []string) (map[string]model.Consumer, error) {
	out := make(map[string]model.Consumer, len(uuids))
	err := inChunks(uuids, func(chunk []string) error {
		rows, err := t.query(ctx, `SELECT `+consumerColumns+consumerFrom+` WHERE c.uuid IN (`+placeholders(1, len(chunk))+`)`, stringArgs(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanConsumer(rows)
			if err != nil {
				return err
			}
			out[c.UUID] = c
		}
		return rows.Err()
	})
	return out, err
}

// ensureNamed returns the id of an external name in a lookup table
// (projects, users, consumer_types), creating it if needed.
//
// These rows are never deleted, so ids are cached per store once a
// transaction that saw them commits (see Store.names).
func (t *Tx) ensureNamed(ctx context.Context, table, column, value string) (int64, error) {
	key := nameKey{table, value}
	if id, ok := t.s.names.get(key); ok {
		return id, nil
	}
	if id, ok := t.names[key]; ok {
		return id, nil
	}
	var id int64
	err := t.queryRow(ctx, `SELECT id FROM `+table+` WHERE `+column+` = $1`, value).Scan(&id)
	if err == nil {
		t.rememberName(key, id)
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	extra, vals := "", "$1"
	args := []any{value}
	if table == "consumer_types" {
		extra, vals = ", created_at", "$1, $2"
		args = append(args, micros(t.now))
	}
	_, err = t.exec(ctx, `INSERT INTO `+table+` (`+column+extra+`) VALUES (`+vals+`) ON CONFLICT (`+column+`) DO NOTHING`, args...)
	if err != nil {
		return 0, err
	}
	err = t.queryRow(ctx, `SELECT id FROM `+table+` WHERE `+column+` = $1`, value).Scan(&id)
	if err == nil {
		t.rememberName(key, id)
	}
	return id, err
}

// CreateConsumer creates a consumer with the given generation and returns
// it. created is false if a concurrent writer created it first; the caller
// then re-reads it.
func (t *Tx) CreateConsumer(ctx context.Context, uuid, project, user, consumerType string, generation int64) (c model.Consumer, created bool, err error) {
	pid, err := t.ensureNamed(ctx, "projects", "external_id", project)
	if err != nil {
		return c, false, err
	}
	uid, err := t.ensureNamed(ctx, "users", "external_id", user)
	if err != nil {
		return c, false, err
	}
	var typ any
	if consumerType != "" {
		id, err := t.ensureNamed(ctx, "consumer_types", "name", consumerType)
		if err != nil {
			return c, false, err
		}
		typ = id
	}
	err = t.queryRow(ctx, `INSERT INTO consumers (uuid, project_id, user_id, consumer_type_id, generation, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (uuid) DO NOTHING RETURNING id`, uuid, pid, uid, typ, generation, micros(t.now)).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	c.UUID, c.ProjectID, c.UserID, c.ConsumerType, c.Generation = uuid, project, user, consumerType, generation
	c.CreatedAt, c.UpdatedAt = t.now, t.now
	return c, true, nil
}

// UpdateConsumer sets a consumer's project, user and (when consumerType is
// not empty) type, and bumps its generation from expected.
func (t *Tx) UpdateConsumer(ctx context.Context, c model.Consumer, project, user, consumerType string) (model.Consumer, error) {
	pid, err := t.ensureNamed(ctx, "projects", "external_id", project)
	if err != nil {
		return c, err
	}
	uid, err := t.ensureNamed(ctx, "users", "external_id", user)
	if err != nil {
		return c, err
	}
	q := `UPDATE consumers SET project_id = $1, user_id = $2, generation = generation + 1, updated_at = $3`
	args := []any{pid, uid, micros(t.now)}
	if consumerType != "" {
		tid, err := t.ensureNamed(ctx, "consumer_types", "name", consumerType)
		if err != nil {
			return c, err
		}
		q += `, consumer_type_id = $4 WHERE id = $5 AND generation = $6`
		args = append(args, tid, c.ID, c.Generation)
		c.ConsumerType = consumerType
	} else {
		q += ` WHERE id = $4 AND generation = $5`
		args = append(args, c.ID, c.Generation)
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return c, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return c, model.Conflict("consumer generation conflict - the consumer %s changed concurrently; retry", c.UUID).WithCode(model.CodeConcurrentUpdate)
	}
	c.ProjectID, c.UserID = project, user
	c.Generation++
	c.UpdatedAt = t.now
	return c, nil
}

// DeleteConsumer removes a consumer record (its allocations must be gone).
func (t *Tx) DeleteConsumer(ctx context.Context, id int64) error {
	_, err := t.exec(ctx, `DELETE FROM consumers WHERE id = $1`, id)
	return err
}
