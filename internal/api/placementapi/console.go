package placementapi

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"allot/internal/api"
	"allot/internal/model"
)

// The web console's server-side reads (internal/console serves its pages):
//
// GET /allot/v1/capacity[?roots=N] sums every provider's inventories per
// resource class (total, reserved, capacity, used, free) and names, per
// class, the N (default 5, at most 100) fullest and emptiest trees, so that
// a page need not fetch every provider (model.Capacity). It is answered
// from the candidate index at the store's latest revision; its policy is
// GET /resource_providers/{uuid}/usages's, as it is every provider's usage.
//
// GET /allot/v1/revision is {"revision": N}, the store's latest committed
// revision, which every write moves: the console polls it and reloads a
// page only when it changed. Its policy is GET /resource_providers's.
//
// GET /allot/v1/permissions says which of this API's policy rules the
// caller passes, evaluated by the enforcer that governs the routes, so that
// the console shows write controls only to callers who may write. Its
// policy is GET /resource_providers's: a caller who cannot list providers
// has no use for the console.

// Bounds of the capacity query's roots parameter.
const (
	defaultCapacityRoots = 5
	maxCapacityRoots     = 100
)

// consoleRoutes is the route table of the console's reads.
func (h *handlers) consoleRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/capacity", Policy: ruleProviderUsages, Handler: h.capacity},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/permissions", Policy: ruleProviderList, Handler: h.permissions},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/revision", Policy: ruleProviderList, Handler: h.revision},
	}
}

func (h *handlers) capacity(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	roots, err := parseCapacityQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	c, err := h.svc.Capacity(r.Context(), roots)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, c)
}

// parseCapacityQuery reads the roots parameter (the only one).
func parseCapacityQuery(raw string) (int, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return 0, model.BadRequest("Invalid query string: %v.", err)
	}
	n := defaultCapacityRoots
	for name, values := range q {
		if name != "roots" {
			return 0, model.BadRequest("Invalid query string parameter %q: %s/capacity takes only roots (the number of fullest and emptiest trees per class, 1 to %d).", name, ExtensionPrefix, maxCapacityRoots)
		}
		if len(values) != 1 {
			return 0, model.BadRequest("roots is given %d times: give it once (1 to %d).", len(values), maxCapacityRoots)
		}
		v, err := strconv.Atoi(values[0])
		if err != nil || v < 1 || v > maxCapacityRoots {
			return 0, model.BadRequest("roots %q is not a whole number from 1 to %d.", values[0], maxCapacityRoots)
		}
		n = v
	}
	return n, nil
}

// permissionsAnswer is GET /allot/v1/permissions's document.
type permissionsAnswer struct {
	// Rules maps every policy rule a route of this API names to whether
	// the caller passes it (on its own project, the default target).
	Rules map[string]bool `json:"rules"`
	// Identity is who the API took the caller to be.
	Identity permissionsIdentity `json:"identity"`
}

type permissionsIdentity struct {
	UserID      string   `json:"user_id"`
	ProjectID   string   `json:"project_id"`
	SystemScope string   `json:"system_scope,omitempty"`
	Roles       []string `json:"roles"`
}

func (h *handlers) permissions(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/permissions takes no query parameters.", ExtensionPrefix)
	}
	st := api.StateOf(r)
	ans := permissionsAnswer{Rules: map[string]bool{}}
	for _, rt := range st.Service.Routes {
		if rt.Policy != "" {
			ans.Rules[rt.Policy] = api.Allowed(r, rt.Policy, nil)
		}
	}
	if id, ok := api.IdentityOf(r); ok {
		roles := append([]string{}, id.Roles...)
		sort.Strings(roles)
		ans.Identity = permissionsIdentity{UserID: id.UserID, ProjectID: id.ProjectID, SystemScope: id.SystemScope, Roles: roles}
	} else {
		ans.Identity.Roles = []string{}
	}
	return api.WriteJSON(w, http.StatusOK, ans)
}

func (h *handlers) revision(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/revision takes no query parameters.", ExtensionPrefix)
	}
	rev, err := h.svc.Revision(r.Context())
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, map[string]int64{"revision": rev})
}
