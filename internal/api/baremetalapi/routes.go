package baremetalapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// routes is the Bare Metal route table.
func (h *handlers) routes() []api.Route {
	v := model.V
	r := func(method, pattern string, min int, rule string, fn api.HandlerFunc) api.Route {
		return api.Route{Method: method, Pattern: pattern, Since: api.SinceVersion(v(1, min)), Policy: rule, Handler: fn}
	}
	// Below 1.52 Ironic's allocations are not found (GET) or not allowed
	// (other methods), in its words; a node's allocation is a bare 404.
	alloc := func(method, pattern, rule string, fn api.HandlerFunc) api.Route {
		rt := r(method, pattern, 52, rule, fn)
		rt.Since.Message = "The API version does not allow allocations"
		if method != http.MethodGet {
			rt.Since.Status = http.StatusMethodNotAllowed
		}
		return rt
	}
	nodeAlloc := api.Since{Min: v(1, 52), Status: http.StatusNotFound}
	return append([]api.Route{
		{Method: http.MethodGet, Pattern: "/", Public: true, Handler: h.root},
		{Method: http.MethodGet, Pattern: "/v1", Public: true, Handler: h.v1},

		r(http.MethodGet, "/v1/nodes", 1, ruleNodeList, h.listNodes),
		r(http.MethodPost, "/v1/nodes", 1, ruleNodeCreate, h.createNode),
		r(http.MethodGet, "/v1/nodes/detail", 1, ruleNodeList, h.listNodesDetail),
		r(http.MethodGet, "/v1/nodes/{node}", 1, ruleNodeGet, h.getNode),
		r(http.MethodPatch, "/v1/nodes/{node}", 1, ruleNodeUpdate, h.patchNode),
		r(http.MethodDelete, "/v1/nodes/{node}", 1, ruleNodeDelete, h.deleteNode),
		r(http.MethodGet, "/v1/nodes/{node}/states", 1, ruleNodeGetStates, h.nodeStates),
		r(http.MethodPut, "/v1/nodes/{node}/states/provision", 1, ruleNodeSetProvision, h.setProvision),
		r(http.MethodPut, "/v1/nodes/{node}/states/power", 1, ruleNodeSetPower, h.setPower),
		r(http.MethodPut, "/v1/nodes/{node}/maintenance", 1, ruleNodeSetMaintenance, h.setMaintenance),
		r(http.MethodDelete, "/v1/nodes/{node}/maintenance", 1, ruleNodeClearMaintenance, h.unsetMaintenance),
		r(http.MethodGet, "/v1/nodes/{node}/traits", 37, ruleNodeTraitsList, h.getTraits),
		r(http.MethodPut, "/v1/nodes/{node}/traits", 37, ruleNodeTraitsSet, h.setTraits),
		r(http.MethodDelete, "/v1/nodes/{node}/traits", 37, ruleNodeTraitsDelete, h.clearTraits),
		r(http.MethodPut, "/v1/nodes/{node}/traits/{trait}", 37, ruleNodeTraitsSet, h.addTrait),
		r(http.MethodDelete, "/v1/nodes/{node}/traits/{trait}", 37, ruleNodeTraitsDelete, h.removeTrait),
		{Method: http.MethodGet, Pattern: "/v1/nodes/{node}/allocation", Since: nodeAlloc,
			Policy: ruleAllocationGet, Handler: h.getNodeAllocation},
		{Method: http.MethodDelete, Pattern: "/v1/nodes/{node}/allocation", Since: nodeAlloc,
			Policy: ruleAllocationDelete, Handler: h.deleteNodeAllocation},

		alloc(http.MethodGet, "/v1/allocations", ruleAllocationList, h.listAllocations),
		alloc(http.MethodPost, "/v1/allocations", ruleAllocationCreate, h.createAllocation),
		alloc(http.MethodGet, "/v1/allocations/{allocation}", ruleAllocationGet, h.getAllocation),
		alloc(http.MethodPatch, "/v1/allocations/{allocation}", ruleAllocationUpdate, h.patchAllocation),
		alloc(http.MethodDelete, "/v1/allocations/{allocation}", ruleAllocationDelete, h.deleteAllocation),
	}, h.extensionRoutes()...)
}
