package baremetalapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// GET /allot/v1/allocations/{allocation}/failure answers why an
// allocation in state error failed, node by node, as the worker judged
// them when it gave up (baremetal.AllocationFailure): {"nodes": [{"uuid",
// "name", "fits", "reasons"}], "considered": N}, the nodes as a dry run
// shows them (at most 100; considered counts them all). The policy is
// baremetal:allocation:get's, as for GET /v1/allocations/{allocation}
// (an allocation the caller may not see is a 404), and a node the caller
// may not see is left out. Microversions as for the dry run.

// failureRoutes is the route table of the failure extension.
func (h *handlers) failureRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/allocations/{allocation}/failure", Policy: ruleAllocationGet, Handler: h.allocationFailure},
	}
}

func (h *handlers) allocationFailure(w http.ResponseWriter, r *http.Request) error {
	if v := extensionVersion(w, r); v.Less(model.V(1, 52)) {
		return model.BadRequest("%s/allocations/{allocation}/failure needs %s 1.52 or later, or none (the latest): microversion %s has no allocations.",
			ExtensionPrefix, ironicVersionHeader, v)
	}
	ident := r.PathValue("allocation")
	checks := append(allocationCheck(r, ident, nil), nodeVisible(r, model.NotFound("hidden"))...)
	f, err := h.svc.GetAllocationFailure(r.Context(), ident, checks...)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"nodes": verdictsJSON(f.Nodes), "considered": f.Considered})
}
