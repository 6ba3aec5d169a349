package model

import "time"

// Inventory is one resource class's supply on a provider, with the amount
// currently allocated (Used).
type Inventory struct {
	ResourceClass   string
	Total           int64
	Reserved        int64
	MinUnit         int64
	MaxUnit         int64
	StepSize        int64
	AllocationRatio float64
	Used            int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// DefaultInventory returns an inventory of class rc with Placement's defaults
// for every optional field.
func DefaultInventory(rc string, total int64) Inventory {
	return Inventory{
		ResourceClass:   rc,
		Total:           total,
		MinUnit:         1,
		MaxUnit:         MaxInt,
		StepSize:        1,
		AllocationRatio: 1.0,
	}
}

// Capacity is what may be allocated in all: (total - reserved) * ratio,
// truncated toward zero. Placement compares usage with the untruncated
// product, which for whole-number usage is the same test.
func (inv Inventory) Capacity() int64 {
	return int64(float64(inv.Total-inv.Reserved) * inv.AllocationRatio)
}

// admits is the capacity rule itself: whether the inventory can carry a
// usage of usage units. Every other check of capacity goes through it.
func (inv Inventory) admits(usage int64) bool { return usage <= inv.Capacity() }

// Free is the capacity not yet used, never below zero (an over-committed
// inventory has none).
func (inv Inventory) Free() int64 { return max(inv.Capacity()-inv.Used, 0) }

// FitsUnit reports whether one allocation of amount respects min_unit,
// max_unit and step_size.
func (inv Inventory) FitsUnit(amount int64) bool {
	return amount >= inv.MinUnit && amount <= inv.MaxUnit && inv.StepSize > 0 && amount%inv.StepSize == 0
}

// CanAllocate reports whether one more allocation of amount is possible: it
// fits the unit rules and Used + amount stays within capacity. This is what
// a request group asks of a single provider in an allocation-candidates
// search.
func (inv Inventory) CanAllocate(amount int64) bool {
	return inv.FitsUnit(amount) && inv.admits(inv.Used+amount)
}

// CanAllocateCombined reports whether several requests that each passed
// CanAllocate and together ask sum units of this inventory still fit:
// Placement checks the sum against max_unit and capacity (not min_unit or
// step_size, which each request met alone). This is the candidates rule for
// groups landing on the same provider.
func (inv Inventory) CanAllocateCombined(sum int64) bool {
	return sum <= inv.MaxUnit && inv.admits(inv.Used+sum)
}

// AcceptsUsage is the rule for writing allocations: a write that moves
// usage from before to after is allowed when after is within capacity, or
// when the inventory was already over-committed (before > 0) and the write
// does not make that worse (after <= before), so that a consumer can
// shrink or move allocations on an inventory whose capacity was reduced
// under them.
func (inv Inventory) AcceptsUsage(before, after int64) bool {
	return inv.admits(after) || before > 0 && after <= before
}

// Modified returns when the inventory last changed.
func (inv Inventory) Modified() time.Time {
	if !inv.UpdatedAt.IsZero() {
		return inv.UpdatedAt
	}
	return inv.CreatedAt
}
