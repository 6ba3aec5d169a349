package baremetal

import (
	"context"
	"encoding/json"
	"fmt"

	"allot/internal/model"
	"allot/internal/store"
)

// maxFailureNodes caps the verdicts kept with a failed allocation (a class
// may have thousands of nodes; last_error counts them all).
const maxFailureNodes = 100

// AllocationFailure is why an allocation failed, kept with it when the
// worker puts it in state error: a verdict on each node it considered at
// that moment, as a dry run gives them (DryRun.Nodes), none of which fit
// (or those that did were taken by other allocations first).
type AllocationFailure struct {
	// Nodes are the first maxFailureNodes verdicts (candidate nodes in
	// order, or the nodes of the class by id).
	Nodes []NodeVerdict `json:"nodes"`
	// Considered is how many nodes were considered in all.
	Considered int `json:"considered"`
}

// recordFailure keeps the verdicts on the nodes a was considered on, in
// tx (the transaction that puts a in state error).
func recordFailure(ctx context.Context, tx *store.Tx, a *model.NodeAllocation) error {
	nodes, err := consideredNodes(ctx, tx, a)
	if err != nil {
		return err
	}
	d := verdicts(a, nodes, nil)
	f := AllocationFailure{Nodes: d.Nodes, Considered: len(d.Nodes)}
	if len(f.Nodes) > maxFailureNodes {
		f.Nodes = f.Nodes[:maxFailureNodes]
	}
	doc, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode the failure of allocation %s: %w", a.UUID, err)
	}
	return tx.SetAllocationFailure(ctx, a.ID, doc)
}

// GetAllocationFailure returns why an allocation (by UUID or name) failed,
// in one read: the allocation checks run on it, then the node checks
// decide which verdicts are shown (a node one refuses, or one deleted
// since while a check applies, is left out). An allocation not in state
// error, or one that failed before failures were kept, is a 404 saying so.
func (s *Service) GetAllocationFailure(ctx context.Context, ident string, checks ...Check) (AllocationFailure, error) {
	var out AllocationFailure
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		a, err := lookupAllocation(ctx, tx, ident, false)
		if err != nil {
			return err
		}
		if err := checkAllocation(checks, &a); err != nil {
			return err
		}
		if a.State != model.AllocError {
			return model.NotFound("Allocation %s has not failed (its state is %s): only an allocation in state error has a failure.", a.UUID, a.State)
		}
		doc, ok, err := tx.AllocationFailure(ctx, a.ID)
		if err != nil {
			return err
		}
		if !ok {
			return model.NotFound("Allocation %s failed before its failure was kept: see its last_error.", a.UUID)
		}
		var f AllocationFailure
		if err := json.Unmarshal(doc, &f); err != nil {
			return fmt.Errorf("decode the failure of allocation %s: %w", a.UUID, err)
		}
		out = AllocationFailure{Nodes: []NodeVerdict{}, Considered: f.Considered}
		for _, v := range f.Nodes {
			if guardsNode(checks) {
				n, ok, err := tx.NodeBy(ctx, "uuid", v.UUID, false)
				if err != nil {
					return err
				}
				if !ok || checkNode(checks, &n) != nil {
					continue
				}
			}
			v.Reasons = orList(v.Reasons)
			out.Nodes = append(out.Nodes, v)
		}
		return nil
	})
	return out, err
}
