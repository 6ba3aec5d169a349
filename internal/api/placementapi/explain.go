package placementapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// GET /allot/v1/allocation_candidates/explain?<the query string of GET
// /allocation_candidates> explains what the search for that query
// removed, stage by stage, instead of answering it: per request group the
// providers each stage removed (with examples), what became of each tree,
// the number of candidates, and the nearest misses (engine.Explanation).
// The query is validated and parsed by the standard endpoint's code at the
// microversion the request names (1.10 or later), or the latest when it
// names none, as for the other /allot/v1 operations; the policy is
// GET /allocation_candidates's.

// explainRoutes is the route table of the explain extension.
func (h *handlers) explainRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/allocation_candidates/explain", Policy: ruleCandidates, Handler: h.explainCandidates},
	}
}

func (h *handlers) explainCandidates(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	v := claimVersion(r)
	if !v.AtLeast(model.V(1, 10)) {
		return model.BadRequest("%s/allocation_candidates/explain needs microversion 1.10 or later, or none (the latest): its query is that of GET /allocation_candidates.", ExtensionPrefix)
	}
	q, err := parseCandidatesQuery(r.URL.RawQuery, v)
	if err != nil {
		return err
	}
	ex, err := h.svc.ExplainCandidates(r.Context(), q)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, ex)
}
