package placementapi

import (
	"net/http"
	"strings"
	"time"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/query"
)

var setProviderTraitsSchema = api.MustSchema(`{"type": "object", "properties": {
	"traits": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}},
	"resource_provider_generation": {"type": "integer"}},
	"required": ["traits", "resource_provider_generation"], "additionalProperties": false}`)

func traitNames(ts []model.Trait) ([]string, time.Time) {
	names := make([]string, len(ts))
	var last time.Time
	for i, t := range ts {
		names[i] = t.Name
		if m := t.Modified(); m.After(last) {
			last = m
		}
	}
	return names, last
}

func (h *handlers) listTraits(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	params, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if err := params.CheckAllowed(query.AllowedSet("name", "associated")); err != nil {
		return err
	}
	var f model.TraitFilter
	if params.Has("name") {
		v := params.Get("name")
		op, arg, ok := strings.Cut(v, ":")
		if !ok {
			return model.BadRequest("Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"%s\"", model.Clip(v, 200))
		}
		switch op {
		case "in":
			f.Names = strings.Split(arg, ",")
		case "startswith":
			f.Prefix = arg
		}
	}
	if params.Has("associated") {
		switch strings.ToLower(params.Get("associated")) {
		case "true":
			t := true
			f.Associated = &t
		case "false":
			t := false
			f.Associated = &t
		default:
			return model.BadRequest("The query parameter \"associated\" only accepts \"true\" or \"false\"")
		}
	}
	ts, err := h.svc.ListTraits(r.Context(), f)
	if err != nil {
		return err
	}
	names, last := traitNames(ts)
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"traits": names})
}

func (h *handlers) getTrait(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	t, err := h.svc.GetTrait(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, t.CreatedAt)
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) putTrait(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	name := r.PathValue("name")
	if !model.IsValidCustomTrait(name) {
		return model.BadRequest(`The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"`)
	}
	t, created, err := h.svc.EnsureTrait(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.location(r, "/traits/"+t.Name))
	if at(r, 1, 15) {
		api.SetLastModified(w, t.CreatedAt)
	}
	if created {
		api.WriteEmpty(w, http.StatusCreated)
	} else {
		api.WriteEmpty(w, http.StatusNoContent)
	}
	return nil
}

func (h *handlers) deleteTrait(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteTrait(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) getProviderTraits(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	pt, err := h.svc.GetProviderTraits(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	names, last := traitNames(pt.Traits)
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"traits": names, "resource_provider_generation": pt.Provider.Generation})
}

func (h *handlers) setProviderTraits(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in struct {
		Traits     []string `json:"traits"`
		Generation int64    `json:"resource_provider_generation"`
	}
	if _, err := api.DecodeBody(body, setProviderTraitsSchema, &in); err != nil {
		return err
	}
	pt, err := h.svc.SetProviderTraits(r.Context(), r.PathValue("uuid"), in.Generation, in.Traits)
	if err != nil {
		return err
	}
	names, last := traitNames(pt.Traits)
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"traits": names, "resource_provider_generation": pt.Provider.Generation})
}

func (h *handlers) deleteProviderTraits(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteProviderTraits(r.Context(), r.PathValue("uuid")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
