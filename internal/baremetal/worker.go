package baremetal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/query"
	"allot/internal/store"
)

// Start runs the allocation workers until Stop. Allocations made by other
// replicas, or left allocating by a worker that died, are found by polling.
func (s *Service) Start() {
	if s.opts.Workers < 0 {
		return
	}
	s.startOnce.Do(func() {
		for i := 0; i < s.opts.Workers; i++ {
			s.wg.Add(1)
			go s.work(fmt.Sprintf("%s/%d", s.opts.WorkerID, i))
		}
	})
}

// Stop stops the workers and waits for them; an allocation being processed
// is finished first (or left to be taken over).
func (s *Service) Stop() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// Wake tells an idle worker that there is work. A worker that found work
// wakes the next one, so a burst engages every worker and a single
// allocation only one.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) work(id string) {
	defer s.wg.Done()
	ctx := context.Background()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		worked, err := s.processOne(ctx, id)
		if err != nil {
			s.log.Warn("allocation worker", "worker", id, "error", err)
		}
		if worked && err == nil {
			s.Wake() // there may be more: let another worker look too
			continue
		}
		wait := s.opts.Poll
		if err != nil {
			wait = min(wait, time.Second)
		}
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-time.After(wait):
		}
	}
}

// processOne leases one pending allocation and processes it; worked is
// false when there was none.
func (s *Service) processOne(ctx context.Context, worker string) (worked bool, err error) {
	var a model.NodeAllocation
	var ok bool
	err = s.store.Write(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		var err error
		a, ok, err = tx.ClaimPendingAllocation(ctx, worker, now, now.Add(s.opts.Lease))
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	return true, s.process(ctx, worker, a)
}

// errNodeTaken means the chosen node was no longer free when claimed.
var errNodeTaken = errors.New("node taken")

// errOtherClass means the engine offered a node whose resource class is
// spelled otherwise than the allocation's ("GOLD" for "gold"): both stand
// for one Placement class, but classes match exactly, as in Ironic.
var errOtherClass = errors.New("node of another class")

// process chooses a node for a and binds it, or records why none fits.
func (s *Service) process(ctx context.Context, worker string, a model.NodeAllocation) error {
	cands, err := s.suitableNodes(ctx, a)
	if err != nil {
		return err
	}
	taken := 0
	for _, nodeUUID := range cands {
		done, wasTaken, err := s.tryBind(ctx, worker, a, nodeUUID)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if wasTaken {
			taken++
		}
	}
	reason, err := s.diagnose(ctx, a, taken)
	if err != nil {
		return err
	}
	return s.fail(ctx, worker, a, reason)
}

// suitableNodes asks the engine for the nodes offering the allocation's
// class with its traits, keeps the candidates and the owner's nodes, and
// orders them: shuffled (so concurrent allocations spread out), a node
// named like the allocation first.
func (s *Service) suitableNodes(ctx context.Context, a model.NodeAllocation) ([]string, error) {
	f := query.ProviderList{Resources: []query.Amount{{Class: model.NodeResourceClass(a.ResourceClass), Amount: 1}}}
	for _, t := range a.Traits {
		f.Required.AllOf = append(f.Required.AllOf, []string{t})
	}
	provs, err := s.placement.ListProviders(ctx, f)
	if model.IsKind(err, model.KindBadRequest) {
		return nil, nil // a class or trait no provider has ever had
	}
	if err != nil {
		return nil, err
	}
	uuids := make([]string, 0, len(provs))
	for _, p := range provs {
		if len(a.CandidateNodes) == 0 || contains(a.CandidateNodes, p.UUID) {
			uuids = append(uuids, p.UUID)
		}
	}
	if len(uuids) == 0 {
		return nil, nil
	}
	// The engine has already kept only allocatable nodes (the others'
	// units are reserved) of the class with the traits; tryBind re-checks
	// every condition (fit) on the locked row. Only two things need the
	// rows here: an owner's nodes (the store's project filter selects what
	// usableBy accepts), and the node named like the allocation.
	first := ""
	err = s.store.Read(ctx, func(tx *store.Tx) error {
		if a.Owner != nil && *a.Owner != "" {
			rc := a.ResourceClass
			nodes, err := tx.ListNodes(ctx, model.NodeFilter{ResourceClass: &rc, Project: a.Owner})
			if err != nil {
				return fmt.Errorf("list the nodes project %s may use: %w", *a.Owner, err)
			}
			mine := map[string]bool{}
			for _, n := range nodes {
				mine[n.UUID] = true
			}
			kept := uuids[:0]
			for _, u := range uuids {
				if mine[u] {
					kept = append(kept, u)
				}
			}
			uuids = kept
		}
		if a.Name != nil && *a.Name != "" {
			n, ok, err := tx.NodeBy(ctx, "name", *a.Name, false)
			if err != nil {
				return err
			}
			if ok && contains(uuids, n.UUID) {
				first = n.UUID
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(uuids))
	for _, u := range uuids {
		if u != first {
			out = append(out, u)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if first != "" {
		out = append([]string{first}, out...)
	}
	return out, nil
}

// tryBind binds a to the node in one transaction if both are still as
// expected; done is true when a needs no more work (bound, or gone), taken
// when the node was suitable but another allocation (or a change to the
// node) got there first.
func (s *Service) tryBind(ctx context.Context, worker string, a model.NodeAllocation, nodeUUID string) (done, taken bool, err error) {
	bound := false
	err = s.store.Write(ctx, func(tx *store.Tx) error {
		bound = false // a retried transaction starts over
		cur, ok, err := tx.NodeAllocationBy(ctx, "id", a.ID, true)
		if err != nil {
			return err
		}
		if !ok || cur.State != model.AllocAllocating || cur.Worker != worker {
			done = true // deleted meanwhile, or taken over by another worker
			return nil
		}
		n, ok, err := tx.NodeBy(ctx, "uuid", nodeUUID, true)
		if err != nil {
			return err
		}
		if !ok {
			return errNodeTaken
		}
		if f := fit(&cur, &n); f.otherClass {
			return errOtherClass
		} else if !f.fits() {
			return errNodeTaken
		}
		if err := bind(ctx, tx, &cur, &n); err != nil {
			if model.IsKind(err, model.KindConflict) {
				return errNodeTaken
			}
			return err
		}
		done, bound = true, true
		return nil
	})
	if err == nil && bound {
		s.opts.Metrics.Wrote(metrics.OpBaremetal)
		s.opts.Metrics.Active(a.CreatedAt)
	}
	switch {
	case errors.Is(err, errNodeTaken):
		return false, true, nil
	case errors.Is(err, errOtherClass):
		return false, false, nil
	}
	return done, false, err
}

// fail records why an allocation could not be processed: last_error, and
// the verdict on each node considered (recordFailure).
func (s *Service) fail(ctx context.Context, worker string, a model.NodeAllocation, reason string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		cur, ok, err := tx.NodeAllocationBy(ctx, "id", a.ID, true)
		if err != nil || !ok || cur.State != model.AllocAllocating || cur.Worker != worker {
			return err // deleted meanwhile: nothing to record
		}
		msg := fmt.Sprintf("Failed to process allocation %s: %s.", cur.UUID, reason)
		cur.State, cur.LastError, cur.Worker, cur.LeaseUntil = model.AllocError, &msg, "", time.Time{}
		if err := tx.UpdateNodeAllocation(ctx, cur); err != nil {
			return err
		}
		return recordFailure(ctx, tx, &cur)
	})
}

// diagnose explains why no node could be given to a: that the taken
// suitable nodes went to others first, or Ironic's sentence, then how many
// nodes of the class were rejected for each reason.
func (s *Service) diagnose(ctx context.Context, a model.NodeAllocation, taken int) (string, error) {
	if taken > 0 {
		return fmt.Sprintf("could not reserve any of %d suitable nodes: each was taken by another allocation first", taken), nil
	}
	var nodes []model.Node
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		rc := a.ResourceClass
		nodes, err = tx.ListNodes(ctx, model.NodeFilter{ResourceClass: &rc})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("list the nodes of class %s: %w", a.ResourceClass, err)
	}
	counts := map[string]int{}
	var order []string
	note := func(why string) {
		if counts[why] == 0 {
			order = append(order, why)
		}
		counts[why]++
	}
	available := 0
	for i := range nodes {
		f := fit(&a, &nodes[i])
		if f.blocker != "" {
			note(f.blocker)
			continue
		}
		available++
		if len(f.missing) > 0 {
			note("lacking traits " + strings.Join(f.missing, ", "))
		}
	}
	var why []string
	for _, k := range order {
		why = append(why, fmt.Sprintf("%d %s", counts[k], k))
	}
	detail := ""
	if len(why) > 0 {
		detail = fmt.Sprintf(" (%d nodes of that class: %s)", len(nodes), strings.Join(why, ", "))
	}
	if available > 0 && len(a.Traits) > 0 {
		return fmt.Sprintf("no suitable nodes have the requested traits %s%s", strings.Join(sorted(a.Traits), ", "), detail), nil
	}
	if len(a.CandidateNodes) > 0 {
		return fmt.Sprintf("none of the requested nodes are available and match the resource class %s%s", a.ResourceClass, detail), nil
	}
	return fmt.Sprintf("no available nodes match the resource class %s%s", a.ResourceClass, detail), nil
}

func sorted(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}
