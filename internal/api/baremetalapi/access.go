package baremetalapi

import (
	"net/http"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
	"allot/internal/policy"
)

// How Ironic applies its rules (ironic/api/controllers/v1/utils.py): the
// target of a check is the caller's own policy values plus the object's
// "node.owner" / "node.lessee" or "allocation.owner"; a node or an
// allocation the caller may not see (baremetal:node:get,
// baremetal:allocation:get) is answered as if it did not exist, and only
// then is the operation's own rule checked (a 403 naming it). Under noauth
// (no identity) none of this applies.
//
// A handler makes one service call: the checks on the objects it names go
// to the service as baremetal.Check closures, which the service runs inside
// its one transaction on the rows it found (and locked, for a write), before
// it changes anything. The policy (which rule, which target, 404, 403 or
// 400) stays here; the service only decides when it runs.

// orNone is s, or Python's None when s is empty.
func orNone(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ptrOrNone is *p, or None when p is nil.
func ptrOrNone(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// credTarget is the caller's policy values (oslo.context's
// to_policy_values), which Ironic uses as the base of every target.
func credTarget(c policy.Credentials) policy.Target {
	t := policy.Target{
		"user_id": orNone(c.UserID), "user_domain_id": orNone(c.UserDomainID), "system_scope": orNone(c.SystemScope),
		"domain_id": orNone(c.DomainID), "project_id": orNone(c.ProjectID), "project_domain_id": orNone(c.ProjectDomainID),
		"roles": c.Roles, "is_admin_project": c.IsAdminProject,
		"service_user_id": orNone(c.ServiceUserID), "service_user_domain_id": orNone(c.ServiceUserDomainID),
		"service_project_id": orNone(c.ServiceProjectID), "service_project_domain_id": orNone(c.ServiceProjectDomainID),
		"service_roles": c.ServiceRoles,
	}
	return t
}

// nodeTarget is the target of a rule on node n: "node.owner" is always
// there (None for no owner), "node.lessee" only when the node has one, as
// Ironic's check_owner_policy builds it.
func nodeTarget(c policy.Credentials, n *model.Node) policy.Target {
	t := credTarget(c)
	t["node.owner"] = ptrOrNone(n.Owner)
	if n.Lessee != nil && *n.Lessee != "" {
		t["node.lessee"] = *n.Lessee
	}
	return t
}

// allocationTarget is the target of a rule on allocation a.
func allocationTarget(c policy.Credentials, a *model.NodeAllocation) policy.Target {
	t := credTarget(c)
	t["allocation.owner"] = ptrOrNone(a.Owner)
	return t
}

// nodeNotFound is Ironic's NodeNotFound, with the identifier as given.
func nodeNotFound(ident string) error {
	return model.NotFound("Node %s could not be found.", model.Clip(ident, 200))
}

// seeNode checks the caller's rights on node n (named ident in the
// request): a caller that may not see it gets the 404 of a node that does
// not exist, then each rule must pass (else the 403 naming it); with no
// rules, the route's own rule must.
func seeNode(r *http.Request, n *model.Node, ident string, rules ...string) error {
	c, ok := api.IdentityOf(r)
	if !ok {
		return nil
	}
	t := nodeTarget(c, n)
	if !api.Allowed(r, ruleNodeGet, t) {
		return nodeNotFound(ident)
	}
	if len(rules) == 0 {
		return api.Authorize(r, t)
	}
	for _, rule := range rules {
		if err := api.Enforce(r, rule, t); err != nil {
			return err
		}
	}
	return nil
}

// policyChecks is c as the checks of a service call when policy applies
// to r, and no check at all under noauth.
func policyChecks(r *http.Request, c baremetal.Check) []baremetal.Check {
	if _, ok := api.IdentityOf(r); !ok {
		return nil
	}
	return []baremetal.Check{c}
}

// nodeCheck is the check of a write on node ident, which the service runs
// on the node as it locked it: seeNode with rules, then after (when not
// nil), a refusal of the handler's own that Ironic answers only once the
// node's policy has passed. Under noauth there is no check, and a handler
// answers such a refusal before its call.
func nodeCheck(r *http.Request, ident string, after func(*model.Node) error, rules ...string) []baremetal.Check {
	return policyChecks(r, baremetal.Check{Node: func(n *model.Node) error {
		if err := seeNode(r, n, ident, rules...); err != nil || after == nil {
			return err
		}
		return after(n)
	}})
}

// seeAllocation checks the caller's rights on allocation a: one the
// caller may not see (baremetal:allocation:get) is a 404, then the route's
// rule must pass.
func seeAllocation(r *http.Request, a *model.NodeAllocation, ident string) error {
	c, ok := api.IdentityOf(r)
	if !ok {
		return nil
	}
	t := allocationTarget(c, a)
	if !api.Allowed(r, ruleAllocationGet, t) {
		return model.NotFound("Allocation %s could not be found.", model.Clip(ident, 200))
	}
	return api.Authorize(r, t)
}

// allocationCheck is the check of a write on allocation ident, which the
// service runs on the allocation as it locked it: seeAllocation, then
// after (when not nil), as nodeCheck's.
func allocationCheck(r *http.Request, ident string, after func(*model.NodeAllocation) error) []baremetal.Check {
	return policyChecks(r, baremetal.Check{Allocation: func(a *model.NodeAllocation) error {
		if err := seeAllocation(r, a, ident); err != nil || after == nil {
			return err
		}
		return after(a)
	}})
}

// nodeAllocationCheck is the check of /v1/nodes/{node}/allocation: a node
// the caller may not see is answered hidden, then the route's rule must
// pass on the node's allocation. (An unknown node is the service's 400.)
func nodeAllocationCheck(r *http.Request, hidden error) []baremetal.Check {
	checks := nodeVisible(r, hidden)
	if c, ok := api.IdentityOf(r); ok {
		checks[0].Allocation = func(a *model.NodeAllocation) error { return api.Authorize(r, allocationTarget(c, a)) }
	}
	return checks
}

// nodeVisible is the check of a node a request names in its body or its
// query (a backfill's node, a list's node filter): one the caller may not
// see is answered hidden.
func nodeVisible(r *http.Request, hidden error) []baremetal.Check {
	c, _ := api.IdentityOf(r)
	return policyChecks(r, baremetal.Check{Node: func(n *model.Node) error {
		if !api.Allowed(r, ruleNodeGet, nodeTarget(c, n)) {
			return hidden
		}
		return nil
	}})
}

// listProject applies Ironic's check_list_policy to a list whose project
// filter is requested (nil: none): a caller that passes allRule lists what
// it asks for; any other caller must be project-scoped, may ask only for
// its own project, must pass the route's rule, and has the list narrowed
// to its project (the filter returned).
func listProject(r *http.Request, allRule string, requested *string) (*string, error) {
	c, ok := api.IdentityOf(r)
	if !ok {
		return requested, nil
	}
	t := credTarget(c)
	if api.Allowed(r, allRule, t) {
		return requested, nil
	}
	if c.ProjectID == "" || (requested != nil && *requested != "" && *requested != c.ProjectID) {
		return nil, api.Enforce(r, allRule, t)
	}
	if err := api.Authorize(r, t); err != nil {
		return nil, err
	}
	project := c.ProjectID
	return &project, nil
}

// The masks Ironic puts over node fields a caller below
// baremetal:node:get:filter_threshold may not see.
var nodeFieldMasks = []struct {
	field, rule string
	mask        any
}{
	{"last_error", ruleNodeGetLastError, "** Value Redacted - Requires baremetal:node:get:last_error permission. **"},
	{"reservation", ruleNodeGetReservation, "** Redacted - requires baremetal:node:get:reservation permission. **"},
	{"driver_internal_info", ruleNodeGetInternalInfo,
		map[string]any{"content": "** Redacted - Requires baremetal:node:get:driver_internal_info permission. **"}},
	{"driver_info", ruleNodeGetDriverInfo, map[string]any{"content": "** Redacted - requires baremetal:node:get:driver_info permission. **"}},
}

// masker hides the fields of nodeFieldMasks from a caller who fails
// baremetal:node:get:filter_threshold, field by field, unless it passes
// the field's rule on that node. A nil masker masks nothing (noauth, or a
// caller above the threshold).
type masker struct {
	r *http.Request
	c policy.Credentials
}

// newMasker decides once per request whether node fields are masked.
func newMasker(r *http.Request) *masker {
	c, ok := api.IdentityOf(r)
	if !ok || api.Allowed(r, ruleNodeFilterThreshold, credTarget(c)) {
		return nil
	}
	return &masker{r: r, c: c}
}

// apply masks the fields of obj, node n's rendering, that the caller may
// not see. The target names the owner and lessee only when set, as
// Ironic's node sanitizer builds it.
func (m *masker) apply(obj map[string]any, n *model.Node) {
	if m == nil {
		return
	}
	var t policy.Target
	for _, f := range nodeFieldMasks {
		if _, shown := obj[f.field]; !shown {
			continue
		}
		if t == nil {
			t = credTarget(m.c)
			if n.Owner != nil && *n.Owner != "" {
				t["node.owner"] = *n.Owner
			}
			if n.Lessee != nil && *n.Lessee != "" {
				t["node.lessee"] = *n.Lessee
			}
		}
		if !api.Allowed(m.r, f.rule, t) {
			obj[f.field] = f.mask
		}
	}
}
