package baremetalapi

import (
	"net/http"
	"strings"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
)

// POST /allot/v1/allocations/dry-run takes the body of POST
// /v1/allocations and answers what that allocation would meet, creating
// nothing: a verdict on every node the worker would consider (the
// candidate nodes, or every node of the class) with every reason a node
// does not fit, and the node (or the nodes, one chosen at random) the
// worker would take first (baremetal.DryRun). The body is read and checked
// by POST /v1/allocations's code (schema, version and owner rules) at the
// microversion the request names, 1.52 or later, or the latest when it
// names none; the policy is baremetal:allocation:create's. A node the
// caller may not see (baremetal:node:get) gets no verdict.

// dryRunRoutes is the route table of the dry-run extension.
func (h *handlers) dryRunRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Pattern: ExtensionPrefix + "/allocations/dry-run", Policy: ruleAllocationCreate, Handler: h.dryRunAllocation},
	}
}

// ironicVersionHeader is Ironic's header naming a request's microversion.
const ironicVersionHeader = "X-OpenStack-Ironic-API-Version"

// versionNamed reports whether r names a Bare Metal microversion, in
// Ironic's header or in "OpenStack-API-Version: baremetal X.Y".
func versionNamed(r *http.Request) bool {
	if r.Header.Get(ironicVersionHeader) != "" {
		return true
	}
	for _, v := range r.Header.Values("OpenStack-API-Version") {
		for _, item := range strings.Split(v, ",") {
			if f := strings.Fields(item); len(f) > 0 && strings.EqualFold(f[0], "baremetal") {
				return true
			}
		}
	}
	return false
}

// extensionVersion serves a request that names no microversion at the
// latest (an extension has no old clients to stay compatible with), saying
// so in the answer's version headers, and returns the version the request
// is served at.
func extensionVersion(w http.ResponseWriter, r *http.Request) model.Version {
	if !versionNamed(r) {
		api.StateOf(r).Version = MaxVersion
		w.Header().Set(ironicVersionHeader, MaxVersion.String())
		w.Header().Set("OpenStack-API-Version", "baremetal "+MaxVersion.String())
	}
	return api.VersionOf(r)
}

func (h *handlers) dryRunAllocation(w http.ResponseWriter, r *http.Request) error {
	if v := extensionVersion(w, r); v.Less(model.V(1, 52)) {
		return model.BadRequest("%s/allocations/dry-run needs %s 1.52 or later, or none (the latest): its body is that of POST /v1/allocations, which microversion %s does not serve.",
			ExtensionPrefix, ironicVersionHeader, v)
	}
	in, _, err := h.allocationRequest(r)
	if err != nil {
		return err
	}
	// Nodes the caller may not see are left out of the answer.
	hidden := model.NotFound("hidden")
	d, err := h.svc.DryRunAllocation(r.Context(), in, nodeVisible(r, hidden)...)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, dryRunJSON(d))
}

// dryRunJSON is the answer's document: {"nodes": [{"uuid", "name",
// "fits", "reasons"}], "would_pick": [uuid, ...]}.
func dryRunJSON(d baremetal.DryRun) map[string]any {
	return map[string]any{"nodes": verdictsJSON(d.Nodes), "would_pick": d.WouldPick}
}

// verdictsJSON shows node verdicts as a list of {"uuid", "name", "fits",
// "reasons"}.
func verdictsJSON(vs []baremetal.NodeVerdict) []any {
	nodes := make([]any, 0, len(vs))
	for _, n := range vs {
		nodes = append(nodes, map[string]any{"uuid": n.UUID, "name": orNone(n.Name), "fits": n.Fits, "reasons": n.Reasons})
	}
	return nodes
}
