package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// AllocationDryRunPath is allot's bare-metal dry-run extension (not part
// of Ironic: other Bare Metal servers answer 404).
const AllocationDryRunPath = "/allot/v1/allocations/dry-run"

// AllocationDryRun is the answer of POST /allot/v1/allocations/dry-run:
// what an allocation request would meet if it were created now, nothing
// being created (docs/api.md).
type AllocationDryRun struct {
	// Nodes are the nodes considered (the candidate nodes, or every node
	// of the class the caller may see), each with its verdict.
	Nodes []NodeVerdict `json:"nodes"`
	// WouldPick lists the node the allocation worker would take first, or
	// the nodes it would choose among at random; empty when none fits.
	WouldPick []string `json:"would_pick"`
	// Raw is the response document.
	Raw json.RawMessage `json:"-"`
}

// NodeVerdict is how one node measures up to an allocation request.
type NodeVerdict struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
	Fits bool   `json:"fits"`
	// Reasons are every reason the node does not fit, in the words of an
	// allocation's last_error; empty when it fits.
	Reasons []string `json:"reasons"`
}

// DryRunAllocation asks what creating ac would meet, without creating it:
// the same body as CreateAllocation (a backfill, ac.Node, is refused).
func (b *Baremetal) DryRunAllocation(ctx context.Context, ac AllocationCreate) (*AllocationDryRun, error) {
	resp, err := b.c.Do(ctx, http.MethodPost, AllocationDryRunPath, nil, ac)
	if err != nil {
		return nil, err
	}
	var out AllocationDryRun
	if err := resp.Decode(&out); err != nil {
		return nil, err
	}
	out.Raw = resp.Body
	return &out, nil
}

// AllocationFailure is the answer of GET
// /allot/v1/allocations/{allocation}/failure: why an allocation in state
// error failed, a verdict per node considered (at most 100; Considered
// counts them all).
type AllocationFailure struct {
	Nodes      []NodeVerdict `json:"nodes"`
	Considered int           `json:"considered"`
	// Raw is the response document.
	Raw json.RawMessage `json:"-"`
}

// GetAllocationFailure returns why an allocation (UUID or name) in state
// error failed (allot only: other Bare Metal servers answer 404).
func (b *Baremetal) GetAllocationFailure(ctx context.Context, ident string) (*AllocationFailure, error) {
	resp, err := b.c.Do(ctx, http.MethodGet, "/allot/v1/allocations/"+pathEscape(ident)+"/failure", nil, nil)
	if err != nil {
		return nil, err
	}
	var out AllocationFailure
	if err := resp.Decode(&out); err != nil {
		return nil, err
	}
	out.Raw = resp.Body
	return &out, nil
}
