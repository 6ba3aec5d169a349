package baremetalapi

import (
	"net/http"

	"allot/internal/api"
)

func (h *handlers) version(r *http.Request) map[string]any {
	return map[string]any{
		"id":          "v1",
		"links":       []any{map[string]string{"href": h.base(r) + "/v1/", "rel": "self"}},
		"status":      "CURRENT",
		"min_version": MinVersion.String(),
		"version":     MaxVersion.String(),
	}
}

// root is the version document at /.
func (h *handlers) root(w http.ResponseWriter, r *http.Request) error {
	return api.WriteJSON(w, http.StatusOK, map[string]any{
		"name":            "OpenStack Ironic API",
		"description":     "allot: the bare-metal allocation API of allot, compatible with OpenStack Ironic for nodes and allocations.",
		"default_version": h.version(r),
		"versions":        []any{h.version(r)},
	})
}

// v1 is the document at /v1.
func (h *handlers) v1(w http.ResponseWriter, r *http.Request) error {
	b := h.base(r)
	link := func(kind string) []any {
		return []any{
			map[string]string{"href": b + "/v1/" + kind + "/", "rel": "self"},
			map[string]string{"href": b + "/" + kind + "/", "rel": "bookmark"},
		}
	}
	doc := map[string]any{
		"id":    "v1",
		"links": []any{map[string]string{"href": b + "/v1/", "rel": "self"}},
		"media_types": []any{map[string]string{"base": "application/json",
			"type": "application/vnd.openstack.ironic.v1+json"}},
		"nodes": link("nodes"),
		"version": map[string]any{"id": "v1", "links": []any{map[string]string{"href": b + "/v1/", "rel": "self"}},
			"status": "CURRENT", "min_version": MinVersion.String(), "version": MaxVersion.String()},
	}
	if at(r, 52) {
		doc["allocations"] = link("allocations")
	}
	return api.WriteJSON(w, http.StatusOK, doc)
}
