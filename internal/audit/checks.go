package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"allot/internal/baremetal"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
)

// snapshot is what the checks read, from one read transaction.
type snapshot struct {
	revision    int64
	inventories []store.AuditInventory
	stray       []store.StrayAllocation
	empty       []model.Consumer
	nodes       []model.Node
	allocations []model.NodeAllocation
	// providers of the nodes, by uuid
	providers map[string]model.ProviderState
	// claims are the allocations of bare-metal consumers, by consumer uuid
	claims map[string][]model.Allocation
}

func (s *snapshot) load(ctx context.Context, tx *store.Tx) error {
	var err error
	if s.revision, _, err = tx.Revision(ctx); err != nil {
		return fmt.Errorf("read the revision: %w", err)
	}
	if s.inventories, err = tx.AuditInventories(ctx); err != nil {
		return err
	}
	if s.stray, err = tx.AuditStrayAllocations(ctx); err != nil {
		return err
	}
	if s.empty, err = tx.AuditEmptyConsumers(ctx); err != nil {
		return err
	}
	if s.nodes, err = tx.ListNodes(ctx, model.NodeFilter{}); err != nil {
		return fmt.Errorf("read the nodes: %w", err)
	}
	if s.allocations, err = tx.ListNodeAllocations(ctx, model.NodeAllocationFilter{}); err != nil {
		return fmt.Errorf("read the bare-metal allocations: %w", err)
	}
	uuids := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		uuids[i] = n.UUID
	}
	byUUID, err := tx.ProvidersByUUID(ctx, uuids)
	if err != nil {
		return fmt.Errorf("read the nodes' providers: %w", err)
	}
	ids := make([]int64, 0, len(byUUID))
	for _, p := range byUUID {
		ids = append(ids, p.ID)
	}
	states, err := tx.ProviderStates(ctx, ids)
	if err != nil {
		return fmt.Errorf("read the nodes' providers: %w", err)
	}
	s.providers = make(map[string]model.ProviderState, len(states))
	for _, p := range states {
		s.providers[p.UUID] = p
	}
	s.claims, err = tx.AuditConsumerAllocations(ctx, baremetal.ConsumerType)
	return err
}

// findings runs every check on the snapshot, in Kinds order.
func (s *snapshot) findings() []Finding {
	var out []Finding
	out = append(out, s.usageCounters()...)
	out = append(out, s.capacity()...)
	out = append(out, s.noInventory()...)
	out = append(out, s.orphanConsumers()...)
	out = append(out, s.nodeProviders()...)
	out = append(out, s.nodeAllocations()...)
	out = append(out, s.orphanClaims()...)
	return out
}

func providerObject(uuid, name string) Object {
	return Object{Type: "provider", UUID: uuid, Name: name}
}

func nodeObject(n *model.Node) Object {
	o := Object{Type: "node", UUID: n.UUID}
	if n.Name != nil {
		o.Name = *n.Name
	}
	return o
}

func allocationObject(a *model.NodeAllocation) Object {
	o := Object{Type: "allocation", UUID: a.UUID}
	if a.Name != nil {
		o.Name = *a.Name
	}
	return o
}

func (s *snapshot) usageCounters() []Finding {
	var out []Finding
	for _, inv := range s.inventories {
		if inv.Used == inv.Allocated {
			continue
		}
		pid, cid := inv.ProviderID, inv.ClassID
		out = append(out, Finding{
			Kind: KindUsageCounter, Severity: Violation,
			Objects: []Object{providerObject(inv.ProviderUUID, inv.ProviderName)},
			Problem: fmt.Sprintf("%s: the usage counter says %d but the allocations against it sum to %d, so candidates and claims use a wrong usage",
				inv.ResourceClass, inv.Used, inv.Allocated),
			Action:  fmt.Sprintf("allot db check --fix sets the counter to the allocations' sum (%d)", inv.Allocated),
			Fixable: true,
			repair: func(ctx context.Context, tx *store.Tx) (string, error) {
				before, after, found, err := tx.RecountUsage(ctx, pid, cid)
				if err != nil || !found || before == after {
					return "", err
				}
				return fmt.Sprintf("usage counter of %s set from %d to %d", inv.ResourceClass, before, after), nil
			},
		})
	}
	return out
}

// capacity reports allocations beyond an inventory's capacity. Placement
// refuses any allocation write that takes usage over capacity (and lets
// one that leaves an over-committed inventory no worse through), but
// accepts an inventory change that leaves existing allocations over the
// new capacity. So an inventory over capacity is legitimate when it has
// been changed since its creation (a notice: Placement allows it), and a
// violation when it never changed: then no write Placement allows can
// have put it there.
func (s *snapshot) capacity() []Finding {
	var out []Finding
	for _, inv := range s.inventories {
		capacity := inv.Capacity()
		if inv.Allocated <= capacity {
			continue
		}
		f := Finding{
			Kind:    KindOverCapacity,
			Objects: []Object{providerObject(inv.ProviderUUID, inv.ProviderName)},
		}
		numbers := fmt.Sprintf("%s: allocations use %d, over the capacity of %d ((total %d - reserved %d) x allocation_ratio %g)",
			inv.ResourceClass, inv.Allocated, capacity, inv.Total, inv.Reserved, inv.AllocationRatio)
		changed := inv.UpdatedAt.After(inv.CreatedAt)
		if changed {
			f.Severity = Notice
			f.Problem = numbers + fmt.Sprintf(", since the inventory was changed at %s under existing allocations; Placement allows this, keeps the allocations and refuses new ones until usage is back within capacity",
				inv.UpdatedAt.Format(time.RFC3339))
			f.Action = fmt.Sprintf("nothing is broken; to get back within capacity move or delete allocations (allot placement resource-provider show %s --allocations) or raise the inventory", inv.ProviderUUID)
		} else {
			f.Severity = Violation
			f.Problem = numbers + ", and the inventory has not changed since it was created, so no write Placement allows can have done this"
			f.Action = fmt.Sprintf("not repaired automatically (which consumer should give way is your choice): list them with allot placement resource-provider show %s --allocations, then delete or move allocations until they use at most %d",
				inv.ProviderUUID, capacity)
		}
		out = append(out, f)
	}
	return out
}

func (s *snapshot) noInventory() []Finding {
	var out []Finding
	for _, st := range s.stray {
		out = append(out, Finding{
			Kind: KindNoInventory, Severity: Violation,
			Objects: []Object{providerObject(st.ProviderUUID, st.ProviderName)},
			Problem: fmt.Sprintf("%d consumer(s) hold %d %s, but the provider has no %s inventory (Placement never deletes an inventory in use)",
				st.Consumers, st.Allocated, st.Class, st.Class),
			Action: fmt.Sprintf("not repaired automatically: give the provider a %s inventory of at least %d again (allot placement resource-provider inventory set %s --amend --resource %s=%d), or delete those consumers' allocations (allot placement resource-provider show %s --allocations lists them)",
				st.Class, st.Allocated, st.ProviderUUID, st.Class, st.Allocated, st.ProviderUUID),
		})
	}
	return out
}

func (s *snapshot) orphanConsumers() []Finding {
	var out []Finding
	for _, c := range s.empty {
		uuid := c.UUID
		typ := c.ConsumerType
		if typ == "" {
			typ = "none"
		}
		out = append(out, Finding{
			Kind: KindOrphanConsumer, Severity: Violation,
			Objects: []Object{{Type: "consumer", UUID: c.UUID}},
			Problem: fmt.Sprintf("the consumer (project %s, user %s, consumer type %s, generation %d) holds no allocation; a write that leaves a consumer with none deletes it",
				c.ProjectID, c.UserID, typ, c.Generation),
			Action:  "allot db check --fix deletes the consumer record",
			Fixable: true,
			repair: func(ctx context.Context, tx *store.Tx) (string, error) {
				deleted, err := tx.DeleteEmptyConsumer(ctx, uuid)
				if err != nil || !deleted {
					return "", err
				}
				return "consumer record deleted", nil
			},
		})
	}
	return out
}

// describeInventories words inventories for a message.
func describeInventories(invs []model.Inventory) string {
	if len(invs) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(invs))
	for _, inv := range invs {
		parts = append(parts, fmt.Sprintf("%s total %d reserved %d", inv.ResourceClass, inv.Total, inv.Reserved))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func describeList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	l = append([]string(nil), l...)
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func (s *snapshot) nodeProviders() []Finding {
	var out []Finding
	for i := range s.nodes {
		n := &s.nodes[i]
		uuid := n.UUID
		f := Finding{
			Kind: KindNodeProvider, Severity: Violation, Objects: []Object{nodeObject(n)},
			Action:  "allot db check --fix rewrites the node's provider from the node",
			Fixable: true,
			repair: func(ctx context.Context, tx *store.Tx) (string, error) {
				ok, err := baremetal.ResyncNodeProvider(ctx, tx, uuid)
				if err != nil || !ok {
					return "", err
				}
				return "the node's resource provider rewritten from the node", nil
			},
		}
		want := baremetal.ExpectedProvider(n)
		p, ok := s.providers[n.UUID]
		if !ok {
			f.Problem = "the node has no resource provider (a provider of the same UUID), so it can never be allocated and is missing from Placement"
			out = append(out, f)
			continue
		}
		agree, wantInv := placement.NodeProviderAgrees(want, p.Inventories, p.Traits)
		if agree {
			continue
		}
		f.Objects = append(f.Objects, providerObject(p.UUID, p.Name))
		f.Problem = fmt.Sprintf("the node's provider has inventory %s and traits %s, but the node (provision state %s, maintenance %t) calls for inventory %s and traits %s",
			describeInventories(p.Inventories), describeList(p.Traits), n.ProvisionState, n.Maintenance, describeInventories(wantInv), describeList(want.Traits))
		out = append(out, f)
	}
	return out
}

// claimMatches reports whether claim is exactly one unit of class on the
// provider providerUUID.
func claimMatches(claim []model.Allocation, providerUUID, class string) bool {
	return len(claim) == 1 && claim[0].ProviderUUID == providerUUID && claim[0].ResourceClass == class && claim[0].Used == 1
}

func describeClaim(claim []model.Allocation) string {
	if len(claim) == 0 {
		return "nothing"
	}
	parts := make([]string, len(claim))
	for i, a := range claim {
		parts[i] = fmt.Sprintf("%d %s on provider %s", a.Used, a.ResourceClass, a.ProviderUUID)
	}
	return strings.Join(parts, ", ")
}

func (s *snapshot) nodeAllocations() []Finding {
	var out []Finding
	nodeByID := make(map[int64]*model.Node, len(s.nodes))
	for i := range s.nodes {
		nodeByID[s.nodes[i].ID] = &s.nodes[i]
	}
	allocByID := make(map[int64]*model.NodeAllocation, len(s.allocations))
	for i := range s.allocations {
		a := &s.allocations[i]
		allocByID[a.ID] = a
		if a.State != model.AllocActive {
			continue
		}
		f := Finding{Kind: KindNodeAllocation, Severity: Violation, Objects: []Object{allocationObject(a)}}
		n, ok := nodeByID[a.NodeID]
		if !ok {
			f.Problem = "the allocation is active but holds no node"
			f.Action = fmt.Sprintf("not repaired automatically: delete it (allot baremetal allocation delete %s) and allocate again", a.UUID)
			out = append(out, f)
			continue
		}
		f.Objects = append(f.Objects, nodeObject(n))
		if n.AllocationID != a.ID {
			other := "none"
			if o, ok := allocByID[n.AllocationID]; ok {
				other = o.UUID
			} else if n.AllocationID != 0 {
				other = fmt.Sprintf("a missing allocation (id %d)", n.AllocationID)
			}
			f.Problem = fmt.Sprintf("the allocation is active on the node, but the node records allocation %s", other)
			f.Action = fmt.Sprintf("not repaired automatically (which of the two holds the node is your choice): delete the allocation that should not (allot baremetal allocation delete %s)", a.UUID)
			out = append(out, f)
			continue
		}
		provider, class := baremetal.ExpectedClaim(n)
		if claim := s.claims[a.UUID]; !claimMatches(claim, provider, class) {
			uuid := a.UUID
			f.Problem = fmt.Sprintf("the allocation holds the node, but its Placement consumer holds %s instead of the node's claim (1 %s on provider %s), so Placement may give the node to another consumer",
				describeClaim(claim), class, provider)
			f.Action = "allot db check --fix writes the node's claim again"
			f.Fixable = true
			f.repair = func(ctx context.Context, tx *store.Tx) (string, error) {
				ok, err := baremetal.RestoreClaim(ctx, tx, uuid)
				if err != nil || !ok {
					return "", err
				}
				return fmt.Sprintf("claim of 1 %s on provider %s written", class, provider), nil
			}
			out = append(out, f)
		}
	}
	for i := range s.nodes {
		n := &s.nodes[i]
		if n.AllocationID == 0 {
			continue
		}
		a, ok := allocByID[n.AllocationID]
		if !ok {
			uuid, id := n.UUID, n.AllocationID
			out = append(out, Finding{
				Kind: KindNodeAllocation, Severity: Violation, Objects: []Object{nodeObject(n)},
				Problem: fmt.Sprintf("the node records allocation id %d, which does not exist; the node is withheld from every other allocation", id),
				Action:  "allot db check --fix clears it from the node, as deleting the allocation would have",
				Fixable: true,
				repair: func(ctx context.Context, tx *store.Tx) (string, error) {
					ok, err := baremetal.ForgetMissingAllocation(ctx, tx, uuid)
					if err != nil || !ok {
						return "", err
					}
					return fmt.Sprintf("missing allocation id %d cleared from the node, its provider rewritten", id), nil
				},
			})
			continue
		}
		var problem string
		switch {
		case a.State != model.AllocActive:
			problem = fmt.Sprintf("the node records allocation %s, which is in state %s, not active", a.UUID, a.State)
		case a.NodeID != n.ID:
			problem = fmt.Sprintf("the node records allocation %s, which is active on another node", a.UUID)
		default:
			continue
		}
		out = append(out, Finding{
			Kind: KindNodeAllocation, Severity: Violation, Objects: []Object{nodeObject(n)},
			Problem: problem + "; the node is withheld from every other allocation",
			Action:  fmt.Sprintf("not repaired automatically: release the node (allot baremetal node undeploy %s, or DELETE /v1/nodes/%s/allocation)", n.UUID, n.UUID),
		})
	}
	return out
}

func (s *snapshot) orphanClaims() []Finding {
	active := map[string]bool{}
	for _, a := range s.allocations {
		if a.State == model.AllocActive {
			active[a.UUID] = true
		}
	}
	consumers := make([]string, 0, len(s.claims))
	for c := range s.claims {
		if !active[c] {
			consumers = append(consumers, c)
		}
	}
	sort.Strings(consumers)
	var out []Finding
	for _, c := range consumers {
		claim := s.claims[c]
		uuid := c
		out = append(out, Finding{
			Kind: KindOrphanClaim, Severity: Violation,
			Objects: []Object{{Type: "consumer", UUID: c}},
			Problem: fmt.Sprintf("the bare-metal consumer holds %s, but no active bare-metal allocation has its UUID, so that capacity is lost", describeClaim(claim)),
			Action:  "allot db check --fix releases the claim",
			Fixable: true,
			repair: func(ctx context.Context, tx *store.Tx) (string, error) {
				ok, err := baremetal.ReleaseOrphanClaim(ctx, tx, uuid)
				if err != nil || !ok {
					return "", err
				}
				return "claim released: " + describeClaim(claim), nil
			},
		})
	}
	return out
}
