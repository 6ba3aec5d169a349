package model

import "time"

// Provider is a resource provider: something with inventory (a compute
// host, a NUMA node, a shared storage pool, a bare-metal node).
type Provider struct {
	ID         int64
	UUID       string
	Name       string
	Generation int64
	// ParentID and ParentUUID are zero/empty for a root provider.
	ParentID   int64
	ParentUUID string
	// RootID and RootUUID name the root of the provider's tree (itself for a root).
	RootID    int64
	RootUUID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Modified returns when the provider last changed (updated, else created).
func (p Provider) Modified() time.Time {
	if !p.UpdatedAt.IsZero() {
		return p.UpdatedAt
	}
	return p.CreatedAt
}

// ProviderState is a provider with everything the candidate search needs:
// its inventories (with usage), traits and aggregates.
type ProviderState struct {
	Provider
	Inventories []Inventory
	Traits      []string
	Aggregates  []string
}

// SharesViaAggregate is the trait that marks a sharing provider.
const SharesViaAggregate = "MISC_SHARES_VIA_AGGREGATE"
