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
	"traits": {"type": ["array", "null"], "items": {"type": "string", "pattern": "^(CUSTOM_[A-Z0-9_]+|[A-Z][A-Z0-9_]*)$", "maxLength": 255}},
	"uuid": {"type": ["string", "null"]}},
	"additionalProperties": false}`)

func (h *handlers) createAllocation(w http.ResponseWriter, r *http.Request) error {
	m, err := readObject(r, allocationSchema, "allocation")
	if err != nil {
		return err
	}
	in := baremetal.AllocationCreate{Name: m.str("name"), ResourceClass: m.str("resource_class"), Traits: m.strings("traits"),
		CandidateNodes: m.strings("candidate_nodes"), Owner: m.str("owner"), Extra: m.object("extra")}
	if u := m.str("uuid"); u != nil {
		in.UUID = *u
	}
	if n := m.str("node"); n != nil {
		if !at(r, 58) {
			return model.BadRequest("Cannot set node when creating an allocation in this API version")
		}
		in.Node = *n
	}
	if _, given := m["owner"]; given && !at(r, 60) {
		return notAcceptable()
	}
	a, err := h.svc.CreateAllocation(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/allocations/"+a.UUID)
	return api.WriteJSON(w, http.StatusCreated, h.allocationJSON(r, &a))
}

func (h *handlers) getAllocation(w http.ResponseWriter, r *http.Request) error {
	fields, err := showFields(r, allocationFields)
	if err != nil {
		return err
	}
	a, err := h.svc.GetAllocation(r.Context(), r.PathValue("allocation"))
	if err != nil {
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
	f := baremetal.AllocationFilter{Limit: pg.limit, SortKey: pg.sortKey, SortDesc: pg.desc}
	if p.Has("node") {
		ident := p.Get("node")
		if _, isUUID := model.NormalizeUUID(ident); !isUUID && !baremetal.IsLogicalName(ident) {
			return model.BadRequest("Expected UUID or name for node: %s", ident)
		}
		n, err := h.svc.GetNode(r.Context(), ident)
		if model.IsKind(err, model.KindNotFound) {
			return model.BadRequest("Node %s could not be found.", ident)
		}
		if err != nil {
			return err
		}
		f.NodeID = &n.ID
	}
	f.ResourceClass, f.State, f.Owner = optString(p, "resource_class"), optString(p, "state"), optString(p, "owner")
	if pg.marker != "" {
		m, err := h.svc.GetAllocation(r.Context(), pg.marker)
		if err != nil {
			return err
		}
		f.MarkerID = m.ID
	}
	allocs, err := h.svc.ListAllocations(r.Context(), f)
	if err != nil {
		return err
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
	for _, item := range raw.([]any) {
		path, _ := item.(map[string]any)["path"].(string)
		field := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
		if field != "name" && field != "extra" {
			return model.BadRequest("Cannot patch %s. Only the following can be updated: name, extra", path)
		}
	}
	a, err := h.svc.PatchAllocation(r.Context(), r.PathValue("allocation"), body)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, h.allocationJSON(r, &a))
}

func (h *handlers) deleteAllocation(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteAllocation(r.Context(), r.PathValue("allocation")); err != nil {
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
	a, err := h.svc.GetNodeAllocation(r.Context(), r.PathValue("node"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, pick(h.allocationJSON(r, &a), fields))
}

func (h *handlers) deleteNodeAllocation(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteNodeAllocation(r.Context(), r.PathValue("node")); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
