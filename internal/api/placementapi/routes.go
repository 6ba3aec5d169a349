package placementapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// routes is the Placement route table.
func (h *handlers) routes() []api.Route {
	v := model.V
	r := func(method, pattern string, min model.Version, fn api.HandlerFunc) api.Route {
		return api.Route{Method: method, Pattern: pattern, Min: min, Admin: true, Handler: fn}
	}
	routes := []api.Route{
		{Method: http.MethodGet, Pattern: "/", Public: true, Handler: h.root},

		r(http.MethodGet, "/resource_providers", v(1, 0), h.listProviders),
		r(http.MethodPost, "/resource_providers", v(1, 0), h.createProvider),
		r(http.MethodGet, "/resource_providers/{uuid}", v(1, 0), h.getProvider),
		r(http.MethodPut, "/resource_providers/{uuid}", v(1, 0), h.updateProvider),
		r(http.MethodDelete, "/resource_providers/{uuid}", v(1, 0), h.deleteProvider),

		r(http.MethodGet, "/resource_providers/{uuid}/inventories", v(1, 0), h.getInventories),
		r(http.MethodPost, "/resource_providers/{uuid}/inventories", v(1, 0), h.createInventory),
		r(http.MethodPut, "/resource_providers/{uuid}/inventories", v(1, 0), h.setInventories),
		{Method: http.MethodDelete, Pattern: "/resource_providers/{uuid}/inventories", Min: v(1, 5),
			BelowMin: http.StatusMethodNotAllowed, Admin: true, Handler: h.deleteInventories},
		r(http.MethodGet, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), h.getInventory),
		r(http.MethodPut, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), h.updateInventory),
		r(http.MethodDelete, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), h.deleteInventory),

		r(http.MethodGet, "/resource_providers/{uuid}/usages", v(1, 0), h.providerUsages),
		r(http.MethodGet, "/resource_providers/{uuid}/aggregates", v(1, 1), h.getAggregates),
		r(http.MethodPut, "/resource_providers/{uuid}/aggregates", v(1, 1), h.setAggregates),
		r(http.MethodGet, "/resource_providers/{uuid}/traits", v(1, 6), h.getProviderTraits),
		r(http.MethodPut, "/resource_providers/{uuid}/traits", v(1, 6), h.setProviderTraits),
		r(http.MethodDelete, "/resource_providers/{uuid}/traits", v(1, 6), h.deleteProviderTraits),
		r(http.MethodGet, "/resource_providers/{uuid}/allocations", v(1, 0), h.providerAllocations),

		r(http.MethodGet, "/resource_classes", v(1, 2), h.listResourceClasses),
		r(http.MethodPost, "/resource_classes", v(1, 2), h.createResourceClass),
		r(http.MethodGet, "/resource_classes/{name}", v(1, 2), h.getResourceClass),
		{Method: http.MethodPut, Pattern: "/resource_classes/{name}", Min: v(1, 2), Max: v(1, 6), Admin: true, Handler: h.renameResourceClass},
		r(http.MethodPut, "/resource_classes/{name}", v(1, 7), h.ensureResourceClass),
		r(http.MethodDelete, "/resource_classes/{name}", v(1, 2), h.deleteResourceClass),

		r(http.MethodGet, "/traits", v(1, 6), h.listTraits),
		r(http.MethodGet, "/traits/{name}", v(1, 6), h.getTrait),
		r(http.MethodPut, "/traits/{name}", v(1, 6), h.putTrait),
		r(http.MethodDelete, "/traits/{name}", v(1, 6), h.deleteTrait),

		r(http.MethodPost, "/allocations", v(1, 13), h.postAllocations),
		r(http.MethodGet, "/allocations/{consumer}", v(1, 0), h.getAllocations),
		r(http.MethodPut, "/allocations/{consumer}", v(1, 0), h.putAllocations),
		r(http.MethodDelete, "/allocations/{consumer}", v(1, 0), h.deleteAllocations),
		r(http.MethodGet, "/usages", v(1, 9), h.usages),
		r(http.MethodPost, "/reshaper", v(1, 30), h.reshape),
		r(http.MethodGet, "/allocation_candidates", v(1, 10), h.allocationCandidates),
	}
	return routes
}
