package placementapi

import (
	"cmp"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/query"
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

// GET /allot/v1/capacity/aggregates[?limit=N&offset=M] is a page of the
// aggregates (by UUID) with their providers' capacity per class
// (model.AggregateCapacities); policy as /capacity's.
//
// GET /allot/v1/capacity/roots?resource_class=C[&limit=N&offset=M] is
// every tree's share in use of class C, one number each (a heat map), and
// the sums of a page of them (model.RootShares); policy as /capacity's.
//
// GET /allot/v1/resource_providers[?name=S&uuid=P&required=..&member_of=..
// &limit=N&offset=M] finds providers by a substring of their name (any
// case), the start of their UUID, traits and aggregates (as GET
// /resource_providers reads required and member_of), a page at a time in
// name order, with the number of matches. Policy: GET /resource_providers's.
//
// GET /allot/v1/resource_providers/{uuid}/sharing is the provider's
// sharing relations (model.Sharing); policy: GET /resource_providers's.
//
// GET /allot/v1/resource_providers/{uuid}/consumers lists the consumers
// with allocations on the provider, with their project, user, type and
// amounts; policy: GET /allocations/{consumer_uuid}'s, as it shows what
// that shows.

// Bounds of the capacity query's roots parameter.
const (
	defaultCapacityRoots = 5
	maxCapacityRoots     = 100
)

// consoleRoutes is the route table of the console's reads.
func (h *handlers) consoleRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/capacity", Policy: ruleProviderUsages, Handler: h.capacity},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/capacity/aggregates", Policy: ruleProviderUsages, Handler: h.aggregateCapacity},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/capacity/roots", Policy: ruleProviderUsages, Handler: h.rootShares},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/resource_providers", Policy: ruleProviderList, Handler: h.searchProviders},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/resource_providers/{uuid}/sharing", Policy: ruleProviderList, Handler: h.sharing},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/resource_providers/{uuid}/consumers", Policy: ruleAllocationList, Handler: h.providerConsumers},
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

func (h *handlers) permissions(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/permissions takes no query parameters.", ExtensionPrefix)
	}
	return api.WriteJSON(w, http.StatusOK, api.PermissionsOf(r, nil))
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

// Paging of the console's lists: limit (1 to maxConsoleLimit, default
// defaultConsoleLimit) items from offset (0 to maxConsoleOffset).
const (
	defaultConsoleLimit = 50
	maxConsoleLimit     = 1000
	maxConsoleOffset    = 1 << 30
)

// consoleQuery is a console endpoint's parsed query: each parameter among
// the endpoint's, single unless repeatable.
type consoleQuery struct {
	params   query.Params
	endpoint string
}

// parseConsoleQuery reads raw for endpoint (its path, for messages),
// refusing a parameter not in allowed and a second value of one not in
// repeatable.
func parseConsoleQuery(raw, endpoint string, allowed, repeatable []string) (consoleQuery, error) {
	p, err := query.ParseParams(raw)
	if err != nil {
		return consoleQuery{}, err
	}
	for _, k := range p.Keys() {
		if !slices.Contains(allowed, k) {
			return consoleQuery{}, model.BadRequest("Invalid query string parameter %q: %s takes %s.", model.Clip(k, 64), endpoint, strings.Join(allowed, ", "))
		}
		if n := len(p.All(k)); n > 1 && !slices.Contains(repeatable, k) {
			return consoleQuery{}, model.BadRequest("%s is given %d times: give it once.", k, n)
		}
	}
	return consoleQuery{params: p, endpoint: endpoint}, nil
}

// number reads a whole-number parameter from lo to hi, def when absent.
func (q consoleQuery) number(name string, def, lo, hi int) (int, error) {
	if !q.params.Has(name) {
		return def, nil
	}
	v, err := strconv.Atoi(q.params.Get(name))
	if err != nil || v < lo || v > hi {
		return 0, model.BadRequest("%s %q is not a whole number from %d to %d.", name, model.Clip(q.params.Get(name), 64), lo, hi)
	}
	return v, nil
}

// page reads limit and offset.
func (q consoleQuery) page() (offset, limit int, err error) {
	if limit, err = q.number("limit", defaultConsoleLimit, 1, maxConsoleLimit); err != nil {
		return 0, 0, err
	}
	offset, err = q.number("offset", 0, 0, maxConsoleOffset)
	return offset, limit, err
}

func (h *handlers) aggregateCapacity(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	q, err := parseConsoleQuery(r.URL.RawQuery, ExtensionPrefix+"/capacity/aggregates", []string{"limit", "offset"}, nil)
	if err != nil {
		return err
	}
	offset, limit, err := q.page()
	if err != nil {
		return err
	}
	c, err := h.svc.AggregateCapacity(r.Context(), offset, limit)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) rootShares(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	q, err := parseConsoleQuery(r.URL.RawQuery, ExtensionPrefix+"/capacity/roots", []string{"resource_class", "limit", "offset"}, nil)
	if err != nil {
		return err
	}
	class := q.params.Get("resource_class")
	if class == "" {
		return model.BadRequest("%s/capacity/roots needs resource_class, the class to show (e.g. resource_class=VCPU).", ExtensionPrefix)
	}
	offset, limit, err := q.page()
	if err != nil {
		return err
	}
	c, err := h.svc.RootShares(r.Context(), class, offset, limit)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, c)
}

// uuidPrefix is what the search's uuid parameter may be: the start of a
// UUID in its canonical form.
var uuidPrefix = regexp.MustCompile(`^[0-9a-fA-F-]{1,36}$`)

// maxSearchName bounds the name searched for (a provider's name has at
// most 200 characters).
const maxSearchName = 200

// foundProvider is one provider the search found.
type foundProvider struct {
	UUID       string `json:"uuid"`
	Name       string `json:"name"`
	Generation int64  `json:"generation"`
	ParentUUID any    `json:"parent_provider_uuid"`
	RootUUID   string `json:"root_provider_uuid"`
}

func (h *handlers) searchProviders(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	endpoint := ExtensionPrefix + "/resource_providers"
	q, err := parseConsoleQuery(r.URL.RawQuery, endpoint, []string{"name", "uuid", "required", "member_of", "limit", "offset"}, []string{"required", "member_of"})
	if err != nil {
		return err
	}
	var f query.ProviderList
	f.NameContains = q.params.Get("name")
	if len(f.NameContains) > maxSearchName {
		return model.BadRequest("name is %d characters long: a provider's name has at most %d.", len(f.NameContains), maxSearchName)
	}
	if u := q.params.Get("uuid"); u != "" {
		if !uuidPrefix.MatchString(u) {
			return model.BadRequest("uuid %q is not the start of a UUID (hexadecimal digits and dashes, at most 36).", model.Clip(u, 64))
		}
		f.UUIDPrefix = strings.ToLower(u)
	}
	if q.params.Has("required") {
		if f.Required, err = query.ParseRequired(q.params.All("required"), MaxVersion); err != nil {
			return err
		}
	}
	if q.params.Has("member_of") {
		if f.MemberOf, err = query.ParseMemberOf(q.params.All("member_of"), "", MaxVersion); err != nil {
			return err
		}
	}
	offset, limit, err := q.page()
	if err != nil {
		return err
	}
	ps, err := h.svc.ListProviders(r.Context(), f)
	if err != nil {
		return err
	}
	slices.SortFunc(ps, func(a, b model.Provider) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UUID, b.UUID)) })
	found := []foundProvider{}
	if offset < len(ps) {
		for _, p := range ps[offset:min(offset+limit, len(ps))] {
			var parent any
			if p.ParentUUID != "" {
				parent = p.ParentUUID
			}
			found = append(found, foundProvider{UUID: p.UUID, Name: p.Name, Generation: p.Generation, ParentUUID: parent, RootUUID: p.RootUUID})
		}
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"count": len(ps), "offset": offset, "resource_providers": found})
}

// maxServes bounds the trees a sharing provider's answer names.
const maxServes = 1000

func (h *handlers) sharing(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	q, err := parseConsoleQuery(r.URL.RawQuery, ExtensionPrefix+"/resource_providers/{uuid}/sharing", []string{"limit"}, nil)
	if err != nil {
		return err
	}
	limit, err := q.number("limit", defaultConsoleLimit, 1, maxServes)
	if err != nil {
		return err
	}
	s, err := h.svc.Sharing(r.Context(), r.PathValue("uuid"), limit)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, s)
}

// providerConsumer is one consumer in GET .../consumers.
type providerConsumer struct {
	UUID         string           `json:"consumer_uuid"`
	ProjectID    string           `json:"project_id"`
	UserID       string           `json:"user_id"`
	ConsumerType string           `json:"consumer_type"`
	Resources    map[string]int64 `json:"resources"`
}

func (h *handlers) providerConsumers(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	q, err := parseConsoleQuery(r.URL.RawQuery, ExtensionPrefix+"/resource_providers/{uuid}/consumers", []string{"limit"}, nil)
	if err != nil {
		return err
	}
	limit, err := q.number("limit", defaultConsoleLimit, 1, maxConsoleLimit)
	if err != nil {
		return err
	}
	cs, count, err := h.svc.ProviderConsumers(r.Context(), r.PathValue("uuid"), limit)
	if err != nil {
		return err
	}
	out := make([]providerConsumer, 0, len(cs))
	for _, c := range cs {
		out = append(out, providerConsumer{UUID: c.Consumer.UUID, ProjectID: c.Consumer.ProjectID, UserID: c.Consumer.UserID,
			ConsumerType: placement.ConsumerTypeName(c.Consumer.ConsumerType), Resources: c.Resources})
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"count": count, "consumers": out})
}
