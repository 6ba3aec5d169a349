package client

import (
	"context"
	"net/http"
)

// Inventory is one resource class's inventory as the API shows it.
type Inventory struct {
	Total           int64   `json:"total"`
	Reserved        int64   `json:"reserved"`
	MinUnit         int64   `json:"min_unit"`
	MaxUnit         int64   `json:"max_unit"`
	StepSize        int64   `json:"step_size"`
	AllocationRatio float64 `json:"allocation_ratio"`
}

// Capacity is what may be allocated in all: (total - reserved) *
// allocation_ratio, truncated as Placement does.
func (inv Inventory) Capacity() int64 {
	return int64(float64(inv.Total-inv.Reserved) * inv.AllocationRatio)
}

// Spec returns the inventory as a write with every field set.
func (inv Inventory) Spec() InventorySpec {
	return InventorySpec{
		Total: ptr(inv.Total), Reserved: ptr(inv.Reserved), MinUnit: ptr(inv.MinUnit),
		MaxUnit: ptr(inv.MaxUnit), StepSize: ptr(inv.StepSize), AllocationRatio: ptr(inv.AllocationRatio),
	}
}

// InventorySpec is an inventory to write: fields left nil take the server's
// defaults (reserved 0, min_unit 1, max_unit 2147483647, step_size 1,
// allocation_ratio 1.0). Total is required by the API.
type InventorySpec struct {
	Total           *int64   `json:"total,omitempty"`
	Reserved        *int64   `json:"reserved,omitempty"`
	MinUnit         *int64   `json:"min_unit,omitempty"`
	MaxUnit         *int64   `json:"max_unit,omitempty"`
	StepSize        *int64   `json:"step_size,omitempty"`
	AllocationRatio *float64 `json:"allocation_ratio,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// Inventories is a provider's whole inventory with its generation.
type Inventories struct {
	Generation  int64                `json:"resource_provider_generation"`
	Inventories map[string]Inventory `json:"inventories"`
}

func inventoriesPath(uuid string) string {
	return "/resource_providers/" + pathEscape(uuid) + "/inventories"
}

// GetInventories returns every inventory of a provider.
func (p *Placement) GetInventories(ctx context.Context, uuid string) (Inventories, error) {
	var out Inventories
	_, err := p.get(ctx, inventoriesPath(uuid), nil, &out)
	return out, err
}

// GetInventory returns one resource class's inventory of a provider.
func (p *Placement) GetInventory(ctx context.Context, uuid, class string) (Inventory, error) {
	var out Inventory
	_, err := p.get(ctx, inventoriesPath(uuid)+"/"+pathEscape(class), nil, &out)
	return out, err
}

// SetInventories replaces a provider's whole inventory (classes not given
// are removed). generation must be the provider's current generation.
func (p *Placement) SetInventories(ctx context.Context, uuid string, generation int64, invs map[string]InventorySpec) (Inventories, error) {
	if invs == nil {
		invs = map[string]InventorySpec{}
	}
	body := map[string]any{"resource_provider_generation": generation, "inventories": invs}
	var out Inventories
	_, err := p.send(ctx, http.MethodPut, inventoriesPath(uuid), body, &out)
	return out, err
}

// UpdateInventory replaces one existing resource class's inventory.
func (p *Placement) UpdateInventory(ctx context.Context, uuid, class string, generation int64, inv InventorySpec) (Inventory, error) {
	body := map[string]any{"resource_provider_generation": generation}
	fields := map[string]any{"total": inv.Total, "reserved": inv.Reserved, "min_unit": inv.MinUnit,
		"max_unit": inv.MaxUnit, "step_size": inv.StepSize, "allocation_ratio": inv.AllocationRatio}
	for k, v := range fields {
		switch x := v.(type) {
		case *int64:
			if x != nil {
				body[k] = *x
			}
		case *float64:
			if x != nil {
				body[k] = *x
			}
		}
	}
	var out Inventory
	_, err := p.send(ctx, http.MethodPut, inventoriesPath(uuid)+"/"+pathEscape(class), body, &out)
	return out, err
}

// DeleteInventory removes one resource class's inventory of a provider.
func (p *Placement) DeleteInventory(ctx context.Context, uuid, class string) error {
	_, err := p.send(ctx, http.MethodDelete, inventoriesPath(uuid)+"/"+pathEscape(class), nil, nil)
	return err
}

// DeleteInventories removes every inventory of a provider (microversion 1.5).
func (p *Placement) DeleteInventories(ctx context.Context, uuid string) error {
	_, err := p.send(ctx, http.MethodDelete, inventoriesPath(uuid), nil, nil)
	return err
}
