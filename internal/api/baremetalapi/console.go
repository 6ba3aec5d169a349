package baremetalapi

import (
	"cmp"
	"net/http"
	"slices"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
)

// The web console's reads on the Bare Metal API (its bare-metal page; the
// console reaches this API under /baremetal on the Placement listener):
//
// GET /allot/v1/permissions says which of this API's policy rules the
// caller passes, each evaluated by this API's enforcer on the caller's own
// policy values (the base of every Ironic target), so that the page draws
// its write controls (create and delete an allocation) only for callers
// who may use them. Its policy is baremetal:node:list's.
//
// GET /allot/v1/summary counts the nodes the caller's node list would
// return (every node, or its project's) by provision state, power state,
// maintenance and resource class, and the allocations its allocation list
// would return by state, so that the page need not fetch every node. The
// allocations are left out (null) for a caller who may not list them. Its
// policy is baremetal:node:list's; allocations need
// baremetal:allocation:list as well.

// consoleRoutes is the route table of the console's reads.
func (h *handlers) consoleRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/permissions", Policy: ruleNodeList, Handler: h.permissions},
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/summary", Policy: ruleNodeList, Handler: h.summary},
	}
}

func (h *handlers) permissions(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/permissions takes no query parameters.", ExtensionPrefix)
	}
	c, _ := api.IdentityOf(r)
	return api.WriteJSON(w, http.StatusOK, api.PermissionsOf(r, credTarget(c)))
}

// count is one value of a summary's breakdown and how many have it; a
// value of nil is a field that is not set (a node without a power state
// or a resource class).
type count struct {
	Value any `json:"value"`
	Count int `json:"count"`
}

// nodeSummary counts nodes.
type nodeSummary struct {
	Total          int     `json:"total"`
	ProvisionState []count `json:"provision_state"`
	PowerState     []count `json:"power_state"`
	Maintenance    []count `json:"maintenance"`
	ResourceClass  []count `json:"resource_class"`
	// Allocated is how many have an allocation.
	Allocated int `json:"allocated"`
}

// allocationSummary counts allocations.
type allocationSummary struct {
	Total int     `json:"total"`
	State []count `json:"state"`
}

type summaryAnswer struct {
	Nodes       nodeSummary        `json:"nodes"`
	Allocations *allocationSummary `json:"allocations"`
}

// tally counts values; counts lists them most frequent first, then by
// value (unset last), so that an answer's order is fixed.
type tally map[any]int

func (t tally) counts() []count {
	out := make([]count, 0, len(t))
	for v, n := range t {
		out = append(out, count{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		as, aok := a.Value.(string)
		bs, bok := b.Value.(string)
		if aok != bok { // nil after strings
			if aok {
				return -1
			}
			return 1
		}
		if ab, ok := a.Value.(bool); ok { // false before true
			bb, _ := b.Value.(bool)
			if ab == bb {
				return 0
			}
			if !ab {
				return -1
			}
			return 1
		}
		return cmp.Compare(as, bs)
	})
	return out
}

// strValue is *p as a tally key, nil when unset.
func strValue(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func (h *handlers) summary(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/summary takes no query parameters.", ExtensionPrefix)
	}
	// The nodes of the caller's node list: all of them, or its project's.
	project, err := listProject(r, ruleNodeListAll, nil)
	if err != nil {
		return err
	}
	f := baremetal.SummaryFilter{NodeProject: project}
	f.Allocations, f.AllocationOwner = allocationsToCount(r)
	nodes, allocs, err := h.svc.Summary(r.Context(), f)
	if err != nil {
		return err
	}
	var ans summaryAnswer
	provision, power, maintenance, class := tally{}, tally{}, tally{}, tally{}
	for _, c := range nodes {
		provision[c.ProvisionState] += c.Count
		power[strValue(c.PowerState)] += c.Count
		maintenance[c.Maintenance] += c.Count
		class[strValue(c.ResourceClass)] += c.Count
		ans.Nodes.Total += c.Count
		if c.Allocated {
			ans.Nodes.Allocated += c.Count
		}
	}
	ans.Nodes.ProvisionState, ans.Nodes.PowerState = provision.counts(), power.counts()
	ans.Nodes.Maintenance, ans.Nodes.ResourceClass = maintenance.counts(), class.counts()
	if f.Allocations {
		// Each allocation the caller may see, as its allocation list
		// checks each: the rule's target is the allocation's owner.
		c, authenticated := api.IdentityOf(r)
		ans.Allocations = &allocationSummary{}
		state := tally{}
		for _, g := range allocs {
			if authenticated && !api.Allowed(r, ruleAllocationGet, allocationTarget(c, &model.NodeAllocation{Owner: g.Owner})) {
				continue
			}
			state[g.State] += g.Count
			ans.Allocations.Total += g.Count
		}
		ans.Allocations.State = state.counts()
	}
	return api.WriteJSON(w, http.StatusOK, ans)
}

// allocationsToCount says whether the caller's allocation list would
// answer, and for which owner (nil: every allocation), as listAllocations
// decides: not for a caller who may not list allocations.
func allocationsToCount(r *http.Request) (bool, *string) {
	c, authenticated := api.IdentityOf(r)
	if authenticated && !api.Allowed(r, ruleAllocationList, credTarget(c)) {
		return false, nil
	}
	owner, err := listProject(r, ruleAllocationListAll, nil)
	if err != nil {
		return false, nil // only a refusal: not its allocations to count
	}
	return true, owner
}
