package placementapi

import (
	"net/http"
	"sort"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
)

func reshaperSchema(allocs string) *api.Schema {
	return api.MustSchema(`{"type": "object", "properties": {
		"inventories": {"type": "object", "minProperties": 1, "additionalProperties": false,
			"patternProperties": {"` + uuidPattern + `": {"type": "object", "properties": {
				"resource_provider_generation": {"type": "integer"},
				"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"type": "object",
					"properties": {` + inventoryProps + `}, "required": ["total"], "additionalProperties": false}}}},
				"required": ["resource_provider_generation", "inventories"], "additionalProperties": false}}},
		"allocations": ` + allocs + `},
		"required": ["inventories", "allocations"], "additionalProperties": false}`)
}

func reshaperAllocs(consumer string) string {
	return `{"type": "object", "minProperties": 0, "additionalProperties": false,
		"patternProperties": {"` + uuidPattern + `": ` + consumer + `}}`
}

var (
	reshaperSchema130 = reshaperSchema(reshaperAllocs(consumerBodyJS("0", []string{consumerGenJS}, []string{`"consumer_generation"`})))
	reshaperSchema134 = reshaperSchema(reshaperAllocs(consumerBodyJS("0", []string{consumerGenJS, mappingsJS}, []string{`"consumer_generation"`})))
	reshaperSchema138 = reshaperSchema(reshaperAllocs(consumerBodyJS("0", []string{consumerGenJS, mappingsJS, consumerTypeJS},
		[]string{`"consumer_generation"`, `"consumer_type"`})))
)

func (h *handlers) reshape(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	schema := reshaperSchema130
	if at(r, 1, 38) {
		schema = reshaperSchema138
	} else if at(r, 1, 34) {
		schema = reshaperSchema134
	}
	var in struct {
		Inventories map[string]struct {
			Generation  int64                  `json:"resource_provider_generation"`
			Inventories map[string]inventoryIn `json:"inventories"`
		} `json:"inventories"`
	}
	raw, err := api.DecodeBody(body, schema, &in)
	if err != nil {
		return err
	}
	rps := make([]string, 0, len(in.Inventories))
	for u := range in.Inventories {
		rps = append(rps, u)
	}
	sort.Strings(rps)
	var invs []placement.ReshapeInventory
	for _, u := range rps {
		entry := in.Inventories[u]
		norm, _ := model.NormalizeUUID(u)
		ri := placement.ReshapeInventory{ProviderUUID: norm, Generation: entry.Generation}
		classes := make([]string, 0, len(entry.Inventories))
		for c := range entry.Inventories {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, c := range classes {
			ri.Inventories = append(ri.Inventories, entry.Inventories[c].inventory(c))
		}
		invs = append(invs, ri)
	}
	allocMap := raw.(map[string]any)["allocations"].(map[string]any)
	consumers := make([]string, 0, len(allocMap))
	for c := range allocMap {
		consumers = append(consumers, c)
	}
	sort.Strings(consumers)
	var allocs []placement.ConsumerAllocations
	for _, c := range consumers {
		norm, _ := model.NormalizeUUID(c)
		allocs = append(allocs, consumerFromJSON(r, norm, allocMap[c].(map[string]any)))
	}
	if err := h.svc.Reshape(r.Context(), invs, allocs); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
