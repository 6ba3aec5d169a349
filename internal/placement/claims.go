package placement

import (
	"context"
	"fmt"
	"sort"

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

// writeAllocations replaces the allocations of every consumer in reqs
// inside tx: lock and read, plan, apply (see plan.go).
func writeAllocations(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations, opts planOptions) error {
	read, err := lockClaims(ctx, tx, reqs, nil)
	if err != nil {
		return err
	}
	if err := read.readInventories(ctx, tx); err != nil {
		return err
	}
	plan, err := planClaims(read, reqs, opts)
	if err != nil {
		return err
	}
	return applyClaims(ctx, tx, plan)
}

// lockClaims is the first step of a write of allocations: it locks every
// consumer in reqs, in uuid order, then every provider involved (named in
// reqs, held by those consumers, or named in alsoLock), in id order, and
// reads what the plan needs but the inventories (readInventories reads
// those, so that the reshaper can change them in between).
//
// A consumer that does not exist and is to receive allocations is inserted
// here, with its final owner, type and generation 1: a missing row cannot
// be locked, and inserting it is what stops a concurrent writer of the
// same consumer. If the plan then refuses the write, the transaction rolls
// the insert back.
func lockClaims(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations, alsoLock []string) (*claimRead, error) {
	read, heldOn, err := lockConsumers(ctx, tx, reqs)
	if err != nil {
		return nil, err
	}
	named := append([]string(nil), alsoLock...)
	for i := range reqs {
		for _, pr := range reqs[i].Allocations {
			named = append(named, pr.ProviderUUID)
		}
	}
	if err := read.lockProviders(ctx, tx, heldOn, named); err != nil {
		return nil, err
	}
	if err := read.resolveClasses(ctx, tx, reqs); err != nil {
		return nil, err
	}
	return read, nil
}

// lockConsumers is lockClaims' first half: it locks every consumer in
// reqs, in uuid order, and reads what they hold; heldOn lists the
// providers of what they hold, for lockProviders.
func lockConsumers(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations) (read *claimRead, heldOn []int64, err error) {
	read = &claimRead{consumers: make([]consumerRead, len(reqs)), providers: map[string]model.Provider{}}
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return reqs[order[a]].ConsumerUUID < reqs[order[b]].ConsumerUUID })
	for _, i := range order {
		c, err := lockConsumer(ctx, tx, &reqs[i])
		if err != nil {
			return nil, nil, err
		}
		read.consumers[i] = c
	}
	for i := range read.consumers {
		c := &read.consumers[i]
		if !c.existed {
			continue
		}
		held, err := tx.ConsumerAllocations(ctx, c.consumer.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the allocations of consumer %s: %w", c.consumer.UUID, err)
		}
		c.held = held
		for _, a := range held {
			heldOn = append(heldOn, a.ProviderID)
		}
	}
	return read, heldOn, nil
}

// lockProviders is lockClaims' second half: it locks the providers named
// by id or uuid, in id order, waiting for them, and adds them to what was
// read. Every writer locks consumers first, then providers.
func (read *claimRead) lockProviders(ctx context.Context, tx *store.Tx, ids []int64, uuids []string) error {
	locked, err := tx.LockProviders(ctx, ids, uuids)
	if err != nil {
		return err
	}
	for _, p := range locked {
		read.providers[p.UUID] = p
	}
	return nil
}

// resolveClasses maps the class names reqs ask for to their ids.
func (read *claimRead) resolveClasses(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations) error {
	var classes []string
	for i := range reqs {
		for _, pr := range reqs[i].Allocations {
			for _, ca := range pr.Resources {
				classes = append(classes, ca.Class)
			}
		}
	}
	ids, err := tx.ResourceClassIDs(ctx, classes)
	if err != nil {
		return fmt.Errorf("resolving resource classes: %w", err)
	}
	read.classIDs = ids
	return nil
}

// lockConsumer locks the consumer a request names, inserting it when it is
// new and about to receive allocations.
func lockConsumer(ctx context.Context, tx *store.Tx, req *ConsumerAllocations) (consumerRead, error) {
	c, ok, err := tx.Consumer(ctx, req.ConsumerUUID, true)
	if err != nil {
		return consumerRead{}, fmt.Errorf("locking consumer %s: %w", req.ConsumerUUID, err)
	}
	if ok {
		return consumerRead{consumer: c, existed: true}, nil
	}
	if len(req.Allocations) == 0 {
		return consumerRead{consumer: model.Consumer{UUID: req.ConsumerUUID}}, nil
	}
	project, user := req.owner()
	c, created, err := tx.CreateConsumer(ctx, req.ConsumerUUID, project, user, req.ConsumerType, 1)
	if err != nil {
		return consumerRead{}, fmt.Errorf("creating consumer %s: %w", req.ConsumerUUID, err)
	}
	if created {
		return consumerRead{consumer: c, created: true}, nil
	}
	// A concurrent writer created it between our read and our insert (its
	// insert made ours wait until it committed).
	if c, ok, err = tx.Consumer(ctx, req.ConsumerUUID, true); err != nil {
		return consumerRead{}, fmt.Errorf("locking consumer %s: %w", req.ConsumerUUID, err)
	}
	if !ok {
		return consumerRead{}, fmt.Errorf("consumer %s vanished right after its creation", req.ConsumerUUID)
	}
	return consumerRead{consumer: c, existed: true}, nil
}

// readInventories reads the inventories, with their usage counters, of
// every provider lockClaims locked.
func (read *claimRead) readInventories(ctx context.Context, tx *store.Tx) error {
	ids := make([]int64, 0, len(read.providers))
	for _, p := range read.providers {
		ids = append(ids, p.ID)
	}
	invs, err := tx.InventoriesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("reading inventories: %w", err)
	}
	read.inventories = invs
	return nil
}

// applyClaims writes a plan.
func applyClaims(ctx context.Context, tx *store.Tx, plan claimPlan) error {
	for _, id := range plan.release {
		if err := tx.DeleteConsumerAllocations(ctx, id); err != nil {
			return fmt.Errorf("releasing allocations: %w", err)
		}
	}
	for _, a := range plan.inserts {
		if err := tx.InsertAllocation(ctx, a.ProviderID, a.ConsumerID, a.ClassID, a.Used); err != nil {
			return fmt.Errorf("inserting an allocation: %w", err)
		}
	}
	for _, u := range plan.usage {
		if err := tx.SetUsed(ctx, u.Key, u.Used); err != nil {
			return fmt.Errorf("updating usage: %w", err)
		}
	}
	if err := tx.BumpGenerations(ctx, plan.bump); err != nil {
		return err
	}
	for _, id := range plan.remove {
		if err := tx.DeleteConsumer(ctx, id); err != nil {
			return fmt.Errorf("deleting a consumer left with no allocations: %w", err)
		}
	}
	for _, u := range plan.update {
		if _, err := tx.UpdateConsumer(ctx, u.Consumer, u.ProjectID, u.UserID, u.ConsumerType); err != nil {
			return err
		}
	}
	return nil
}
