package placementapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/model"
)

// routes is the Placement route table.
func (h *handlers) routes() []api.Route {
	v := model.V
	r := func(method, pattern string, min model.Version, rule string, fn api.HandlerFunc) api.Route {
		return api.Route{Method: method, Pattern: pattern, Since: api.SinceVersion(min), Policy: rule, Handler: fn}
	}
	routes := []api.Route{
		{Method: http.MethodGet, Pattern: "/", Public: true, Handler: h.root},

		r(http.MethodGet, "/resource_providers", v(1, 0), ruleProviderList, h.listProviders),
		r(http.MethodPost, "/resource_providers", v(1, 0), ruleProviderCreate, h.createProvider),
		r(http.MethodGet, "/resource_providers/{uuid}", v(1, 0), ruleProviderShow, h.getProvider),
		r(http.MethodPut, "/resource_providers/{uuid}", v(1, 0), ruleProviderUpdate, h.updateProvider),
		r(http.MethodDelete, "/resource_providers/{uuid}", v(1, 0), ruleProviderDelete, h.deleteProvider),

		r(http.MethodGet, "/resource_providers/{uuid}/inventories", v(1, 0), ruleInventoryList, h.getInventories),
		r(http.MethodPost, "/resource_providers/{uuid}/inventories", v(1, 0), ruleInventoryCreate, h.createInventory),
		r(http.MethodPut, "/resource_providers/{uuid}/inventories", v(1, 0), ruleInventoryUpdate, h.setInventories),
		{Method: http.MethodDelete, Pattern: "/resource_providers/{uuid}/inventories",
			Since:  api.Since{Min: v(1, 5), Status: http.StatusMethodNotAllowed, Message: "The method DELETE is not allowed for this resource."},
			Policy: ruleInventoryDelete, Handler: h.deleteInventories},
		r(http.MethodGet, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), ruleInventoryShow, h.getInventory),
		r(http.MethodPut, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), ruleInventoryUpdate, h.updateInventory),
		r(http.MethodDelete, "/resource_providers/{uuid}/inventories/{resource_class}", v(1, 0), ruleInventoryDelete, h.deleteInventory),

		r(http.MethodGet, "/resource_providers/{uuid}/usages", v(1, 0), ruleProviderUsages, h.providerUsages),
		r(http.MethodGet, "/resource_providers/{uuid}/aggregates", v(1, 1), ruleAggregateList, h.getAggregates),
		r(http.MethodPut, "/resource_providers/{uuid}/aggregates", v(1, 1), ruleAggregateUpdate, h.setAggregates),
		r(http.MethodGet, "/resource_providers/{uuid}/traits", v(1, 6), ruleProviderTraitList, h.getProviderTraits),
		r(http.MethodPut, "/resource_providers/{uuid}/traits", v(1, 6), ruleProviderTraitUpdate, h.setProviderTraits),
		r(http.MethodDelete, "/resource_providers/{uuid}/traits", v(1, 6), ruleProviderTraitDelete, h.deleteProviderTraits),
		r(http.MethodGet, "/resource_providers/{uuid}/allocations", v(1, 0), ruleProviderAllocationList, h.providerAllocations),

		r(http.MethodGet, "/resource_classes", v(1, 2), ruleClassList, h.listResourceClasses),
		r(http.MethodPost, "/resource_classes", v(1, 2), ruleClassCreate, h.createResourceClass),
		r(http.MethodGet, "/resource_classes/{name}", v(1, 2), ruleClassShow, h.getResourceClass),
		{Method: http.MethodPut, Pattern: "/resource_classes/{name}", Since: api.SinceVersion(v(1, 2)), Max: v(1, 6),
			Policy: ruleClassUpdate, Handler: h.renameResourceClass},
		r(http.MethodPut, "/resource_classes/{name}", v(1, 7), ruleClassUpdate, h.ensureResourceClass),
		r(http.MethodDelete, "/resource_classes/{name}", v(1, 2), ruleClassDelete, h.deleteResourceClass),

		r(http.MethodGet, "/traits", v(1, 6), ruleTraitList, h.listTraits),
		r(http.MethodGet, "/traits/{name}", v(1, 6), ruleTraitShow, h.getTrait),
		r(http.MethodPut, "/traits/{name}", v(1, 6), ruleTraitUpdate, h.putTrait),
		r(http.MethodDelete, "/traits/{name}", v(1, 6), ruleTraitDelete, h.deleteTrait),

		r(http.MethodPost, "/allocations", v(1, 13), ruleAllocationManage, h.postAllocations),
		r(http.MethodGet, "/allocations/{consumer}", v(1, 0), ruleAllocationList, h.getAllocations),
		r(http.MethodPut, "/allocations/{consumer}", v(1, 0), ruleAllocationUpdate, h.putAllocations),
		r(http.MethodDelete, "/allocations/{consumer}", v(1, 0), ruleAllocationDelete, h.deleteAllocations),
		r(http.MethodGet, "/usages", v(1, 9), ruleUsages, h.usages),
		r(http.MethodPost, "/reshaper", v(1, 30), ruleReshape, h.reshape),
		r(http.MethodGet, "/allocation_candidates", v(1, 10), ruleCandidates, h.allocationCandidates),
	}
	return append(routes, h.extensionRoutes()...)
}
