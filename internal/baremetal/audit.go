package baremetal

import (
	"context"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
)

// This file serves the store audit (allot db check): it states what a
// node's provider and an allocation's claim must be with the rules the
// service itself writes them by, and repairs them with the same code.

// ExpectedProvider is the resource provider that must stand for node n.
func ExpectedProvider(n *model.Node) placement.NodeProvider { return nodeProvider(n) }

// ExpectedClaim is the Placement claim an active allocation of node n
// holds: one unit of the node's class on the node's provider.
func ExpectedClaim(n *model.Node) (providerUUID, class string) {
	return n.UUID, model.NodeResourceClass(deref(n.ResourceClass))
}

// ResyncNodeProvider rewrites the provider of node nodeUUID from the node
// (locked) inside tx; ok is false when the node is gone.
func ResyncNodeProvider(ctx context.Context, tx *store.Tx, nodeUUID string) (ok bool, err error) {
	n, ok, err := tx.NodeBy(ctx, "uuid", nodeUUID, true)
	if err != nil || !ok {
		return false, err
	}
	return true, syncProvider(ctx, tx, &n)
}

// RestoreClaim rewrites the claim of the active allocation allocUUID when
// its node (locked) still records it; ok is false, and nothing is written,
// when the allocation is not active or its node does not record it.
func RestoreClaim(ctx context.Context, tx *store.Tx, allocUUID string) (ok bool, err error) {
	a, ok, err := tx.NodeAllocationBy(ctx, "uuid", allocUUID, false)
	if err != nil || !ok || a.State != model.AllocActive || a.NodeID == 0 {
		return false, err
	}
	n, ok, err := tx.NodeBy(ctx, "id", a.NodeID, true)
	if err != nil || !ok || n.AllocationID != a.ID {
		return false, err
	}
	if _, ok, err = tx.NodeAllocationBy(ctx, "id", a.ID, true); err != nil || !ok {
		return false, err
	}
	if err := syncProvider(ctx, tx, &n); err != nil {
		return false, err
	}
	return true, writeClaim(ctx, tx, &a, &n)
}

// ReleaseOrphanClaim releases what Placement consumer consumerUUID (of the
// bare-metal consumer type) holds when no active allocation of that UUID
// owns it; ok is false, and nothing is written, when one does.
func ReleaseOrphanClaim(ctx context.Context, tx *store.Tx, consumerUUID string) (ok bool, err error) {
	a, found, err := tx.NodeAllocationBy(ctx, "uuid", consumerUUID, true)
	if err != nil {
		return false, err
	}
	if found && a.State == model.AllocActive {
		return false, nil
	}
	return true, placement.ReleaseConsumerTx(ctx, tx, consumerUUID)
}

// ForgetMissingAllocation clears the allocation that node nodeUUID (locked)
// records when that allocation does not exist, as deleting it through the
// node would, and rewrites the node's provider; ok is false, and nothing is
// written, when the node records none or one that exists.
func ForgetMissingAllocation(ctx context.Context, tx *store.Tx, nodeUUID string) (ok bool, err error) {
	n, found, err := tx.NodeBy(ctx, "uuid", nodeUUID, true)
	if err != nil || !found || n.AllocationID == 0 {
		return false, err
	}
	if _, exists, err := tx.NodeAllocationBy(ctx, "id", n.AllocationID, true); err != nil || exists {
		return false, err
	}
	if err := dropNodeAllocation(ctx, tx, &n); err != nil {
		return false, err
	}
	if err := tx.UpdateNode(ctx, n); err != nil {
		return false, err
	}
	return true, syncProvider(ctx, tx, &n)
}
