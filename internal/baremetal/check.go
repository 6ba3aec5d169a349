package baremetal

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// Check is a caller's access rule for the objects one operation touches.
// The API builds it from its policy (which rule, which target, whether a
// refusal reads as a 404, a 403 or a 400); the service only runs it, inside
// the operation's one transaction, on the rows as it found them (locked, for
// a write), before it changes anything: the check and the write see the same
// rows, and an owner changed in between cannot slip through.
//
// Every method that accepts checks takes them as an optional trailing
// argument (callers without policy, such as the CLI's server and tests,
// pass none); several run in order, and a nil field checks nothing. The
// first error is the operation's answer. When a check applies, the method
// also answers its own argument errors (an unknown verb, an invalid trait)
// only after the check has passed, so a caller the check refuses learns
// nothing from them; without one, it answers them before it reads a row.
type Check struct {
	// Node checks the node an operation names: the node a node write
	// changes, the node of /v1/nodes/{node}/allocation, the node a new
	// allocation backfills, the node a list of allocations is filtered by.
	Node func(*model.Node) error
	// Allocation checks the allocation an operation names: the allocation
	// a write changes or deletes, or the node's allocation of
	// /v1/nodes/{node}/allocation.
	Allocation func(*model.NodeAllocation) error
}

// guardsNode reports whether any of checks looks at a node.
func guardsNode(checks []Check) bool {
	for _, c := range checks {
		if c.Node != nil {
			return true
		}
	}
	return false
}

// guardsAllocation reports whether any of checks looks at an allocation.
func guardsAllocation(checks []Check) bool {
	for _, c := range checks {
		if c.Allocation != nil {
			return true
		}
	}
	return false
}

// checkNode runs the node checks on n, in order, and returns the first
// refusal.
func checkNode(checks []Check, n *model.Node) error {
	for _, c := range checks {
		if c.Node == nil {
			continue
		}
		if err := c.Node(n); err != nil {
			return err
		}
	}
	return nil
}

// checkAllocation runs the allocation checks on a, in order, and returns
// the first refusal.
func checkAllocation(checks []Check, a *model.NodeAllocation) error {
	for _, c := range checks {
		if c.Allocation == nil {
			continue
		}
		if err := c.Allocation(a); err != nil {
			return err
		}
	}
	return nil
}

// lockCheckedNode is how a write that takes checks starts: it finds and
// locks the node (notFound words a missing one), runs the node checks on
// it, and only then answers invalid, the write's own argument error (nil
// when its arguments are valid), so that a caller the checks refuse learns
// nothing from it.
func lockCheckedNode(ctx context.Context, tx *store.Tx, ident string, notFound func(string) error, checks []Check, invalid error) (model.Node, error) {
	n, err := lookupNode(ctx, tx, ident, true, notFound)
	if err != nil {
		return n, err
	}
	if err := checkNode(checks, &n); err != nil {
		return n, err
	}
	return n, invalid
}
