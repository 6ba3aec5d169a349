package placementapi

import (
	"net/http"
	"time"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
)

const inventoryProps = `"resource_provider_generation": {"type": "integer"},
	"total": {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"reserved": {"type": "integer", "maximum": 2147483647, "minimum": 0},
	"min_unit": {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"max_unit": {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"step_size": {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"allocation_ratio": {"type": "number", "maximum": 3.40282e+38}`

var (
	postInventorySchema = api.MustSchema(`{"type": "object", "properties": {` + inventoryProps + `,
		"resource_class": {"type": "string", "pattern": "^[A-Z0-9_]+$"}},
		"required": ["total", "resource_class"], "additionalProperties": false}`)
	putInventorySchema = api.MustSchema(`{"type": "object", "properties": {` + inventoryProps + `},
		"required": ["total", "resource_provider_generation"], "additionalProperties": false}`)
	putInventoriesSchema = api.MustSchema(`{"type": "object", "properties": {
		"resource_provider_generation": {"type": "integer"},
		"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"type": "object", "properties": {` + inventoryProps + `},
			"required": ["total"], "additionalProperties": false}}}},
		"required": ["resource_provider_generation", "inventories"], "additionalProperties": false}`)
)

// inventoryIn is an inventory in a request body; missing fields take
// Placement's defaults.
type inventoryIn struct {
	ResourceClass   string   `json:"resource_class"`
	Generation      int64    `json:"resource_provider_generation"`
	Total           int64    `json:"total"`
	Reserved        *int64   `json:"reserved"`
	MinUnit         *int64   `json:"min_unit"`
	MaxUnit         *int64   `json:"max_unit"`
	StepSize        *int64   `json:"step_size"`
	AllocationRatio *float64 `json:"allocation_ratio"`
}

func (in inventoryIn) inventory(class string) model.Inventory {
	inv := model.DefaultInventory(class, in.Total)
	if in.Reserved != nil {
		inv.Reserved = *in.Reserved
	}
	if in.MinUnit != nil {
		inv.MinUnit = *in.MinUnit
	}
	if in.MaxUnit != nil {
		inv.MaxUnit = *in.MaxUnit
	}
	if in.StepSize != nil {
		inv.StepSize = *in.StepSize
	}
	if in.AllocationRatio != nil {
		inv.AllocationRatio = *in.AllocationRatio
	}
	return inv
}

func inventoryJSON(inv model.Inventory) map[string]any {
	return map[string]any{
		"total": inv.Total, "reserved": inv.Reserved, "min_unit": inv.MinUnit, "max_unit": inv.MaxUnit,
		"step_size": inv.StepSize, "allocation_ratio": inv.AllocationRatio,
	}
}

func capacityRule(r *http.Request) placement.CapacityRule {
	if at(r, 1, 26) {
		return placement.ReservedUpToTotal
	}
	return placement.ReservedBelowTotal
}

// writeInventory renders one inventory with the provider generation.
func writeInventory(w http.ResponseWriter, r *http.Request, status int, p model.Provider, inv model.Inventory) error {
	out := inventoryJSON(inv)
	if p.Generation != 0 { // Placement omits a zero generation here
		out["resource_provider_generation"] = p.Generation
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, inv.Modified())
	}
	return api.WriteJSON(w, status, out)
}

// writeInventories renders all inventories of a provider.
func writeInventories(w http.ResponseWriter, r *http.Request, p model.Provider, invs []model.Inventory) error {
	m := map[string]any{}
	var last time.Time
	for _, inv := range invs {
		m[inv.ResourceClass] = inventoryJSON(inv)
		if t := inv.Modified(); t.After(last) {
			last = t
		}
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"resource_provider_generation": p.Generation, "inventories": m})
}

func (h *handlers) getInventories(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	pi, err := h.svc.GetInventories(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	return writeInventories(w, r, pi.Provider, pi.Inventories)
}

func (h *handlers) getInventory(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	p, inv, err := h.svc.GetInventory(r.Context(), r.PathValue("uuid"), r.PathValue("resource_class"))
	if err != nil {
		return err
	}
	return writeInventory(w, r, http.StatusOK, p, inv)
}

func (h *handlers) createInventory(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in inventoryIn
	_, invalid := api.DecodeBody(body, postInventorySchema, &in)
	inv := in.inventory(in.ResourceClass)
	p, err := h.svc.CreateInventory(r.Context(), r.PathValue("uuid"), inv, capacityRule(r), invalid)
	if err != nil {
		return err
	}
	inv.CreatedAt = time.Now()
	w.Header().Set("Location", h.location(r, "/resource_providers/"+p.UUID+"/inventories/"+inv.ResourceClass))
	return writeInventory(w, r, http.StatusCreated, p, inv)
}

func (h *handlers) setInventories(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in struct {
		Generation  int64                  `json:"resource_provider_generation"`
		Inventories map[string]inventoryIn `json:"inventories"`
	}
	_, invalid := api.DecodeBody(body, putInventoriesSchema, &in)
	invs := make([]model.Inventory, 0, len(in.Inventories))
	for class, i := range in.Inventories {
		invs = append(invs, i.inventory(class))
	}
	pi, err := h.svc.SetInventories(r.Context(), r.PathValue("uuid"), in.Generation, invs, capacityRule(r), invalid)
	if err != nil {
		return err
	}
	return writeInventories(w, r, pi.Provider, pi.Inventories)
}

func (h *handlers) updateInventory(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in inventoryIn
	_, invalid := api.DecodeBody(body, putInventorySchema, &in)
	p, inv, err := h.svc.UpdateInventory(r.Context(), r.PathValue("uuid"), in.Generation,
		in.inventory(r.PathValue("resource_class")), capacityRule(r), invalid)
	if err != nil {
		return err
	}
	return writeInventory(w, r, http.StatusOK, p, inv)
}

func (h *handlers) deleteInventory(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteInventory(r.Context(), r.PathValue("uuid"), r.PathValue("resource_class")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) deleteInventories(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteInventories(r.Context(), r.PathValue("uuid")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
