package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"allot/internal/model"
)

const nodeColumns = `n.id, n.uuid, n.name, n.driver, n.resource_class, n.provision_state, n.target_provision_state,
	n.power_state, n.target_power_state, n.maintenance, n.maintenance_reason, n.instance_uuid,
	COALESCE(n.allocation_id, 0), COALESCE(a.uuid, ''), n.owner, n.lessee, n.properties, n.extra, n.instance_info,
	n.driver_info, n.attrs, n.last_error, n.provision_updated_at, n.created_at, n.updated_at`

const nodeFrom = ` FROM nodes n LEFT JOIN node_allocations a ON a.id = n.allocation_id`

func nullString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

func stringPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

func jsonText(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func jsonMap(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		json.Unmarshal([]byte(s), &m)
	}
	return m
}

func jsonList(s string) []string {
	var l []string
	if s != "" {
		json.Unmarshal([]byte(s), &l)
	}
	if l == nil {
		l = []string{}
	}
	return l
}

func scanNode(sc interface{ Scan(...any) error }) (model.Node, error) {
	var n model.Node
	var name, rc, tps, ps, tpws, mr, inst, owner, lessee, lastErr sql.NullString
	var maint int64
	var props, extra, ii, di, attrs string
	var provUpd, created, updated sql.NullInt64
	err := sc.Scan(&n.ID, &n.UUID, &name, &n.Driver, &rc, &n.ProvisionState, &tps, &ps, &tpws, &maint, &mr, &inst,
		&n.AllocationID, &n.AllocationUUID, &owner, &lessee, &props, &extra, &ii, &di, &attrs, &lastErr, &provUpd, &created, &updated)
	if err != nil {
		return n, err
	}
	n.Name, n.ResourceClass, n.TargetProvisionState = stringPtr(name), stringPtr(rc), stringPtr(tps)
	n.PowerState, n.TargetPowerState, n.MaintenanceReason = stringPtr(ps), stringPtr(tpws), stringPtr(mr)
	n.InstanceUUID, n.Owner, n.Lessee, n.LastError = stringPtr(inst), stringPtr(owner), stringPtr(lessee), stringPtr(lastErr)
	n.Maintenance = maint != 0
	n.Properties, n.Extra, n.InstanceInfo, n.DriverInfo, n.Attrs = jsonMap(props), jsonMap(extra), jsonMap(ii), jsonMap(di), jsonMap(attrs)
	n.ProvisionUpdatedAt, n.CreatedAt, n.UpdatedAt = fromMicros(provUpd), fromMicros(created), fromMicros(updated)
	return n, nil
}

func (t *Tx) nodes(ctx context.Context, where string, args ...any) ([]model.Node, error) {
	rows, err := t.query(ctx, `SELECT `+nodeColumns+nodeFrom+` `+where, args...)
	if err != nil {
		return nil, err
	}
	var out []model.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, t.fillNodeTraits(ctx, out)
}

func (t *Tx) fillNodeTraits(ctx context.Context, nodes []model.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(nodes))
	ids := make([]int64, len(nodes))
	for i, n := range nodes {
		idx[n.ID] = i
		ids[i] = n.ID
		nodes[i].Traits = []string{}
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := t.query(ctx, `SELECT node_id, trait FROM node_traits WHERE node_id IN (`+placeholders(1, len(chunk))+`) ORDER BY node_id, trait`, int64Args(chunk)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var tr string
			if err := rows.Scan(&id, &tr); err != nil {
				rows.Close()
				return err
			}
			i := idx[id]
			nodes[i].Traits = append(nodes[i].Traits, tr)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// NodeBy returns the node whose column (uuid, name or id) equals value;
// ok is false if none. With lock its row stays locked until the end of a
// write transaction.
func (t *Tx) NodeBy(ctx context.Context, column string, value any, lock bool) (n model.Node, ok bool, err error) {
	switch column {
	case "uuid", "name", "id", "instance_uuid":
	default:
		return n, false, fmt.Errorf("NodeBy: bad column %q", column)
	}
	where := `WHERE n.` + column + ` = $1`
	if lock {
		where += t.lockRowsOf("n")
	}
	ns, err := t.nodes(ctx, where, value)
	if err != nil || len(ns) == 0 {
		return n, false, err
	}
	return ns[0], true, nil
}

// nodeSortColumns are the columns nodes may be sorted by.
var nodeSortColumns = map[string]bool{"id": true, "uuid": true, "name": true, "created_at": true, "updated_at": true,
	"provision_state": true, "resource_class": true, "driver": true, "power_state": true, "maintenance": true,
	"instance_uuid": true, "owner": true, "lessee": true, "provision_updated_at": true, "target_provision_state": true}

// NodeSortable reports whether nodes may be sorted by key.
func NodeSortable(key string) bool { return nodeSortColumns[key] }

// ListNodes returns the nodes matching f.
func (t *Tx) ListNodes(ctx context.Context, f model.NodeFilter) ([]model.Node, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ResourceClass != nil {
		conds = append(conds, "n.resource_class = "+arg(*f.ResourceClass))
	}
	if f.ProvisionState != nil {
		conds = append(conds, "n.provision_state = "+arg(*f.ProvisionState))
	}
	if f.Maintenance != nil {
		conds = append(conds, "n.maintenance = "+arg(boolInt(*f.Maintenance)))
	}
	if f.Associated != nil {
		if *f.Associated {
			conds = append(conds, "n.instance_uuid IS NOT NULL")
		} else {
			conds = append(conds, "n.instance_uuid IS NULL")
		}
	}
	if f.Owner != nil {
		conds = append(conds, "n.owner = "+arg(*f.Owner))
	}
	if f.Lessee != nil {
		conds = append(conds, "n.lessee = "+arg(*f.Lessee))
	}
	if f.Project != nil {
		p := arg(*f.Project)
		conds = append(conds, "(n.owner = "+p+" OR n.lessee = "+p+")")
	}
	if f.Driver != nil {
		conds = append(conds, "n.driver = "+arg(*f.Driver))
	}
	if f.InstanceUUID != nil {
		conds = append(conds, "n.instance_uuid = "+arg(*f.InstanceUUID))
	}
	key := f.SortKey
	if key == "" || !nodeSortColumns[key] {
		key = "id"
	}
	dir, cmp := "ASC", ">"
	if f.SortDesc {
		dir, cmp = "DESC", "<"
	}
	if f.MarkerID != 0 {
		// Rows after the marker in (key, id) order.
		conds = append(conds, fmt.Sprintf("(n.%[1]s %[2]s (SELECT %[1]s FROM nodes WHERE id = %[3]s) OR (n.%[1]s = (SELECT %[1]s FROM nodes WHERE id = %[3]s) AND n.id %[2]s %[3]s))",
			key, cmp, arg(f.MarkerID)))
	}
	q := ""
	if len(conds) > 0 {
		q = "WHERE " + strings.Join(conds, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY n.%s %s, n.id %s", key, dir, dir)
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return t.nodes(ctx, q, args...)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nodeConflict words unique violations of the nodes table.
func (t *Tx) nodeConflict(err error, n *model.Node) error {
	if !t.s.d.uniqueViolation(err) {
		return err
	}
	col := uniqueColumn(err)
	switch {
	case strings.Contains(col, "name") && n.Name != nil:
		return model.Conflict("A node with name %s already exists.", *n.Name)
	case strings.Contains(col, "instance"):
		return model.Conflict("Instance %s is already associated with a node.", deref(n.InstanceUUID))
	default:
		return model.Conflict("A node with UUID %s already exists.", n.UUID)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateNode inserts a node (and its traits) and returns its id.
func (t *Tx) CreateNode(ctx context.Context, n model.Node) (int64, error) {
	var id int64
	err := t.queryRow(ctx, `INSERT INTO nodes (uuid, name, driver, resource_class, provision_state, target_provision_state,
		power_state, target_power_state, maintenance, maintenance_reason, instance_uuid, owner, lessee, properties, extra,
		instance_info, driver_info, attrs, last_error, provision_updated_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, NULL) RETURNING id`,
		n.UUID, nullString(n.Name), n.Driver, nullString(n.ResourceClass), n.ProvisionState, nullString(n.TargetProvisionState),
		nullString(n.PowerState), nullString(n.TargetPowerState), boolInt(n.Maintenance), nullString(n.MaintenanceReason),
		nullString(n.InstanceUUID), nullString(n.Owner), nullString(n.Lessee), jsonText(n.Properties), jsonText(n.Extra),
		jsonText(n.InstanceInfo), jsonText(n.DriverInfo), jsonText(n.Attrs), nullString(n.LastError), nullMicros(n.ProvisionUpdatedAt), micros(t.now)).Scan(&id)
	if err != nil {
		return 0, t.nodeConflict(err, &n)
	}
	return id, t.setNodeTraits(ctx, id, n.Traits)
}

func nullMicros(tm time.Time) any {
	if tm.IsZero() {
		return nil
	}
	return tm.UnixMicro()
}

// UpdateNode writes every field of n (traits included).
func (t *Tx) UpdateNode(ctx context.Context, n model.Node) error {
	var alloc any
	if n.AllocationID != 0 {
		alloc = n.AllocationID
	}
	_, err := t.exec(ctx, `UPDATE nodes SET uuid = $1, name = $2, driver = $3, resource_class = $4, provision_state = $5,
		target_provision_state = $6, power_state = $7, target_power_state = $8, maintenance = $9, maintenance_reason = $10,
		instance_uuid = $11, allocation_id = $12, owner = $13, lessee = $14, properties = $15, extra = $16, instance_info = $17,
		driver_info = $18, attrs = $19, last_error = $20, provision_updated_at = $21, updated_at = $22 WHERE id = $23`,
		n.UUID, nullString(n.Name), n.Driver, nullString(n.ResourceClass), n.ProvisionState, nullString(n.TargetProvisionState),
		nullString(n.PowerState), nullString(n.TargetPowerState), boolInt(n.Maintenance), nullString(n.MaintenanceReason),
		nullString(n.InstanceUUID), alloc, nullString(n.Owner), nullString(n.Lessee), jsonText(n.Properties), jsonText(n.Extra),
		jsonText(n.InstanceInfo), jsonText(n.DriverInfo), jsonText(n.Attrs), nullString(n.LastError), nullMicros(n.ProvisionUpdatedAt),
		micros(t.now), n.ID)
	if err != nil {
		return t.nodeConflict(err, &n)
	}
	return t.setNodeTraits(ctx, n.ID, n.Traits)
}

func (t *Tx) setNodeTraits(ctx context.Context, id int64, traits []string) error {
	if _, err := t.exec(ctx, `DELETE FROM node_traits WHERE node_id = $1`, id); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, tr := range traits {
		if seen[tr] {
			continue
		}
		seen[tr] = true
		if _, err := t.exec(ctx, `INSERT INTO node_traits (node_id, trait) VALUES ($1, $2)`, id, tr); err != nil {
			return err
		}
	}
	return nil
}

// DeleteNode removes a node and its traits.
func (t *Tx) DeleteNode(ctx context.Context, id int64) error {
	if _, err := t.exec(ctx, `DELETE FROM node_traits WHERE node_id = $1`, id); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM nodes WHERE id = $1`, id)
	return err
}
