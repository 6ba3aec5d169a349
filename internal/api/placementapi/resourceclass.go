package placementapi

import (
	"fmt"
	"net/http"
	"time"

	"allot/internal/api"
	"allot/internal/model"
)

var resourceClassSchema = api.MustSchema(`{"type": "object",
	"properties": {"name": {"type": "string", "pattern": "^CUSTOM\\_[A-Z0-9_]+$", "maxLength": 255}},
	"required": ["name"], "additionalProperties": false}`)

func (h *handlers) resourceClassJSON(rc model.ResourceClass) map[string]any {
	return map[string]any{"name": rc.Name, "links": []any{
		map[string]string{"rel": "self", "href": h.link("/resource_classes/" + rc.Name)},
	}}
}

func (h *handlers) listResourceClasses(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	rcs, err := h.svc.ListResourceClasses(r.Context())
	if err != nil {
		return err
	}
	out := make([]any, len(rcs))
	var last time.Time
	for i, rc := range rcs {
		out[i] = h.resourceClassJSON(rc)
		if m := rc.Modified(); m.After(last) {
			last = m
		}
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"resource_classes": out})
}

func (h *handlers) getResourceClass(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	rc, err := h.svc.GetResourceClass(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, rc.Modified())
	}
	return api.WriteJSON(w, http.StatusOK, h.resourceClassJSON(rc))
}

func (h *handlers) createResourceClass(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
	}
	if _, err := api.DecodeBody(body, resourceClassSchema, &in); err != nil {
		return err
	}
	rc, err := h.svc.CreateResourceClass(r.Context(), in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.location(r, "/resource_classes/"+rc.Name))
	api.WriteEmpty(w, http.StatusCreated)
	return nil
}

// renameResourceClass is PUT before 1.7: rename a custom class.
func (h *handlers) renameResourceClass(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
	}
	if _, err := api.DecodeBody(body, resourceClassSchema, &in); err != nil {
		return err
	}
	rc, err := h.svc.RenameResourceClass(r.Context(), r.PathValue("name"), in.Name)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, h.resourceClassJSON(rc))
}

// ensureResourceClass is PUT from 1.7: create the custom class unless it exists.
func (h *handlers) ensureResourceClass(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	name := r.PathValue("name")
	if _, err := api.DecodeBody([]byte(fmt.Sprintf(`{"name": %q}`, name)), resourceClassSchema, nil); err != nil {
		return err
	}
	rc, created, err := h.svc.EnsureResourceClass(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.location(r, "/resource_classes/"+rc.Name))
	if created {
		api.WriteEmpty(w, http.StatusCreated)
	} else {
		api.WriteEmpty(w, http.StatusNoContent)
	}
	return nil
}

func (h *handlers) deleteResourceClass(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	if err := h.svc.DeleteResourceClass(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
