package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Allocation states.
const (
	AllocationAllocating = "allocating"
	AllocationActive     = "active"
	AllocationError      = "error"
)

// Allocation is a bare-metal allocation (microversion 1.52+) as the API
// shows it; Raw holds every field the server sent.
type Allocation struct {
	UUID           string         `json:"uuid"`
	Name           string         `json:"name"`
	NodeUUID       string         `json:"node_uuid"`
	State          string         `json:"state"`
	LastError      string         `json:"last_error"`
	ResourceClass  string         `json:"resource_class"`
	Traits         []string       `json:"traits"`
	CandidateNodes []string       `json:"candidate_nodes"`
	Extra          map[string]any `json:"extra"`
	// Owner is shown from microversion 1.60.
	Owner     string `json:"owner"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	// Raw is the allocation object exactly as the server sent it.
	Raw map[string]any `json:"-"`
}

// UnmarshalJSON fills the typed fields and Raw.
func (a *Allocation) UnmarshalJSON(data []byte) error {
	type plain Allocation
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("decode an allocation: %w", err)
	}
	raw, err := decodeRaw(data)
	if err != nil {
		return err
	}
	*a = Allocation(p)
	a.Raw = raw
	return nil
}

// AllocationCreate describes an allocation to create. ResourceClass is
// required unless Node is given (backfill, 1.58: record an allocation for a
// node deployed outside the allocation API).
type AllocationCreate struct {
	ResourceClass string   `json:"resource_class,omitempty"`
	Traits        []string `json:"traits,omitempty"`
	// CandidateNodes limits the choice to these nodes (UUIDs or names).
	CandidateNodes []string       `json:"candidate_nodes,omitempty"`
	Name           string         `json:"name,omitempty"`
	UUID           string         `json:"uuid,omitempty"`
	Extra          map[string]any `json:"extra,omitempty"`
	// Owner is a project ID (1.60).
	Owner string `json:"owner,omitempty"`
	// Node backfills (1.58).
	Node string `json:"node,omitempty"`
}

// AllocationFilter selects allocations in ListAllocations; empty fields do
// not filter.
type AllocationFilter struct {
	// Node is a node UUID or name.
	Node          string
	ResourceClass string
	State         string
	// Owner filters by project (1.60).
	Owner string
	ListOptions
}

// Values encodes the filter as a query.
func (f AllocationFilter) Values() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"node": f.Node, "resource_class": f.ResourceClass, "state": f.State, "owner": f.Owner} {
		if v != "" {
			q.Set(k, v)
		}
	}
	f.ListOptions.values(q)
	return q
}

func allocationPath(ident string) string { return "/v1/allocations/" + pathEscape(ident) }

// CreateAllocation creates an allocation. The server answers at once, in
// state allocating (or active or an error for a backfill); see
// WaitForAllocation.
func (b *Baremetal) CreateAllocation(ctx context.Context, ac AllocationCreate) (Allocation, error) {
	var a Allocation
	err := b.call(ctx, http.MethodPost, "/v1/allocations", nil, ac, &a)
	return a, err
}

// ListAllocations returns the allocations matching f, in the server's order
// (creation order unless sorted), following the pages.
func (b *Baremetal) ListAllocations(ctx context.Context, f AllocationFilter) ([]Allocation, error) {
	allocs, err := listAll[Allocation](ctx, b, "/v1/allocations", "allocations", f.Values(), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list allocations: %w", err)
	}
	return allocs, nil
}

// GetAllocation returns an allocation given by UUID or name; fields, when
// given, asks for only those fields.
func (b *Baremetal) GetAllocation(ctx context.Context, ident string, fields ...string) (Allocation, error) {
	var a Allocation
	err := b.call(ctx, http.MethodGet, allocationPath(ident), fieldsQuery(fields), nil, &a)
	return a, err
}

// UpdateAllocation applies a JSON patch (only /name and /extra may change,
// microversion 1.57) and returns the allocation.
func (b *Baremetal) UpdateAllocation(ctx context.Context, ident string, ops []PatchOp) (Allocation, error) {
	if ops == nil {
		ops = []PatchOp{}
	}
	var a Allocation
	err := b.call(ctx, http.MethodPatch, allocationPath(ident), nil, ops, &a)
	return a, err
}

// DeleteAllocation deletes an allocation, freeing its node.
func (b *Baremetal) DeleteAllocation(ctx context.Context, ident string) error {
	return b.call(ctx, http.MethodDelete, allocationPath(ident), nil, nil, nil)
}

// WaitForAllocation polls an allocation until it is active, and returns
// it. It fails with a *StateFailedError (carrying last_error) when the
// allocation ends in state error, and with a *WaitTimeoutError after
// timeout (0: no limit).
func (b *Baremetal) WaitForAllocation(ctx context.Context, ident string, timeout time.Duration) (Allocation, error) {
	var a Allocation
	what := "allocation " + ident
	err := waitFor(ctx, what, AllocationActive, timeout, func() (string, bool, error) {
		var err error
		if a, err = b.GetAllocation(ctx, ident); err != nil {
			return "", false, fmt.Errorf("wait for %s: %w", what, err)
		}
		switch a.State {
		case AllocationActive:
			return a.State, true, nil
		case AllocationError:
			return a.State, false, &StateFailedError{What: what, State: a.State, LastError: a.LastError}
		}
		return a.State, false, nil
	})
	return a, err
}
