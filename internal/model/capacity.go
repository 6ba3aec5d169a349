package model

// Capacity is the cloud's capacity at a glance: per resource class the
// sums over every provider's inventory, and per class the roots whose
// trees are the fullest and the emptiest.
type Capacity struct {
	// Revision is the store revision the numbers reflect.
	Revision  int64 `json:"revision"`
	Providers int   `json:"providers"`
	Roots     int   `json:"roots"`
	// Classes are ordered by name.
	Classes []ClassCapacity `json:"resource_classes"`
	// Fullest and Emptiest map a class to at most the requested number
	// of roots: the trees with the highest and the lowest share of their
	// capacity of that class in use. Trees without that class are left
	// out.
	Fullest  map[string][]RootCapacity `json:"fullest_roots"`
	Emptiest map[string][]RootCapacity `json:"emptiest_roots"`
	// ConsumerTypes is the usage of the cloud's consumers per consumer
	// type ("INSTANCE", "MIGRATION", ..., "unknown" for consumers without
	// one), as GET /usages groups one project's at 1.38.
	ConsumerTypes map[string]ConsumerTypeUsage `json:"consumer_types"`
}

// ConsumerTypeUsage is what the consumers of one type use, per class.
type ConsumerTypeUsage struct {
	Consumers int64            `json:"consumers"`
	Used      map[string]int64 `json:"usages"`
}

// ClassCapacity is one resource class summed over every provider that has
// an inventory of it. Capacity is (total - reserved) * allocation_ratio
// per inventory (Inventory.Capacity); Free sums each inventory's
// Inventory.Free, so an over-committed inventory adds none (Free may then
// be less than Capacity - Used).
type ClassCapacity struct {
	ResourceClass string `json:"resource_class"`
	Providers     int    `json:"providers"`
	Total         int64  `json:"total"`
	Reserved      int64  `json:"reserved"`
	Capacity      int64  `json:"capacity"`
	Used          int64  `json:"used"`
	Free          int64  `json:"free"`
}

// RootCapacity is one class summed over the providers of one tree.
type RootCapacity struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	Capacity int64  `json:"capacity"`
	Used     int64  `json:"used"`
	Free     int64  `json:"free"`
}

// AggregateCapacity is the capacity of the providers of one aggregate: a
// provider counts when it or its tree's root is directly in the aggregate
// (as member_of judges a tree in GET /allocation_candidates).
type AggregateCapacity struct {
	UUID      string `json:"uuid"`
	Providers int    `json:"providers"`
	// Classes are ordered by name; Providers in each counts the providers
	// with an inventory of the class.
	Classes []ClassCapacity `json:"resource_classes"`
}

// AggregateCapacities is one page of the aggregates, by UUID.
type AggregateCapacities struct {
	Revision int64 `json:"revision"`
	// Count is the number of aggregates in the cloud, every page together.
	Count      int                 `json:"count"`
	Aggregates []AggregateCapacity `json:"aggregates"`
}

// RootShares is every tree with an inventory of one class, in the order of
// its root's name (then UUID): a heat map's cells (UsedPermille, one small
// number per tree) and one page of the trees in full (Roots, from Offset).
type RootShares struct {
	Revision      int64  `json:"revision"`
	ResourceClass string `json:"resource_class"`
	Count         int    `json:"count"`
	// UsedPermille is, per tree, 1000 * used / capacity rounded down (more
	// than 1000 when over-committed; 1000 for usage without capacity).
	UsedPermille []int64        `json:"used_permille"`
	Offset       int            `json:"offset"`
	Roots        []RootCapacity `json:"roots"`
}

// Sharing is a provider's sharing relations: the aggregates it is in, and
// when it shares (trait MISC_SHARES_VIA_AGGREGATE) the trees it serves;
// and the sharing providers that serve its tree.
type Sharing struct {
	UUID       string   `json:"uuid"`
	Shares     bool     `json:"shares"`
	Aggregates []string `json:"aggregates"`
	// Serves are the roots of the trees that share an aggregate with the
	// provider (at most the requested number, by root name); ServesCount
	// counts them all. Empty unless the provider shares.
	Serves      []ProviderRef `json:"serves"`
	ServesCount int           `json:"serves_count"`
	// SharedBy are the sharing providers that serve the provider's tree,
	// by name.
	SharedBy []ProviderRef `json:"shared_by"`
}
