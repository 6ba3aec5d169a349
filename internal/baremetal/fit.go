package baremetal

import (
	"fmt"
	"strings"

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
// power state and not be associated with an instance. It is the first of
// unallocatableAll's reasons.
func unallocatable(n *model.Node) string {
	if why := unallocatableAll(n); len(why) > 0 {
		return why[0]
	}
	return ""
}

// unallocatableAll returns every reason why node n cannot be given to any
// new allocation, in unallocatable's words and order (none when it can).
func unallocatableAll(n *model.Node) []string {
	var why []string
	if n.ProvisionState != model.StateAvailable {
		why = append(why, fmt.Sprintf("in provision state %s", n.ProvisionState))
	}
	if n.Maintenance {
		why = append(why, "in maintenance")
	}
	if n.PowerState == nil {
		why = append(why, "with no known power state (no power action yet)")
	}
	if n.InstanceUUID != nil {
		why = append(why, "associated with an instance")
	}
	return why
}

// usableBy reports whether a project may take node n: it owns or leases it.
func usableBy(n *model.Node, project string) bool {
	return deref(n.Owner) == project || deref(n.Lessee) == project
}

// fitness is how node n measures up to allocation a.
type fitness struct {
	// blocker says why the node cannot be given to a whatever its traits
	// ("" when nothing but traits stands in the way): the first reason.
	blocker string
	// otherClass is set when the blocker is the node's resource class.
	otherClass bool
	// missing lists the requested traits the node lacks.
	missing []string
	// reasons lists every reason the node cannot be given to a, in fit's
	// order: the blocker first, then the other conditions it fails, then
	// the missing traits ("lacking traits A, B"), in last_error's words.
	reasons []string
}

// fits reports whether the node may be given to the allocation.
func (f fitness) fits() bool { return f.blocker == "" && len(f.missing) == 0 }

// fit measures node n against allocation a: its resource class, the
// candidate nodes, the node's own state (unallocatable), the owner and the
// traits, in that order (the order last_error counts reasons in). The
// blocker is the first of these a node fails; reasons are all of them.
func fit(a *model.NodeAllocation, n *model.Node) fitness {
	var f fitness
	block := func(why string) {
		if f.blocker == "" {
			f.blocker = why
		}
		f.reasons = append(f.reasons, why)
	}
	if deref(n.ResourceClass) != a.ResourceClass {
		block(fmt.Sprintf("of resource class %s", deref(n.ResourceClass)))
		f.otherClass = true
	}
	if len(a.CandidateNodes) > 0 && !contains(a.CandidateNodes, n.UUID) {
		block("not among the candidate nodes")
	}
	for _, why := range unallocatableAll(n) {
		block(why)
	}
	if a.Owner != nil && *a.Owner != "" && !usableBy(n, *a.Owner) {
		block(fmt.Sprintf("neither owned nor leased by project %s", *a.Owner))
	}
	if f.missing = missingTraits(n.Traits, a.Traits); len(f.missing) > 0 {
		f.reasons = append(f.reasons, lackingTraits(f.missing))
	}
	return f
}

// lackingTraits words the missing traits as last_error counts them.
func lackingTraits(missing []string) string {
	return "lacking traits " + strings.Join(missing, ", ")
}
