package placementapi

import (
	"net/http"
	"time"

	"allot/internal/api"
)

var (
	aggregatesSchema    = api.MustSchema(`{"type": "array", "items": {"type": "string", "format": "uuid"}, "uniqueItems": true}`)
	aggregatesSchema119 = api.MustSchema(`{"type": "object", "properties": {
		"aggregates": {"type": "array", "items": {"type": "string", "format": "uuid"}, "uniqueItems": true},
		"resource_provider_generation": {"type": "integer"}},
		"required": ["aggregates", "resource_provider_generation"], "additionalProperties": false}`)
)

func writeAggregates(w http.ResponseWriter, r *http.Request, generation int64, aggs []string) error {
	if aggs == nil {
		aggs = []string{}
	}
	out := map[string]any{"aggregates": aggs}
	if at(r, 1, 19) {
		out["resource_provider_generation"] = generation
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, time.Now())
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (h *handlers) getAggregates(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	pa, err := h.svc.GetProviderAggregates(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	return writeAggregates(w, r, pa.Provider.Generation, pa.Aggregates)
}

func (h *handlers) setAggregates(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var aggs []string
	var gen *int64
	var invalid error
	if at(r, 1, 19) {
		var in struct {
			Aggregates []string `json:"aggregates"`
			Generation int64    `json:"resource_provider_generation"`
		}
		_, invalid = api.DecodeBody(body, aggregatesSchema119, &in)
		aggs, gen = in.Aggregates, &in.Generation
	} else {
		_, invalid = api.DecodeBody(body, aggregatesSchema, &aggs)
	}
	pa, err := h.svc.SetProviderAggregates(r.Context(), r.PathValue("uuid"), gen, aggs, invalid)
	if err != nil {
		return err
	}
	return writeAggregates(w, r, pa.Provider.Generation, pa.Aggregates)
}
