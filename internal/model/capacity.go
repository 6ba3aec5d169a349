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
