package baremetal

import (
	"context"
	"fmt"

	"allot/internal/model"
	"allot/internal/store"
)

// DryRun is what an allocation request would meet if it were created now:
// a verdict on every node the worker would consider, and the node (or the
// nodes) it would take first. Nothing is created or changed to find it.
type DryRun struct {
	// Nodes are the nodes considered: the candidate nodes, in the order
	// the request names them, when it names any; otherwise every node of
	// the requested resource class (by id). A node a check refuses (one
	// the caller may not see) is left out.
	Nodes []NodeVerdict
	// WouldPick lists the nodes the worker would take first: the one node
	// named like the allocation when that node fits (the worker tries it
	// first), otherwise every node that fits, among which the worker
	// chooses at random. Empty when no node fits: the allocation would go
	// to state error, with last_error counting the reasons.
	WouldPick []string
}

// NodeVerdict is how one node measures up to an allocation request.
type NodeVerdict struct {
	UUID string
	Name string // "" for a node without a name
	// Fits reports whether the worker may give the node to the allocation.
	Fits bool
	// Reasons are every reason it may not, in the words and the order of
	// an allocation's last_error ("in maintenance", "lacking traits
	// CUSTOM_GPU", ...); empty when it fits.
	Reasons []string
}

// DryRunAllocation answers what creating the allocation in would meet,
// without creating it: the same argument errors as CreateAllocation (an
// invalid trait, UUID or name, no resource class, unknown candidate nodes,
// candidates outside in.CandidateProject), then, in one read, a verdict on
// every node considered by the rule the worker applies (fit) and the node
// it would pick. A backfill (in.Node) chooses no node and is refused.
// The node checks decide which nodes the answer shows: a node one refuses
// is left out (the checks' errors are not answers here).
func (s *Service) DryRunAllocation(ctx context.Context, in AllocationCreate, checks ...Check) (DryRun, error) {
	if in.Node != "" {
		return DryRun{}, model.BadRequest("A dry run explains how a node would be chosen, and a backfill (node %s) chooses none: leave node out of the request.",
			model.Clip(in.Node, 200))
	}
	if err := validateAllocationCreate(&in); err != nil {
		return DryRun{}, err
	}
	var out DryRun
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		cands, err := resolveCandidates(ctx, tx, in.CandidateNodes, in.CandidateProject)
		if err != nil {
			return err
		}
		a := model.NodeAllocation{Name: in.Name, ResourceClass: *in.ResourceClass, Traits: orList(in.Traits),
			CandidateNodes: cands, Owner: in.Owner}
		nodes, err := consideredNodes(ctx, tx, &a)
		if err != nil {
			return err
		}
		out = verdicts(&a, nodes, checks)
		return nil
	})
	return out, err
}

// consideredNodes reads the nodes a dry run of a gives a verdict on: its
// candidate nodes (each once, in order), or every node of its class.
func consideredNodes(ctx context.Context, tx *store.Tx, a *model.NodeAllocation) ([]model.Node, error) {
	if len(a.CandidateNodes) == 0 {
		rc := a.ResourceClass
		nodes, err := tx.ListNodes(ctx, model.NodeFilter{ResourceClass: &rc})
		if err != nil {
			return nil, fmt.Errorf("list the nodes of class %s: %w", a.ResourceClass, err)
		}
		return nodes, nil
	}
	nodes := make([]model.Node, 0, len(a.CandidateNodes))
	seen := map[string]bool{}
	for _, u := range a.CandidateNodes {
		if seen[u] {
			continue
		}
		seen[u] = true
		n, ok, err := tx.NodeBy(ctx, "uuid", u, false)
		if err != nil {
			return nil, err
		}
		if ok { // resolved in this read: always there
			nodes = append(nodes, n)
		}
	}
	return nodes, nil
}

// verdicts measures each node the checks let through against a (fit) and
// says which the worker would pick first, as suitableNodes orders them.
func verdicts(a *model.NodeAllocation, nodes []model.Node, checks []Check) DryRun {
	out := DryRun{Nodes: []NodeVerdict{}, WouldPick: []string{}}
	named := ""
	for i := range nodes {
		n := &nodes[i]
		if checkNode(checks, n) != nil {
			continue
		}
		f := fit(a, n)
		v := NodeVerdict{UUID: n.UUID, Name: deref(n.Name), Fits: f.fits(), Reasons: orList(f.reasons)}
		out.Nodes = append(out.Nodes, v)
		if !v.Fits {
			continue
		}
		out.WouldPick = append(out.WouldPick, n.UUID)
		if a.Name != nil && *a.Name != "" && v.Name == *a.Name {
			named = n.UUID
		}
	}
	if named != "" {
		out.WouldPick = []string{named}
	}
	return out
}
