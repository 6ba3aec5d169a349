package baremetalapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// routes is the Bare Metal route table.
func (h *handlers) routes() []api.Route {
	v := model.V
	r := func(method, pattern string, min int, fn api.HandlerFunc) api.Route {
		return api.Route{Method: method, Pattern: pattern, Min: v(1, min), Handler: fn}
	}
	const allocGate = "The API version does not allow allocations"
	alloc := func(method, pattern string, fn api.HandlerFunc) api.Route {
		rt := r(method, pattern, 52, fn)
		rt.BelowMinMessage = allocGate
		if method != http.MethodGet {
			rt.BelowMin = http.StatusMethodNotAllowed
		}
		return rt
	}
	return []api.Route{
		{Method: http.MethodGet, Pattern: "/", Public: true, Handler: h.root},
		{Method: http.MethodGet, Pattern: "/v1", Public: true, Handler: h.v1},

		r(http.MethodGet, "/v1/nodes", 1, h.listNodes),
		r(http.MethodPost, "/v1/nodes", 1, h.createNode),
		r(http.MethodGet, "/v1/nodes/detail", 1, h.listNodesDetail),
		r(http.MethodGet, "/v1/nodes/{node}", 1, h.getNode),
		r(http.MethodPatch, "/v1/nodes/{node}", 1, h.patchNode),
		r(http.MethodDelete, "/v1/nodes/{node}", 1, h.deleteNode),
		r(http.MethodGet, "/v1/nodes/{node}/states", 1, h.nodeStates),
		r(http.MethodPut, "/v1/nodes/{node}/states/provision", 1, h.setProvision),
		r(http.MethodPut, "/v1/nodes/{node}/states/power", 1, h.setPower),
		r(http.MethodPut, "/v1/nodes/{node}/maintenance", 1, h.setMaintenance),
		r(http.MethodDelete, "/v1/nodes/{node}/maintenance", 1, h.unsetMaintenance),
		r(http.MethodGet, "/v1/nodes/{node}/traits", 37, h.getTraits),
		r(http.MethodPut, "/v1/nodes/{node}/traits", 37, h.setTraits),
		r(http.MethodDelete, "/v1/nodes/{node}/traits", 37, h.clearTraits),
		r(http.MethodPut, "/v1/nodes/{node}/traits/{trait}", 37, h.addTrait),
		r(http.MethodDelete, "/v1/nodes/{node}/traits/{trait}", 37, h.removeTrait),
		{Method: http.MethodGet, Pattern: "/v1/nodes/{node}/allocation", Min: v(1, 52), BelowMinMessage: api.EmptyMessage, Handler: h.getNodeAllocation},
		{Method: http.MethodDelete, Pattern: "/v1/nodes/{node}/allocation", Min: v(1, 52), BelowMinMessage: api.EmptyMessage, Handler: h.deleteNodeAllocation},

		alloc(http.MethodGet, "/v1/allocations", h.listAllocations),
		alloc(http.MethodPost, "/v1/allocations", h.createAllocation),
		alloc(http.MethodGet, "/v1/allocations/{allocation}", h.getAllocation),
		alloc(http.MethodPatch, "/v1/allocations/{allocation}", h.patchAllocation),
		alloc(http.MethodDelete, "/v1/allocations/{allocation}", h.deleteAllocation),
	}
}
