package placement

import (
	"context"
	"math"
	"slices"
	"strings"

	"allot/internal/model"
	"allot/internal/store"
)

// NodeProvider describes the resource provider that stands for a bare-metal
// node: same UUID, one unit of the node's custom class (reserved while the
// node cannot be allocated), the node's traits.
type NodeProvider struct {
	UUID string
	Name string
	// Class is the Placement class of the node ("" when the node has no
	// resource class: no inventory).
	Class string
	// Reserved withholds the unit from new claims.
	Reserved bool
	Traits   []string
}

// SyncNodeProvider creates or updates the provider of a node inside tx. It
// writes (and bumps the provider generation) only what changed. Inventory of
// a class the node still holds a claim on is kept.
func SyncNodeProvider(ctx context.Context, tx *store.Tx, np NodeProvider) error {
	p, ok, err := tx.ProviderByUUID(ctx, np.UUID, true)
	if err != nil {
		return err
	}
	if !ok {
		if p, err = tx.CreateProvider(ctx, model.Provider{UUID: np.UUID, Name: np.Name}); err != nil {
			if model.IsKind(err, model.KindConflict) {
				return model.Conflict("cannot create the resource provider of node %s: a provider named %s already exists", np.UUID, np.Name)
			}
			return err
		}
	}
	current, err := tx.Inventories(ctx, p.ID)
	if err != nil {
		return err
	}
	want := nodeInventories(np, current)
	if !sameInventories(current, want) {
		// The class exists when the inventory already has it: only a
		// changed inventory may need to create it.
		if np.Class != "" {
			if _, ok, err := tx.ResourceClass(ctx, np.Class); err != nil {
				return err
			} else if !ok {
				if _, err := tx.CreateResourceClass(ctx, np.Class); err != nil && !model.IsKind(err, model.KindConflict) {
					return err
				}
			}
		}
		invs := make([]model.Inventory, 0, len(want))
		for _, inv := range want {
			invs = append(invs, inv)
		}
		if err := setInventories(ctx, tx, &p, invs, AnyReserved); err != nil {
			return err
		}
	}
	for _, t := range np.Traits {
		if model.IsCustomName(t) {
			if _, _, err := tx.CreateTrait(ctx, t); err != nil {
				return err
			}
		}
	}
	return setProviderTraits(ctx, tx, &p, np.Traits)
}

// nodeInventories is the inventory the provider of a node must have, given
// the inventories it has now (current): one unit of the node's class,
// reserved while the node cannot be allocated, and any other class that a
// claim still holds (kept until it is released).
func nodeInventories(np NodeProvider, current []model.Inventory) map[string]model.Inventory {
	want := map[string]model.Inventory{}
	if np.Class != "" {
		inv := model.Inventory{ResourceClass: np.Class, Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}
		if np.Reserved {
			inv.Reserved = 1
		}
		want[np.Class] = inv
	}
	for _, inv := range current {
		if _, kept := want[inv.ResourceClass]; !kept && inv.Used > 0 {
			want[inv.ResourceClass] = inv // still claimed: keep until released
		}
	}
	return want
}

// NodeProviderAgrees reports whether a node's provider, with inventories
// current and traits, is what SyncNodeProvider would leave it as for np;
// when it is not, want is the inventory it should have. The audit (allot
// db check) asks it, so that the rule stays in one place.
func NodeProviderAgrees(np NodeProvider, current []model.Inventory, traits []string) (ok bool, want []model.Inventory) {
	w := nodeInventories(np, current)
	for _, inv := range w {
		want = append(want, inv)
	}
	slices.SortFunc(want, func(a, b model.Inventory) int { return strings.Compare(a.ResourceClass, b.ResourceClass) })
	have := slices.Clone(traits)
	wantTraits := slices.Clone(np.Traits)
	slices.Sort(have)
	slices.Sort(wantTraits)
	return sameInventories(current, w) && slices.Equal(slices.Compact(have), slices.Compact(wantTraits)), want
}

func sameInventories(current []model.Inventory, want map[string]model.Inventory) bool {
	if len(current) != len(want) {
		return false
	}
	for _, c := range current {
		w, ok := want[c.ResourceClass]
		if !ok || w.Total != c.Total || w.Reserved != c.Reserved || w.MinUnit != c.MinUnit || w.MaxUnit != c.MaxUnit ||
			w.StepSize != c.StepSize || math.Abs(w.AllocationRatio-c.AllocationRatio) > 1e-9 {
			return false
		}
	}
	return true
}

// DeleteNodeProvider removes the provider of a node (its claims must have
// been released). A missing provider is not an error.
func DeleteNodeProvider(ctx context.Context, tx *store.Tx, uuid string) error {
	p, ok, err := tx.ProviderByUUID(ctx, uuid, true)
	if err != nil || !ok {
		return err
	}
	return tx.DeleteProvider(ctx, p.ID)
}

// WriteAllocationsTx is WriteAllocations inside a caller's transaction, for
// services (bare metal) whose claims are part of a larger write.
func WriteAllocationsTx(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations) error {
	return writeAllocations(ctx, tx, reqs, planOptions{})
}

// ReleaseConsumerTx removes every allocation of a consumer (and the
// consumer) inside a caller's transaction, as a write of no allocations
// does; a consumer without allocations is not an error.
func ReleaseConsumerTx(ctx context.Context, tx *store.Tx, consumerUUID string) error {
	return writeAllocations(ctx, tx, []ConsumerAllocations{{ConsumerUUID: consumerUUID}}, planOptions{})
}
