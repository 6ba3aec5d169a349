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
// truncated toward zero as Placement does.
func (inv Inventory) Capacity() int64 {
	return int64(float64(inv.Total-inv.Reserved) * inv.AllocationRatio)
}

// Free is the capacity not yet used (may be negative when over-committed).
func (inv Inventory) Free() int64 { return inv.Capacity() - inv.Used }

// FitsUnit reports whether amount respects min_unit, max_unit and step_size.
func (inv Inventory) FitsUnit(amount int64) bool {
	return amount >= inv.MinUnit && amount <= inv.MaxUnit && inv.StepSize > 0 && amount%inv.StepSize == 0
}

// CanAllocate reports whether amount more can be allocated: it fits the unit
// rules and used + amount stays within capacity.
func (inv Inventory) CanAllocate(amount int64) bool {
	return inv.FitsUnit(amount) && inv.Used+amount <= inv.Capacity()
}

// Modified returns when the inventory last changed.
func (inv Inventory) Modified() time.Time {
	if !inv.UpdatedAt.IsZero() {
		return inv.UpdatedAt
	}
	return inv.CreatedAt
}
