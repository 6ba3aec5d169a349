package baremetal

import (
	"fmt"

	"allot/internal/model"
)

// This file is the one place that decides whether a node may be given to an
// allocation. The node's provider withholds its unit while unallocatable
// says so (nodeProvider), the worker re-checks fit on the locked row before
// binding (tryBind), and a failed allocation's last_error counts the nodes
// by the reasons fit gives (diagnose): all three read the same rule.

// unallocatable returns why node n cannot be given to any new allocation,
// in the words of an allocation's last_error ("in maintenance", ...), or ""
// when it can: it must be available, not in maintenance, have a known
// power state and not be associated with an instance.
func unallocatable(n *model.Node) string {
	switch {
	case n.ProvisionState != model.StateAvailable:
		return fmt.Sprintf("in provision state %s", n.ProvisionState)
	case n.Maintenance:
		return "in maintenance"
	case n.PowerState == nil:
		return "with no known power state (no power action yet)"
	case n.InstanceUUID != nil:
		return "associated with an instance"
	}
	return ""
}

// usableBy reports whether a project may take node n: it owns or leases it.
func usableBy(n *model.Node, project string) bool {
	return deref(n.Owner) == project || deref(n.Lessee) == project
}

// fitness is how node n measures up to allocation a.
type fitness struct {
	// blocker says why the node cannot be given to a whatever its traits
	// ("" when nothing but traits stands in the way).
	blocker string
	// otherClass is set when the blocker is the node's resource class.
	otherClass bool
	// missing lists the requested traits the node lacks.
	missing []string
}

// fits reports whether the node may be given to the allocation.
func (f fitness) fits() bool { return f.blocker == "" && len(f.missing) == 0 }

// fit measures node n against allocation a: its resource class, the
// candidate nodes, the node's own state (unallocatable), the owner and the
// traits, in that order (the order last_error counts reasons in).
func fit(a *model.NodeAllocation, n *model.Node) fitness {
	switch {
	case deref(n.ResourceClass) != a.ResourceClass:
		return fitness{blocker: fmt.Sprintf("of resource class %s", deref(n.ResourceClass)), otherClass: true}
	case len(a.CandidateNodes) > 0 && !contains(a.CandidateNodes, n.UUID):
		return fitness{blocker: "not among the candidate nodes"}
	}
	if why := unallocatable(n); why != "" {
		return fitness{blocker: why}
	}
	if a.Owner != nil && *a.Owner != "" && !usableBy(n, *a.Owner) {
		return fitness{blocker: fmt.Sprintf("neither owned nor leased by project %s", *a.Owner)}
	}
	return fitness{missing: missingTraits(n.Traits, a.Traits)}
}
