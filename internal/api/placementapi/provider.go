package placementapi

import (
	"net/http"
	"time"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/query"
)

var (
	createProviderSchema = api.MustSchema(`{"type": "object",
		"properties": {"name": {"type": "string", "maxLength": 200}, "uuid": {"type": "string", "format": "uuid"}},
		"required": ["name"], "additionalProperties": false}`)
	createProviderSchema114 = api.MustSchema(`{"type": "object",
		"properties": {"name": {"type": "string", "maxLength": 200}, "uuid": {"type": "string", "format": "uuid"},
			"parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}},
		"required": ["name"], "additionalProperties": false}`)
	updateProviderSchema = api.MustSchema(`{"type": "object",
		"properties": {"name": {"type": "string", "maxLength": 200}},
		"required": ["name"], "additionalProperties": false}`)
	updateProviderSchema114 = api.MustSchema(`{"type": "object",
		"properties": {"name": {"type": "string", "maxLength": 200},
			"parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}},
		"required": ["name"], "additionalProperties": false}`)
)

// providerJSON renders a provider for the request's microversion.
func (h *handlers) providerJSON(r *http.Request, p model.Provider) map[string]any {
	self := h.link("/resource_providers/" + p.UUID)
	links := []any{map[string]string{"rel": "self", "href": self}}
	rels := []string{"inventories", "usages"}
	if at(r, 1, 1) {
		rels = append(rels, "aggregates")
	}
	if at(r, 1, 6) {
		rels = append(rels, "traits")
	}
	if at(r, 1, 11) {
		rels = append(rels, "allocations")
	}
	for _, rel := range rels {
		links = append(links, map[string]string{"rel": rel, "href": self + "/" + rel})
	}
	out := map[string]any{"uuid": p.UUID, "name": p.Name, "generation": p.Generation, "links": links}
	if at(r, 1, 14) {
		var parent any
		if p.ParentUUID != "" {
			parent = p.ParentUUID
		}
		out["parent_provider_uuid"] = parent
		out["root_provider_uuid"] = p.RootUUID
	}
	return out
}

func (h *handlers) listProviders(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	params, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return err
	}
	f, err := query.ParseProviderList(params, api.VersionOf(r))
	if err != nil {
		return err
	}
	ps, err := h.svc.ListProviders(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(ps))
	var last time.Time
	for _, p := range ps {
		out = append(out, h.providerJSON(r, p))
		if m := p.Modified(); m.After(last) {
			last = m
		}
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"resource_providers": out})
}

func (h *handlers) getProvider(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	p, err := h.svc.GetProvider(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, p.Modified())
	}
	return api.WriteJSON(w, http.StatusOK, h.providerJSON(r, p))
}

func (h *handlers) createProvider(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	schema := createProviderSchema
	if at(r, 1, 14) {
		schema = createProviderSchema114
	}
	var in struct {
		Name   string  `json:"name"`
		UUID   string  `json:"uuid"`
		Parent *string `json:"parent_provider_uuid"`
	}
	if _, err := api.DecodeBody(body, schema, &in); err != nil {
		return err
	}
	np := placement.NewProvider{Name: in.Name}
	if in.UUID != "" {
		np.UUID, _ = model.NormalizeUUID(in.UUID)
	}
	if in.Parent != nil {
		np.ParentUUID, _ = model.NormalizeUUID(*in.Parent)
	}
	p, err := h.svc.CreateProvider(r.Context(), np)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.location(r, "/resource_providers/"+p.UUID))
	if at(r, 1, 20) {
		api.SetLastModified(w, p.Modified())
		return api.WriteJSON(w, http.StatusOK, h.providerJSON(r, p))
	}
	api.WriteEmpty(w, http.StatusCreated)
	return nil
}

func (h *handlers) updateProvider(w http.ResponseWriter, r *http.Request) error {
	if err := api.RequireJSON(r); err != nil {
		return err
	}
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	upd, invalid := readProviderUpdate(r)
	p, err := h.svc.UpdateProvider(r.Context(), r.PathValue("uuid"), upd, invalid)
	if err != nil {
		return err
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, p.Modified())
	}
	return api.WriteJSON(w, http.StatusOK, h.providerJSON(r, p))
}

// readProviderUpdate reads and validates a provider update's body; the
// error is answered only if the provider exists (Placement finds the
// provider before it reads the body).
func readProviderUpdate(r *http.Request) (placement.ProviderUpdate, error) {
	body, err := api.ReadBody(r)
	if err != nil {
		return placement.ProviderUpdate{}, err
	}
	schema := updateProviderSchema
	if at(r, 1, 14) {
		schema = updateProviderSchema114
	}
	var in struct {
		Name string `json:"name"`
	}
	raw, err := api.DecodeBody(body, schema, &in)
	if err != nil {
		return placement.ProviderUpdate{}, err
	}
	upd := placement.ProviderUpdate{Name: in.Name, AllowReparenting: at(r, 1, 37)}
	if m, ok := raw.(map[string]any); ok {
		if parent, present := m["parent_provider_uuid"]; present {
			upd.SetParent = true
			if s, ok := parent.(string); ok {
				upd.ParentUUID, _ = model.NormalizeUUID(s)
			}
		}
	}
	return upd, nil
}

func (h *handlers) deleteProvider(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteProvider(r.Context(), r.PathValue("uuid")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
