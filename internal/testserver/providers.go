package testserver

import (
	"context"
	"fmt"

	"allot/internal/model"
	"allot/internal/store"
)

// ProviderWriter creates providers, each with its inventories, traits and
// aggregates, in one write transaction: for benchmarks that build a cloud
// of their own shape straight through the store (cloudgen builds the
// shapes of allot bench load). Provider i (from 1) has UUID and name
// uuidPrefix followed by i in 12 hexadecimal digits.
type ProviderWriter struct {
	tx              *store.Tx
	uuidPrefix      string
	classes, traits map[string]int64
	n               int
}

// NewProviderWriter returns a writer into tx whose providers may have
// inventories of classes and the traits named, all of which must exist.
func NewProviderWriter(ctx context.Context, tx *store.Tx, uuidPrefix string, classes, traits []string) (*ProviderWriter, error) {
	classIDs, err := tx.ResourceClassIDs(ctx, classes)
	if err != nil {
		return nil, fmt.Errorf("resource classes %v: %w", classes, err)
	}
	ts, err := tx.Traits(ctx, model.TraitFilter{Names: traits})
	if err != nil {
		return nil, fmt.Errorf("traits %v: %w", traits, err)
	}
	traitIDs := map[string]int64{}
	for _, t := range ts {
		traitIDs[t.Name] = t.ID
	}
	return &ProviderWriter{tx: tx, uuidPrefix: uuidPrefix, classes: classIDs, traits: traitIDs}, nil
}

// Count is the number of providers the writer created.
func (w *ProviderWriter) Count() int { return w.n }

// Add creates the next provider under parent (nil: a root) with invs,
// traits and aggregates (either may be empty).
func (w *ProviderWriter) Add(ctx context.Context, parent *model.Provider, invs []model.Inventory, traits, aggregates []string) (model.Provider, error) {
	w.n++
	u := fmt.Sprintf("%s%012x", w.uuidPrefix, w.n)
	p := model.Provider{UUID: u, Name: u}
	if parent != nil {
		p.ParentID, p.ParentUUID, p.RootID, p.RootUUID = parent.ID, parent.UUID, parent.RootID, parent.RootUUID
	}
	p, err := w.tx.CreateProvider(ctx, p)
	if err != nil {
		return p, fmt.Errorf("create provider %d: %w", w.n, err)
	}
	for _, in := range invs {
		if err := w.tx.InsertInventory(ctx, p.ID, w.classes[in.ResourceClass], in); err != nil {
			return p, fmt.Errorf("inventory %s of provider %d: %w", in.ResourceClass, w.n, err)
		}
	}
	if len(traits) > 0 {
		ids := make([]int64, len(traits))
		for i, t := range traits {
			ids[i] = w.traits[t]
		}
		if _, err := w.tx.SetProviderTraits(ctx, p.ID, ids); err != nil {
			return p, fmt.Errorf("traits of provider %d: %w", w.n, err)
		}
	}
	if len(aggregates) > 0 {
		if _, err := w.tx.SetProviderAggregates(ctx, p.ID, aggregates); err != nil {
			return p, fmt.Errorf("aggregates of provider %d: %w", w.n, err)
		}
	}
	return p, nil
}
