package baremetalapi

import (
	"net/http"
	"strings"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
	"allot/internal/query"
)

// allocationFields maps each allocation field to its minor version.
var allocationFields = map[string]int{
	"uuid": 52, "name": 52, "node_uuid": 52, "state": 52, "last_error": 52, "resource_class": 52, "traits": 52,
	"candidate_nodes": 52, "extra": 52, "created_at": 52, "updated_at": 52, "links": 52, "owner": 60,
}

func (h *handlers) allocationJSON(r *http.Request, a *model.NodeAllocation) map[string]any {
	var node any
	if a.NodeUUID != "" {
		node = a.NodeUUID
	}
	out := map[string]any{
		"uuid": a.UUID, "name": strOrNil(a.Name), "node_uuid": node, "state": a.State, "last_error": strOrNil(a.LastError),
		"resource_class": a.ResourceClass, "traits": a.Traits, "candidate_nodes": a.CandidateNodes, "extra": a.Extra,
		"created_at": timestamp(a.CreatedAt), "updated_at": timestamp(a.UpdatedAt), "links": h.links(r, "allocations", a.UUID),
	}
	if at(r, 60) {
		out["owner"] = strOrNil(a.Owner)
	}
	return out
}

var allocationSchema = api.MustSchema(`{"type": "object", "properties": {
	"candidate_nodes": {"type": ["array", "null"], "items": {"type": "string"}},
	"extra": {"type": ["object", "null"]},
	"name": {"type": ["string", "null"]},
	"node": {"type": ["string", "null"]},
	"owner": {"type": ["string", "null"]},
	"resource_class": {"type": ["string", "null"], "maxLength": 80},
	"traits": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 255}},
	"uuid": {"type": ["string", "null"]}},
	"additionalProperties": false}`)

func (h *handlers) createAllocation(w http.ResponseWriter, r *http.Request) error {
	in, checks, err := h.allocationRequest(r)
	if err != nil {
		return err
	}
	a, err := h.svc.CreateAllocation(r.Context(), in, checks...)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/allocations/"+a.UUID)
	return api.WriteJSON(w, http.StatusCreated, h.allocationJSON(r, &a))
}

// allocationRequest reads the body of POST /v1/allocations (and of its
// dry run) into what the service takes, under Ironic's version and owner
// rules (allocationOwner), narrowing the candidate nodes to the caller's
// project when it may not name others; checks are those of the node a
// backfill names.
func (h *handlers) allocationRequest(r *http.Request) (baremetal.AllocationCreate, []baremetal.Check, error) {
	fail := func(err error) (baremetal.AllocationCreate, []baremetal.Check, error) {
		return baremetal.AllocationCreate{}, nil, err
	}
	m, err := readObject(r, allocationSchema, "allocation")
	if err != nil {
		return fail(err)
	}
	owner, err := h.allocationOwner(r, m.str("owner"))
	if err != nil {
		return fail(err)
	}
	in := baremetal.AllocationCreate{Name: m.str("name"), ResourceClass: m.str("resource_class"), Traits: m.strings("traits"),
		CandidateNodes: m.strings("candidate_nodes"), Owner: owner, Extra: m.object("extra")}
	if u := m.str("uuid"); u != nil {
		in.UUID = *u
	}
	if n := m.str("node"); n != nil {
		if !at(r, 58) {
			return fail(model.BadRequest("Cannot set node when creating an allocation in this API version"))
		}
		in.Node = *n
	}
	if _, given := m["owner"]; given && !at(r, 60) {
		return fail(notAcceptable())
	}
	var checks []baremetal.Check
	if in.Node != "" {
		// The node to backfill must be one the caller sees; one it does
		// not is as unknown as a missing one (the service's 400).
		checks = nodeVisible(r, model.BadRequest("Node %s could not be found.", model.Clip(in.Node, 200)))
	}
	if c, ok := api.IdentityOf(r); ok && len(in.CandidateNodes) > 0 && !api.Allowed(r, ruleAllocationCreateRestricted, credTarget(c)) {
		in.CandidateProject = c.ProjectID
	}
	return in, checks, nil
}

// allocationOwner applies Ironic's rules to creating an allocation whose
// body names owner (nil: none) and returns the owner it gets. Anyone with
// baremetal:allocation:create may create one; while the legacy rules are
// in force, one without an owner also needs create_pre_rbac. A caller
// refused those gets an allocation owned by its own project if it passes
// create_restricted (and names no other project). Under the new defaults
// a project-scoped caller's allocation is owned by its project, and naming
// another owner needs create_restricted.
func (h *handlers) allocationOwner(r *http.Request, owner *string) (*string, error) {
	c, ok := api.IdentityOf(r)
	if !ok {
		return owner, nil
	}
	t := credTarget(c)
	given := owner != nil && *owner != ""
	err := api.Authorize(r, t)
	if err == nil && h.legacy && !given {
		err = api.Enforce(r, ruleAllocationCreatePreRBAC, t)
	}
	if err != nil {
		if c.ProjectID != "" && given && *owner != c.ProjectID {
			return nil, err
		}
		if given && h.legacy {
			if err := api.Enforce(r, ruleAllocationCreatePreRBAC, t); err != nil {
				return nil, err
			}
		}
		if err := api.Enforce(r, ruleAllocationCreateRestricted, t); err != nil {
			return nil, err
		}
		return projectOf(c), nil
	}
	if h.legacy || c.SystemScope == "all" {
		return owner, nil
	}
	if !given {
		return projectOf(c), nil
	}
	if *owner != c.ProjectID && !api.Allowed(r, ruleAllocationCreateRestricted, t) {
		return nil, model.Errorf(model.KindForbidden, "Cannot create allocation with an owner Project ID value %s not matching the requestor Project ID %s. Policy %s is required for this capability.",
			*owner, c.ProjectID, ruleAllocationCreateRestricted)
	}
	return owner, nil
}

// projectOf is the caller's project, nil when it has none.
func projectOf(c api.Identity) *string {
	if c.ProjectID == "" {
		return nil
	}
	p := c.ProjectID
	return &p
}

func (h *handlers) getAllocation(w http.ResponseWriter, r *http.Request) error {
	fields, err := showFields(r, allocationFields)
	if err != nil {
		return err
	}
	ident := r.PathValue("allocation")
	a, err := h.svc.GetAllocation(r.Context(), ident)
	if err != nil {
		return err
	}
	if err := seeAllocation(r, &a, ident); err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pick(h.allocationJSON(r, &a), fields))
}

func (h *handlers) listAllocations(w http.ResponseWriter, r *http.Request) error {
	p, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if err := checkParams(p, "node", "resource_class", "state", "owner", "fields", "limit", "marker", "sort_key", "sort_dir"); err != nil {
		return err
	}
	owner, err := listProject(r, ruleAllocationListAll, optString(p, "owner"))
	if err != nil {
		return err
	}
	if p.Has("owner") && !at(r, 60) {
		return notAcceptable()
	}
	fields, err := parseFields(r, p, allocationFields)
	if err != nil {
		return err
	}
	pg, err := parsePage(p, baremetal.AllocationSortable, []string{"extra", "candidate_nodes", "traits"})
	if err != nil {
		return err
	}
	// The service finds the node (an unknown one is a 400), checks it and
	// then finds the marker, in its one read.
	f := baremetal.AllocationFilter{Marker: pg.marker, NodeAllocationFilter: model.NodeAllocationFilter{Limit: pg.limit, SortKey: pg.sortKey, SortDesc: pg.desc}}
	var checks []baremetal.Check
	if p.Has("node") {
		ident := p.Get("node")
		if _, isUUID := model.NormalizeUUID(ident); !isUUID && !baremetal.IsLogicalName(ident) {
			return model.BadRequest("Expected UUID or name for node: %s", model.Clip(ident, 200))
		}
		f.Node = ident
		checks = nodeVisible(r, model.NotFound("Resource could not be found."))
	}
	f.ResourceClass, f.State, f.Owner = optString(p, "resource_class"), optString(p, "state"), owner
	allocs, err := h.svc.ListAllocations(r.Context(), f, checks...)
	if err != nil {
		return err
	}
	if c, ok := api.IdentityOf(r); ok {
		// As in Ironic, every allocation listed must be one the caller
		// may see.
		for i := range allocs {
			if err := api.Enforce(r, ruleAllocationGet, allocationTarget(c, &allocs[i])); err != nil {
				return err
			}
		}
	}
	out := make([]any, 0, len(allocs))
	for i := range allocs {
		out = append(out, pick(h.allocationJSON(r, &allocs[i]), fields))
	}
	doc := map[string]any{"allocations": out}
	if len(allocs) == pg.limit && len(allocs) > 0 {
		setNext(doc, "allocations", h.nextLink(r, p, pg, allocs[len(allocs)-1].UUID))
	}
	return api.WriteJSON(w, http.StatusOK, doc)
}

var allocationPatchSchema = api.MustSchema(`{"type": "array", "items": {"type": "object", "properties": {
	"op": {"type": "string", "enum": ["add", "replace", "remove"]},
	"path": {"type": "string"},
	"value": {}},
	"required": ["op", "path"], "additionalProperties": false}}`)

func (h *handlers) patchAllocation(w http.ResponseWriter, r *http.Request) error {
	if !at(r, 57) {
		return model.Errorf(model.KindMethodNotAllowed, "The API version does not allow updating allocations")
	}
	raw, body, err := readBody(r, allocationPatchSchema, "patch")
	if err != nil {
		return err
	}
	// A path beyond name and extra is refused once the allocation's
	// policy has passed (at once under noauth).
	var badPath error
	for _, item := range raw.([]any) {
		path, _ := item.(map[string]any)["path"].(string)
		field := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
		if field != "name" && field != "extra" {
			badPath = model.BadRequest("Cannot patch %s. Only the following can be updated: name, extra", model.Clip(path, 200))
			break
		}
	}
	ident := r.PathValue("allocation")
	checks := allocationCheck(r, ident, func(*model.NodeAllocation) error { return badPath })
	if checks == nil && badPath != nil {
		return badPath
	}
	a, err := h.svc.PatchAllocation(r.Context(), ident, body, checks...)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, h.allocationJSON(r, &a))
}

func (h *handlers) deleteAllocation(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("allocation")
	if err := h.svc.DeleteAllocation(r.Context(), ident, allocationCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) getNodeAllocation(w http.ResponseWriter, r *http.Request) error {
	fields, err := showFields(r, allocationFields)
	if err != nil {
		return err
	}
	ident := r.PathValue("node")
	a, err := h.svc.GetNodeAllocation(r.Context(), ident, nodeAllocationCheck(r, model.NotFound("Resource could not be found."))...)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pick(h.allocationJSON(r, &a), fields))
}

func (h *handlers) deleteNodeAllocation(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	if err := h.svc.DeleteNodeAllocation(r.Context(), ident, nodeAllocationCheck(r, nodeNotFound(ident))...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
