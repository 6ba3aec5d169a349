package store

import (
	"context"
	"fmt"
	"strings"

	"allot/internal/model"
)

// Bulk writes: many new rows a statement, for loading a generated cloud
// ("allot bench load") where one statement per row would cost a round
// trip each (minutes at 100,000 providers on PostgreSQL). They add rows
// only and check nothing a service would (capacity, generations): the
// caller writes a consistent cloud, usage counters included.

// bulkParams bounds the parameters of one multi-row INSERT: SQLite looks
// each "$N" up in a list of the statement's parameters, so a statement
// with P of them costs O(P²) to prepare and bind (a 500-row insert of 11
// columns spent most of a load there; 3,000 hosts took 1.4 s of CPU at
// 999 parameters, 0.9 s at 250, 0.8 s at 100), while tens of rows a
// statement still spare PostgreSQL all but a few of its round trips.
const bulkParams = 250

// insertRows runs head + "VALUES (...), (...)" + tail over rows in chunks
// of at most bulkParams parameters, every row with the same number of
// columns; scan, if not nil, reads the rows the statement returns.
func (t *Tx) insertRows(ctx context.Context, head, tail string, rows [][]any, scan func(sc interface{ Scan(...any) error }) error) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(bulkParams/len(rows[0]), 1)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", len(args)+j+1)
			}
			b.WriteString(")")
			args = append(args, row...)
		}
		b.WriteString(tail)
		if err := t.insertChunk(ctx, b.String(), args, scan); err != nil {
			return err
		}
	}
	return nil
}

// insertChunk runs one multi-row INSERT and scans what it returns.
func (t *Tx) insertChunk(ctx context.Context, q string, args []any, scan func(sc interface{ Scan(...any) error }) error) error {
	if scan == nil {
		_, err := t.exec(ctx, q, args...)
		return err
	}
	rs, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := scan(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// CreateProviders inserts new providers (uuid, name, parent, root: a
// provider with a parent names its root, the parent's, which must exist)
// many a statement and returns them with ids, roots and timestamps filled
// in, in the order given. A duplicate uuid or name is a KindConflict
// error, as with CreateProvider.
func (t *Tx) CreateProviders(ctx context.Context, ps []model.Provider) ([]model.Provider, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	rows := make([][]any, len(ps))
	for i, p := range ps {
		var parent any
		if p.ParentID != 0 {
			parent = p.ParentID
		}
		rows[i] = []any{p.UUID, p.Name, int64(0), parent, p.RootID, micros(t.now), micros(t.now)}
	}
	ids := make(map[string]int64, len(ps))
	err := t.insertRows(ctx, `INSERT INTO resource_providers (uuid, name, generation, parent_id, root_id, created_at, updated_at)`,
		` RETURNING id, uuid`, rows, collectIDs(ids))
	if err != nil {
		if t.s.d.uniqueViolation(err) {
			return nil, &model.Error{Kind: model.KindConflict, Code: model.CodeDuplicateName, Message: uniqueColumn(err), Err: err}
		}
		return nil, err
	}
	out := make([]model.Provider, len(ps))
	var roots []int64
	for i, p := range ps {
		id, ok := ids[p.UUID]
		if !ok {
			return nil, fmt.Errorf("provider %s: the insert returned no id", p.UUID)
		}
		p.ID, p.Generation, p.CreatedAt, p.UpdatedAt = id, 0, t.now, t.now
		if p.RootID == 0 {
			p.RootID, p.RootUUID = id, p.UUID
			roots = append(roots, id)
		}
		out[i] = p
		t.Touch(id)
	}
	err = inChunks(roots, func(chunk []int64) error {
		_, err := t.exec(ctx, `UPDATE resource_providers SET root_id = id WHERE id IN (`+placeholders(1, len(chunk))+`)`, int64Args(chunk)...)
		return err
	})
	return out, err
}

// InventoryRow is one new inventory for InsertInventories, its usage
// counter (Inventory.Used) included.
type InventoryRow struct {
	ProviderID, ClassID int64
	Inventory           model.Inventory
}

// InsertInventories adds new inventories, many a statement. An inventory
// that exists already is a KindConflict error.
func (t *Tx) InsertInventories(ctx context.Context, invs []InventoryRow) error {
	if len(invs) == 0 {
		return nil
	}
	rows := make([][]any, len(invs))
	for i, r := range invs {
		inv := r.Inventory
		rows[i] = []any{r.ProviderID, r.ClassID, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize,
			inv.AllocationRatio, inv.Used, micros(t.now), micros(t.now)}
		t.Touch(r.ProviderID)
	}
	err := t.insertRows(ctx, `INSERT INTO inventories (provider_id, resource_class_id, total, reserved, min_unit, max_unit,
		step_size, allocation_ratio, used, created_at, updated_at)`, "", rows, nil)
	if err != nil && t.s.d.uniqueViolation(err) {
		return &model.Error{Kind: model.KindConflict, Code: model.CodeConcurrentUpdate, Message: "an inventory exists already", Err: err}
	}
	return err
}

// ProviderTrait is one trait of one provider.
type ProviderTrait struct{ ProviderID, TraitID int64 }

// AddProviderTraits gives providers traits they do not have yet, many a
// statement. The caller decides about the generations.
func (t *Tx) AddProviderTraits(ctx context.Context, pts []ProviderTrait) error {
	if len(pts) == 0 {
		return nil
	}
	rows := make([][]any, len(pts))
	for i, pt := range pts {
		rows[i] = []any{pt.ProviderID, pt.TraitID}
		t.Touch(pt.ProviderID)
	}
	return t.insertRows(ctx, `INSERT INTO provider_traits (provider_id, trait_id)`, "", rows, nil)
}

// ProviderAggregate is one aggregate (by UUID) of one provider.
type ProviderAggregate struct {
	ProviderID int64
	Aggregate  string
}

// AddProviderAggregates puts providers in aggregates they are not in yet,
// creating the aggregates that do not exist, many rows a statement. The
// caller decides about the generations.
func (t *Tx) AddProviderAggregates(ctx context.Context, pas []ProviderAggregate) error {
	if len(pas) == 0 {
		return nil
	}
	uuids := make([]string, len(pas))
	for i, pa := range pas {
		uuids[i] = pa.Aggregate
	}
	ids, err := t.ensureAggregates(ctx, uniqueStrings(uuids))
	if err != nil {
		return err
	}
	rows := make([][]any, len(pas))
	for i, pa := range pas {
		rows[i] = []any{pa.ProviderID, ids[pa.Aggregate]}
		t.Touch(pa.ProviderID)
	}
	return t.insertRows(ctx, `INSERT INTO provider_aggregates (provider_id, aggregate_id)`, "", rows, nil)
}

// NewConsumer is a consumer for CreateConsumers.
type NewConsumer struct {
	UUID, ProjectID, UserID, ConsumerType string
	Generation                            int64
}

// CreateConsumers creates new consumers, many a statement, and returns
// their ids by UUID. A consumer that exists already is a KindConflict
// error.
func (t *Tx) CreateConsumers(ctx context.Context, cs []NewConsumer) (map[string]int64, error) {
	ids := make(map[string]int64, len(cs))
	rows := make([][]any, len(cs))
	for i, c := range cs {
		pid, err := t.ensureNamed(ctx, "projects", "external_id", c.ProjectID)
		if err != nil {
			return nil, err
		}
		uid, err := t.ensureNamed(ctx, "users", "external_id", c.UserID)
		if err != nil {
			return nil, err
		}
		var typ any
		if c.ConsumerType != "" {
			id, err := t.ensureNamed(ctx, "consumer_types", "name", c.ConsumerType)
			if err != nil {
				return nil, err
			}
			typ = id
		}
		rows[i] = []any{c.UUID, pid, uid, typ, c.Generation, micros(t.now), micros(t.now)}
	}
	if len(rows) == 0 {
		return ids, nil
	}
	err := t.insertRows(ctx, `INSERT INTO consumers (uuid, project_id, user_id, consumer_type_id, generation, created_at, updated_at)`,
		` RETURNING id, uuid`, rows, collectIDs(ids))
	if err != nil && t.s.d.uniqueViolation(err) {
		return nil, &model.Error{Kind: model.KindConflict, Code: model.CodeConcurrentUpdate, Message: "a consumer exists already", Err: err}
	}
	return ids, err
}

// AllocationRow is one new allocation for InsertAllocations.
type AllocationRow struct{ ProviderID, ConsumerID, ClassID, Used int64 }

// InsertAllocations adds allocation rows, many a statement. The caller
// writes the usage counters (InventoryRow's Inventory.Used, or SetUsed).
func (t *Tx) InsertAllocations(ctx context.Context, as []AllocationRow) error {
	if len(as) == 0 {
		return nil
	}
	rows := make([][]any, len(as))
	for i, a := range as {
		rows[i] = []any{a.ProviderID, a.ConsumerID, a.ClassID, a.Used, micros(t.now), micros(t.now)}
		t.Touch(a.ProviderID)
	}
	return t.insertRows(ctx, `INSERT INTO allocations (provider_id, consumer_id, resource_class_id, used, created_at, updated_at)`, "", rows, nil)
}

// collectIDs scans the (id, uuid) rows an INSERT ... RETURNING id, uuid
// answers into ids, by uuid.
func collectIDs(ids map[string]int64) func(sc interface{ Scan(...any) error }) error {
	return func(sc interface{ Scan(...any) error }) error {
		var id int64
		var u string
		if err := sc.Scan(&id, &u); err != nil {
			return err
		}
		ids[u] = id
		return nil
	}
}
