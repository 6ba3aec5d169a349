package placement

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"allot/internal/model"
	"allot/internal/store"
)

// Every write of allocations (PUT and POST /allocations, DELETE
// /allocations/{c}, the reshaper, a bare-metal bind and release) runs in
// three steps inside one store transaction:
//
//  1. lock and read (claims.go, lockClaims): every consumer named, in uuid
//     order, then every provider involved, in id order, so that concurrent
//     writers cannot deadlock; then what the rules need (held allocations,
//     providers, class ids, inventories with their usage counters);
//  2. plan (this file, planClaims): a pure function from what was read and
//     what was asked to the rows to write, or the error Placement answers;
//  3. apply (claims.go, applyClaims): write the plan.
//
// Placement's rules, checked against its source (objects/allocation.py
// _set_allocations, _check_capacity_exceeded and delete_all;
// handlers/allocation.py; SPEC A.2, A.4 and A.8):
//   - a consumer's new allocations replace everything it held;
//   - each amount respects min_unit, max_unit and step_size, and the usage
//     after the write stays within capacity unless the inventory was
//     already over capacity and the write does not make it worse
//     (model.Inventory.AcceptsUsage);
//   - the generation of every provider that receives an allocation is
//     bumped, and for a consumer whose allocations become empty, the
//     generation of every provider it held; providers a consumer only
//     leaves while holding others keep theirs. The unconditional DELETE
//     /allocations/{c} (delete_all) bumps no provider generation;
//   - a consumer that keeps allocations has its generation bumped and its
//     project, user and type replaced; a consumer left with none is deleted.
//
// One deliberate difference: Placement's ensure_consumer creates the
// consumer of a 1.28+ write of empty allocations (consumer_generation
// null) for a consumer that does not exist, and nothing deletes it, so an
// empty consumer at generation 0 stays behind and the next write with null
// is refused. Here such a write changes nothing, as the empty allocations
// say.

// claimRead is everything a write of allocations depends on, read under
// lock by lockClaims. planClaims is a pure function of it and the request.
type claimRead struct {
	// consumers has one entry per request, in request order.
	consumers []consumerRead
	// providers holds every provider locked (named in the request, held by
	// a consumer, or locked for the caller), by uuid.
	providers map[string]model.Provider
	// classIDs maps every class name in the request that exists to its id.
	classIDs map[string]int64
	// inventories holds the inventories of every provider locked, with the
	// usage counters as they were before this write.
	inventories map[store.InventoryKey]store.LockedInventory
}

// consumerRead is one consumer as a write found it.
type consumerRead struct {
	consumer model.Consumer
	// existed: the consumer was in the store before this write; the
	// request's consumer generation is checked against its generation.
	existed bool
	// created: the lock step inserted the consumer as the request describes
	// it, with its final generation (a row that does not exist cannot be
	// locked, and inserting it is how a new consumer is locked). The plan
	// leaves it as it is.
	created bool
	// held is what the consumer held before this write.
	held []model.Allocation
}

// claimPlan is what a write of allocations changes, in the order
// applyClaims writes it.
type claimPlan struct {
	// release lists the consumers whose allocations are all deleted first.
	release []int64
	// inserts are the new allocation rows.
	inserts []allocationRow
	// usage holds the new usage counter of every inventory the write
	// changes, in key order.
	usage []usageCounter
	// bump lists, in id order, the providers whose generation goes up.
	bump []int64
	// update lists the consumers that keep allocations: their generation
	// goes up and their owner and type are replaced.
	update []consumerUpdate
	// remove lists the consumers left with no allocations, to delete.
	remove []int64
}

// allocationRow is one allocation to insert.
type allocationRow struct {
	ProviderID, ConsumerID, ClassID, Used int64
}

// usageCounter is the new value of one inventory's usage counter.
type usageCounter struct {
	Key  store.InventoryKey
	Used int64
}

// consumerUpdate is a consumer that keeps allocations, with the owner and
// type the request gave it.
type consumerUpdate struct {
	Consumer                        model.Consumer
	ProjectID, UserID, ConsumerType string
}

// planOptions says which operation a plan is for: the rules are the same,
// the wording of some errors and two details differ.
type planOptions struct {
	WriteOptions
	// deleteAll is the unconditional DELETE /allocations/{c}: the consumer
	// must hold something, and no provider generation is bumped.
	deleteAll bool
}

// unable words a request error the way the calling endpoint does.
func (o planOptions) unable(consumer, msg string) error {
	switch {
	case o.SingleConsumer:
		return model.BadRequest("Unable to allocate inventory for consumer %s: %s", consumer, msg)
	case o.Reshape:
		return model.BadRequest("malformed reshaper data: %s", msg)
	}
	return model.BadRequest("Unable to allocate inventory %s", msg)
}

// unableToAllocate is the 409 of a write that breaks an inventory's rules.
func unableToAllocate(format string, args ...any) capacityError {
	return capacityError{model.Conflict("Unable to allocate inventory: %s", fmt.Sprintf(format, args...))}
}

// capacityError is the 409 of a write that does not fit the inventories:
// its type tells the metrics a capacity conflict from the others.
type capacityError struct{ err *model.Error }

func (e capacityError) Error() string { return e.err.Error() }
func (e capacityError) Unwrap() error { return e.err }

// WithHint adds a hint to the refusal (model.Error.WithHint).
func (e capacityError) WithHint(hint string) capacityError {
	return capacityError{e.err.WithHint(hint)}
}

// owner returns the project and user a request gives its consumer: the
// incomplete-consumer placeholders when an old microversion sent none.
func (req *ConsumerAllocations) owner() (project, user string) {
	if req.ProjectID == "" {
		return model.IncompleteConsumerProject, model.IncompleteConsumerUser
	}
	return req.ProjectID, req.UserID
}

// planClaims decides what a write of allocations does, or which rule it
// breaks, from what lockClaims read. It does no I/O.
func planClaims(read *claimRead, reqs []ConsumerAllocations, opts planOptions) (claimPlan, error) {
	var plan claimPlan
	if len(read.consumers) != len(reqs) {
		return plan, fmt.Errorf("planning allocations: %d consumers read for %d requests", len(read.consumers), len(reqs))
	}
	// Consumers first, in request order: Placement checks them before it
	// looks at the allocations.
	for i := range reqs {
		c := &read.consumers[i]
		if opts.deleteAll && len(c.held) == 0 {
			return plan, model.NotFound("No allocations for consumer '%s'", reqs[i].ConsumerUUID)
		}
		if err := checkConsumerGeneration(&reqs[i], c.consumer, c.existed); err != nil {
			return plan, err
		}
	}
	for i := range reqs {
		for _, pr := range reqs[i].Allocations {
			if _, ok := read.providers[pr.ProviderUUID]; !ok {
				return plan, model.BadRequest("Allocation for resource provider '%s' that does not exist.", pr.ProviderUUID)
			}
		}
	}
	for i := range reqs {
		for _, pr := range reqs[i].Allocations {
			for _, ca := range pr.Resources {
				if _, ok := read.classIDs[ca.Class]; !ok {
					return plan, opts.unable(reqs[i].ConsumerUUID, fmt.Sprintf("No such resource class %s.", ca.Class))
				}
			}
		}
	}

	// Usage: what was held is released first, then each new allocation
	// is checked against the usage so far.
	before := func(k store.InventoryKey) int64 { return read.inventories[k].Used }
	usage := map[store.InventoryKey]int64{}
	current := func(k store.InventoryKey) int64 {
		if u, ok := usage[k]; ok {
			return u
		}
		return before(k)
	}
	bump := map[int64]bool{}
	for i := range reqs {
		c := &read.consumers[i]
		if len(c.held) == 0 {
			continue
		}
		plan.release = append(plan.release, c.consumer.ID)
		for _, a := range c.held {
			k := store.InventoryKey{ProviderID: a.ProviderID, ClassID: a.ClassID}
			usage[k] = current(k) - a.Used
			if len(reqs[i].Allocations) == 0 && !opts.deleteAll {
				bump[a.ProviderID] = true
			}
		}
	}
	for i := range reqs {
		consumerID := read.consumers[i].consumer.ID
		for _, pr := range reqs[i].Allocations {
			p := read.providers[pr.ProviderUUID]
			bump[p.ID] = true
			if err := checkHasInventory(read, p, pr.Resources); err != nil {
				return plan, err
			}
			for _, ca := range pr.Resources {
				k := store.InventoryKey{ProviderID: p.ID, ClassID: read.classIDs[ca.Class]}
				inv, ok := read.inventories[k]
				if !ok {
					return plan, unableToAllocate("Inventory for '%s' on resource provider '%s' invalid.", ca.Class, p.UUID)
				}
				if !inv.FitsUnit(ca.Amount) {
					return plan, unableToAllocate("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would violate inventory constraints.", ca.Class, p.UUID).
						WithHint(model.HintUnitConstraints(ca.Class, model.ProviderLabel(p.UUID, p.Name), ca.Amount, inv.Inventory))
				}
				after := current(k) + ca.Amount
				if !inv.AcceptsUsage(before(k), after) {
					return plan, unableToAllocate("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would exceed the capacity.", ca.Class, p.UUID).
						WithHint(model.HintCapacity(ca.Class, model.ProviderLabel(p.UUID, p.Name), ca.Amount, current(k), inv.Inventory))
				}
				usage[k] = after
				plan.inserts = append(plan.inserts, allocationRow{ProviderID: p.ID, ConsumerID: consumerID, ClassID: k.ClassID, Used: ca.Amount})
			}
		}
	}
	for k, u := range usage {
		plan.usage = append(plan.usage, usageCounter{Key: k, Used: u})
	}
	slices.SortFunc(plan.usage, func(a, b usageCounter) int {
		return cmp.Or(cmp.Compare(a.Key.ProviderID, b.Key.ProviderID), cmp.Compare(a.Key.ClassID, b.Key.ClassID))
	})
	for id := range bump {
		plan.bump = append(plan.bump, id)
	}
	slices.Sort(plan.bump)

	for i := range reqs {
		c := &read.consumers[i]
		switch {
		case len(reqs[i].Allocations) == 0:
			if c.existed || c.created {
				plan.remove = append(plan.remove, c.consumer.ID)
			}
		case c.existed:
			project, user := reqs[i].owner()
			plan.update = append(plan.update, consumerUpdate{Consumer: c.consumer, ProjectID: project, UserID: user, ConsumerType: reqs[i].ConsumerType})
		}
	}
	return plan, nil
}

// checkHasInventory refuses an allocation on a provider that has no
// inventory of any class it names.
func checkHasInventory(read *claimRead, p model.Provider, resources []ClassAmount) error {
	for _, ca := range resources {
		if _, ok := read.inventories[store.InventoryKey{ProviderID: p.ID, ClassID: read.classIDs[ca.Class]}]; ok {
			return nil
		}
	}
	names := make([]string, len(resources))
	for i, ca := range resources {
		names[i] = ca.Class
	}
	return unableToAllocate("Inventory for '%s' on resource provider '%s' invalid.", strings.Join(names, ", "), p.UUID)
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
			return model.Conflict("consumer generation conflict - expected %d but got %s", c.Generation, got).WithCode(model.CodeConcurrentUpdate).WithHint(model.HintRetryConsumer)
		}
		return nil
	}
	if req.ConsumerGeneration != nil {
		return model.Conflict("consumer generation conflict - expected null but got %d", *req.ConsumerGeneration).WithCode(model.CodeConcurrentUpdate).WithHint(model.HintRetryConsumer)
	}
	return nil
}
