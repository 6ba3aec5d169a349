package model

// NodeFilter selects and pages bare-metal nodes.
type NodeFilter struct {
	ResourceClass  *string
	ProvisionState *string
	Maintenance    *bool
	Associated     *bool
	Owner          *string
	Lessee         *string
	// Project keeps the nodes this project owns or leases.
	Project      *string
	Driver       *string
	InstanceUUID *string
	// MarkerID continues after the node with this id.
	MarkerID int64
	Limit    int    // caps the page (0: none)
	SortKey  string // a column name; default id
	SortDesc bool
}

// NodeAllocationFilter selects and pages bare-metal allocations.
type NodeAllocationFilter struct {
	// NodeID keeps the allocations of the node with this id.
	NodeID        *int64
	ResourceClass *string
	State         *string
	Owner         *string
	// MarkerID continues after the allocation with this id.
	MarkerID int64
	Limit    int
	SortKey  string
	SortDesc bool
}
