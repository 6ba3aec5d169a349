package placementapi

import (
	"net/http"
	"time"

	"allot/internal/api"
)

// root serves the version document (no authentication needed).
func (h *handlers) root(w http.ResponseWriter, r *http.Request) error {
	if at(r, 1, 15) {
		api.SetLastModified(w, time.Now())
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{
		"versions": []any{map[string]any{
			"id":          "v" + MinVersion.String(),
			"min_version": MinVersion.String(),
			"max_version": MaxVersion.String(),
			"status":      "CURRENT",
			"links":       []any{map[string]string{"rel": "self", "href": ""}},
		}},
	})
}
