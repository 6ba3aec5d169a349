package placement

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"allot/internal/model"
	"allot/internal/store"
)

// ProviderResources is a consumer's request on one provider.
type ProviderResources struct {
	ProviderUUID string
	Resources    []ClassAmount
}

// ClassAmount is an amount of one resource class.
type ClassAmount struct {
	Class  string
	Amount int64
}

// ConsumerAllocations is what one consumer asks to hold: its allocations
// replace whatever it held before; no allocations means "release all".
type ConsumerAllocations struct {
	ConsumerUUID string
	// ProjectID and UserID are empty when an old microversion did not send
	// them (the incomplete-consumer placeholders are used then).
	ProjectID, UserID string
	// ConsumerType is empty when not given (before 1.38).
	ConsumerType string
	// CheckGeneration requires ConsumerGeneration to match (1.28+): nil means
	// "the consumer must not exist yet".
	CheckGeneration    bool
	ConsumerGeneration *int64
	Allocations        []ProviderResources
}

// WriteOptions words errors as the calling endpoint does.
type WriteOptions struct {
	// SingleConsumer is set for PUT /allocations/{consumer}.
	SingleConsumer bool
	// Reshape is set for POST /reshaper.
	Reshape bool
}

// ConsumerView is a consumer's allocations as GET /allocations/{c} shows them.
type ConsumerView struct {
	Consumer    model.Consumer
	Exists      bool
	Allocations []store.ProviderAllocation
}

// GetConsumerAllocations returns what a consumer holds (nothing for an
// unknown consumer).
func (s *Service) GetConsumerAllocations(ctx context.Context, consumerUUID string) (ConsumerView, error) {
	var out ConsumerView
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		c, ok, err := tx.Consumer(ctx, consumerUUID, false)
		if err != nil || !ok {
			return err
		}
		out.Consumer, out.Exists = c, true
		out.Allocations, err = tx.ConsumerAllocations(ctx, c.ID)
		return err
	})
	return out, err
}

// ProviderAllocationsView is the allocations held on one provider.
type ProviderAllocationsView struct {
	Provider    model.Provider
	Allocations []store.ProviderAllocation
}

// GetProviderAllocations returns every allocation held on a provider.
func (s *Service) GetProviderAllocations(ctx context.Context, providerUUID string) (ProviderAllocationsView, error) {
	var out ProviderAllocationsView
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		p, ok, err := tx.ProviderByUUID(ctx, providerUUID, false)
		if err != nil {
			return err
		}
		if !ok {
			return model.NotFound("Resource provider '%s' not found: No resource provider with uuid %s found", providerUUID, providerUUID)
		}
		out.Provider = p
		out.Allocations, err = tx.ProviderAllocations(ctx, p.ID)
		return err
	})
	return out, err
}

// ProviderUsages returns a provider with its inventories (whose Used is the
// provider's usage of each class).
func (s *Service) ProviderUsages(ctx context.Context, providerUUID string) (ProviderInventories, error) {
	return s.GetInventories(ctx, providerUUID)
}

// WriteAllocations replaces the allocations of every consumer in reqs in
// one transaction, with Placement's rules: consumer generations, providers
// and classes that exist, min/max/step per record, and used + amount within
// capacity unless the write does not worsen an existing over-commit.
func (s *Service) WriteAllocations(ctx context.Context, reqs []ConsumerAllocations, opts WriteOptions) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		return writeAllocations(ctx, tx, reqs, opts)
	})
}

// consumerWrite is the state of one consumer during a write.
type consumerWrite struct {
	req      *ConsumerAllocations
	consumer model.Consumer
	created  bool // by this transaction: it has no allocations yet
	existing []store.ProviderAllocation
}

func writeAllocations(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations, opts WriteOptions) error {
	unableFor := func(consumer string, msg string) error {
		if opts.SingleConsumer {
			return model.BadRequest("Unable to allocate inventory for consumer %s: %s", consumer, msg)
		}
		if opts.Reshape {
			return model.BadRequest("malformed reshaper data: %s", msg)
		}
		return model.BadRequest("Unable to allocate inventory %s", msg)
	}
	// Consumers: lock in uuid order (a fixed order avoids deadlocks), check
	// generations in request order.
	writes := make([]*consumerWrite, len(reqs))
	order := make([]*consumerWrite, len(reqs))
	for i := range reqs {
		if reqs[i].ProjectID == "" {
			reqs[i].ProjectID, reqs[i].UserID = model.IncompleteConsumerProject, model.IncompleteConsumerUser
		}
		writes[i] = &consumerWrite{req: &reqs[i]}
		order[i] = writes[i]
	}
	sort.Slice(order, func(i, j int) bool { return order[i].req.ConsumerUUID < order[j].req.ConsumerUUID })
	found := map[*consumerWrite]bool{}
	for _, w := range order {
		c, ok, err := tx.Consumer(ctx, w.req.ConsumerUUID, true)
		if err != nil {
			return err
		}
		w.consumer, found[w] = c, ok
	}
	for _, w := range writes {
		if err := checkConsumerGeneration(w.req, w.consumer, found[w]); err != nil {
			return err
		}
	}
	for _, w := range order {
		if found[w] {
			continue
		}
		// A new consumer that gets allocations ends this write at
		// generation 1: insert it so, rather than insert and update.
		gen := int64(0)
		if len(w.req.Allocations) > 0 {
			gen = 1
		}
		c, created, err := tx.CreateConsumer(ctx, w.req.ConsumerUUID, w.req.ProjectID, w.req.UserID, w.req.ConsumerType, gen)
		if err != nil {
			return err
		}
		if !created {
			// A concurrent writer created it between our read and insert.
			var ok bool
			if c, ok, err = tx.Consumer(ctx, w.req.ConsumerUUID, true); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("consumer %s vanished right after its creation", w.req.ConsumerUUID)
			}
			if err := checkConsumerGeneration(w.req, c, true); err != nil {
				return err
			}
		}
		w.consumer, w.created = c, created
	}

	// Current allocations of the consumers that existed before.
	anyExisting := false
	for _, w := range writes {
		if w.consumer.ID != 0 && !w.created {
			var err error
			if w.existing, err = tx.ConsumerAllocations(ctx, w.consumer.ID); err != nil {
				return err
			}
		}
		anyExisting = anyExisting || len(w.existing) > 0
	}

	// Providers and classes named in the request. Every provider involved
	// is locked in id order (a fixed order, so writers cannot deadlock):
	// with no existing allocations, the providers named are all of them
	// and are read and locked in one query.
	var uuids, classes []string
	for _, w := range writes {
		for _, pr := range w.req.Allocations {
			uuids = append(uuids, pr.ProviderUUID)
			for _, ca := range pr.Resources {
				classes = append(classes, ca.Class)
			}
		}
	}
	var providers map[string]model.Provider
	var err error
	if anyExisting {
		providers, err = tx.ProvidersByUUID(ctx, uuids)
	} else {
		providers, err = tx.LockProvidersByUUID(ctx, uuids)
	}
	if err != nil {
		return err
	}
	for _, u := range uuids {
		if _, ok := providers[u]; !ok {
			return model.BadRequest("Allocation for resource provider '%s' that does not exist.", u)
		}
	}
	classIDs, err := tx.ResourceClassIDs(ctx, classes)
	if err != nil {
		return err
	}
	for _, w := range writes {
		for _, pr := range w.req.Allocations {
			for _, ca := range pr.Resources {
				if _, ok := classIDs[ca.Class]; !ok {
					return unableFor(w.req.ConsumerUUID, fmt.Sprintf("No such resource class %s.", ca.Class))
				}
			}
		}
	}
	var ids []int64
	for _, w := range writes {
		for _, a := range w.existing {
			ids = append(ids, a.ProviderID)
		}
	}
	for _, p := range providers {
		ids = append(ids, p.ID)
	}
	locked := make(map[int64]model.Provider, len(providers))
	if anyExisting {
		if locked, err = tx.LockProviders(ctx, ids); err != nil {
			return err
		}
	} else {
		for _, p := range providers {
			locked[p.ID] = p
		}
	}
	invs, err := tx.InventoriesOf(ctx, ids)
	if err != nil {
		return err
	}
	prev := map[store.InventoryKey]int64{}
	used := map[store.InventoryKey]int64{}
	for k, inv := range invs {
		prev[k], used[k] = inv.Used, inv.Used
	}
	dirty := map[store.InventoryKey]bool{}
	for _, w := range writes {
		for _, a := range w.existing {
			k := store.InventoryKey{ProviderID: a.ProviderID, ClassID: a.ClassID}
			used[k] -= a.Used
			dirty[k] = true
		}
		if len(w.existing) > 0 {
			if err := tx.DeleteConsumerAllocations(ctx, w.consumer.ID); err != nil {
				return err
			}
		}
	}

	// Validate and insert the new allocations.
	need := map[store.InventoryKey]int64{}
	bump := map[int64]bool{}
	for _, w := range writes {
		if len(w.req.Allocations) == 0 {
			for _, a := range w.existing {
				bump[a.ProviderID] = true
			}
		}
		for _, pr := range w.req.Allocations {
			p := providers[pr.ProviderUUID]
			bump[p.ID] = true
			hasAny := false
			for _, ca := range pr.Resources {
				if _, ok := invs[store.InventoryKey{ProviderID: p.ID, ClassID: classIDs[ca.Class]}]; ok {
					hasAny = true
				}
			}
			if !hasAny {
				names := make([]string, len(pr.Resources))
				for i, ca := range pr.Resources {
					names[i] = ca.Class
				}
				return unableToAllocate(fmt.Sprintf("Inventory for '%s' on resource provider '%s' invalid.", strings.Join(names, ", "), p.UUID))
			}
			for _, ca := range pr.Resources {
				k := store.InventoryKey{ProviderID: p.ID, ClassID: classIDs[ca.Class]}
				inv, ok := invs[k]
				if !ok {
					return unableToAllocate(fmt.Sprintf("Inventory for '%s' on resource provider '%s' invalid.", ca.Class, p.UUID))
				}
				if !inv.FitsUnit(ca.Amount) {
					return unableToAllocate(fmt.Sprintf("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would violate inventory constraints.", ca.Class, p.UUID))
				}
				need[k] += ca.Amount
				after := used[k] + need[k]
				if after > inv.Capacity() && !(prev[k] > 0 && after <= prev[k]) {
					return unableToAllocate(fmt.Sprintf("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would exceed the capacity.", ca.Class, p.UUID))
				}
				if err := tx.InsertAllocation(ctx, p.ID, w.consumer.ID, k.ClassID, ca.Amount); err != nil {
					return err
				}
				dirty[k] = true
			}
		}
	}
	for k := range dirty {
		if err := tx.SetUsed(ctx, k, used[k]+need[k]); err != nil {
			return err
		}
	}
	bumpIDs := make([]int64, 0, len(bump))
	for id := range bump {
		bumpIDs = append(bumpIDs, id)
	}
	sort.Slice(bumpIDs, func(i, j int) bool { return bumpIDs[i] < bumpIDs[j] })
	for _, id := range bumpIDs {
		if _, err := tx.BumpGeneration(ctx, id, locked[id].Generation); err != nil {
			return err
		}
	}
	for _, w := range writes {
		if len(w.req.Allocations) == 0 {
			if err := tx.DeleteConsumer(ctx, w.consumer.ID); err != nil {
				return err
			}
			continue
		}
		if w.created {
			continue // inserted with its final project, user, type and generation
		}
		if _, err := tx.UpdateConsumer(ctx, w.consumer, w.req.ProjectID, w.req.UserID, w.req.ConsumerType); err != nil {
			return err
		}
	}
	return nil
}

func unableToAllocate(msg string) error {
	return model.Conflict("Unable to allocate inventory: %s", msg)
}

// checkConsumerGeneration applies the 1.28 rule: the client names the
// generation it last saw, or null for a consumer it expects to be new.
func checkConsumerGeneration(req *ConsumerAllocations, c model.Consumer, exists bool) error {
	if !req.CheckGeneration {
		return nil
	}
	if exists {
		if req.ConsumerGeneration == nil || *req.ConsumerGeneration != c.Generation {
			got := "None"
			if req.ConsumerGeneration != nil {
				got = fmt.Sprint(*req.ConsumerGeneration)
			}
			return model.Conflict("consumer generation conflict - expected %d but got %s", c.Generation, got).WithCode(model.CodeConcurrentUpdate)
		}
		return nil
	}
	if req.ConsumerGeneration != nil {
		return model.Conflict("consumer generation conflict - expected null but got %d", *req.ConsumerGeneration).WithCode(model.CodeConcurrentUpdate)
	}
	return nil
}

// DeleteConsumerAllocations releases everything a consumer holds (the
// unconditional DELETE, without generation).
func (s *Service) DeleteConsumerAllocations(ctx context.Context, consumerUUID string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		c, ok, err := tx.Consumer(ctx, consumerUUID, true)
		if err != nil {
			return err
		}
		var existing []store.ProviderAllocation
		if ok {
			if existing, err = tx.ConsumerAllocations(ctx, c.ID); err != nil {
				return err
			}
		}
		if len(existing) == 0 {
			return model.NotFound("No allocations for consumer '%s'", consumerUUID)
		}
		var ids []int64
		for _, a := range existing {
			ids = append(ids, a.ProviderID)
		}
		if _, err := tx.LockProviders(ctx, ids); err != nil {
			return err
		}
		invs, err := tx.InventoriesOf(ctx, ids)
		if err != nil {
			return err
		}
		left := map[store.InventoryKey]int64{}
		for _, a := range existing {
			k := store.InventoryKey{ProviderID: a.ProviderID, ClassID: a.ClassID}
			if _, seen := left[k]; !seen {
				left[k] = invs[k].Used
			}
			left[k] -= a.Used
		}
		if err := tx.DeleteConsumerAllocations(ctx, c.ID); err != nil {
			return err
		}
		for k, u := range left {
			if err := tx.SetUsed(ctx, k, u); err != nil {
				return err
			}
		}
		return tx.DeleteConsumer(ctx, c.ID)
	})
}

// UsageQuery selects GET /usages results.
type UsageQuery struct {
	ProjectID string
	UserID    string
	// ConsumerType filters (1.38+): a type name, "all" or "unknown"; empty
	// means every type, grouped by type.
	ConsumerType string
}

// Usages returns usage per consumer type ("" for untyped consumers) and
// class, with consumer counts per type.
func (s *Service) Usages(ctx context.Context, q UsageQuery) ([]store.UsageRow, map[string]int64, error) {
	var rows []store.UsageRow
	var counts map[string]int64
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, counts, err = tx.Usages(ctx, store.UsageFilter{ProjectID: q.ProjectID, UserID: q.UserID})
		return err
	})
	return rows, counts, err
}
