package baremetalapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
	"allot/internal/query"
)

// nodeFields maps each node field to the minor version that introduced it.
var nodeFields = map[string]int{
	"uuid": 1, "name": 5, "driver": 1, "driver_info": 1, "driver_internal_info": 3, "extra": 1, "instance_info": 1,
	"instance_uuid": 1, "maintenance": 1, "maintenance_reason": 1, "power_state": 1, "target_power_state": 1,
	"provision_state": 1, "target_provision_state": 1, "provision_updated_at": 1, "properties": 1, "reservation": 1,
	"last_error": 1, "console_enabled": 1, "created_at": 1, "updated_at": 1, "chassis_uuid": 1,
	"inspection_finished_at": 6, "inspection_started_at": 6, "clean_step": 7, "raid_config": 12, "target_raid_config": 12,
	"network_interface": 20, "resource_class": 21, "boot_interface": 31, "console_interface": 31, "deploy_interface": 31,
	"inspect_interface": 31, "management_interface": 31, "power_interface": 31, "raid_interface": 31, "vendor_interface": 31,
	"storage_interface": 33, "traits": 37, "rescue_interface": 38, "bios_interface": 40, "fault": 42, "deploy_step": 44,
	"conductor_group": 46, "automated_clean": 47, "protected": 48, "protected_reason": 48, "conductor": 49, "owner": 50,
	"description": 51, "allocation_uuid": 52, "retired": 61, "retired_reason": 61, "lessee": 65, "network_data": 66,
	"boot_mode": 75, "secure_boot": 75, "links": 1,
}

// interfaceDefaults are what the fake-hardware type uses when unset.
var interfaceDefaults = map[string]string{
	"boot_interface": "fake", "console_interface": "no-console", "deploy_interface": "fake", "inspect_interface": "no-inspect",
	"management_interface": "fake", "power_interface": "fake", "raid_interface": "no-raid", "vendor_interface": "no-vendor",
	"network_interface": "noop", "storage_interface": "noop", "rescue_interface": "no-rescue", "bios_interface": "no-bios",
}

// shortNodeFields is what a plain node list shows.
var shortNodeFields = []string{"uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance"}

func strOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// nodeJSON renders a node with every field of the request's version.
func (h *handlers) nodeJSON(r *http.Request, n *model.Node) map[string]any {
	attr := func(k string, def any) any {
		if v, ok := n.Attrs[k]; ok {
			return v
		}
		return def
	}
	var alloc any
	if n.AllocationUUID != "" {
		alloc = n.AllocationUUID
	}
	all := map[string]any{
		"uuid": n.UUID, "name": strOrNil(n.Name), "driver": n.Driver, "driver_info": n.DriverInfo,
		"driver_internal_info": map[string]any{}, "extra": n.Extra, "instance_info": n.InstanceInfo,
		"instance_uuid": strOrNil(n.InstanceUUID), "maintenance": n.Maintenance, "maintenance_reason": strOrNil(n.MaintenanceReason),
		"power_state": strOrNil(n.PowerState), "target_power_state": strOrNil(n.TargetPowerState),
		"provision_state": n.ProvisionState, "target_provision_state": strOrNil(n.TargetProvisionState),
		"provision_updated_at": timestamp(n.ProvisionUpdatedAt), "properties": n.Properties, "reservation": nil,
		"last_error": strOrNil(n.LastError), "console_enabled": attr("console_enabled", false),
		"created_at": timestamp(n.CreatedAt), "updated_at": timestamp(n.UpdatedAt), "chassis_uuid": attr("chassis_uuid", nil),
		"inspection_finished_at": nil, "inspection_started_at": nil, "clean_step": map[string]any{},
		"raid_config": map[string]any{}, "target_raid_config": map[string]any{}, "resource_class": strOrNil(n.ResourceClass),
		"traits": n.Traits, "fault": nil, "deploy_step": map[string]any{}, "conductor_group": attr("conductor_group", ""),
		"automated_clean": attr("automated_clean", nil), "protected": attr("protected", false),
		"protected_reason": attr("protected_reason", nil), "conductor": "allot", "owner": strOrNil(n.Owner),
		"description": attr("description", nil), "allocation_uuid": alloc, "retired": attr("retired", false),
		"retired_reason": attr("retired_reason", nil), "lessee": strOrNil(n.Lessee), "network_data": attr("network_data", map[string]any{}),
		"boot_mode": attr("boot_mode", nil), "secure_boot": attr("secure_boot", nil),
		"links": h.links(r, "nodes", n.UUID),
	}
	for k, def := range interfaceDefaults {
		all[k] = attr(k, def)
	}
	out := map[string]any{}
	for k, v := range all {
		if minor, ok := nodeFields[k]; ok && at(r, minor) {
			out[k] = v
		}
	}
	return out
}

// nodeCreateSchema is Ironic's node schema (the fields allot knows).
var nodeCreateSchema = api.MustSchema(`{"type": "object", "properties": {
	"automated_clean": {"type": ["string", "boolean", "null"]}, "bios_interface": {"type": ["string", "null"]},
	"boot_interface": {"type": ["string", "null"]}, "boot_mode": {"type": ["string", "null"]},
	"chassis_uuid": {"type": ["string", "null"]}, "conductor_group": {"type": ["string", "null"]},
	"console_enabled": {"type": ["string", "boolean", "null"]}, "console_interface": {"type": ["string", "null"]},
	"deploy_interface": {"type": ["string", "null"]}, "description": {"type": ["string", "null"], "maxLength": 4096},
	"disable_power_off": {"type": ["string", "boolean", "null"]}, "driver": {"type": "string"},
	"driver_info": {"type": ["object", "null"]}, "extra": {"type": ["object", "null"]},
	"firmware_interface": {"type": ["string", "null"]}, "inspect_interface": {"type": ["string", "null"]},
	"instance_info": {"type": ["object", "null"]}, "instance_name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
	"instance_uuid": {"type": ["string", "null"]}, "lessee": {"type": ["string", "null"]},
	"management_interface": {"type": ["string", "null"]}, "maintenance": {"type": ["string", "boolean", "null"]},
	"name": {"type": ["string", "null"]}, "network_data": {"type": ["object", "null"]},
	"network_interface": {"type": ["string", "null"]}, "owner": {"type": ["string", "null"]},
	"parent_node": {"type": ["string", "null"], "maxLength": 36}, "power_interface": {"type": ["string", "null"]},
	"properties": {"type": ["object", "null"]}, "raid_interface": {"type": ["string", "null"]},
	"rescue_interface": {"type": ["string", "null"]}, "resource_class": {"type": ["string", "null"], "maxLength": 80},
	"retired": {"type": ["string", "boolean", "null"]}, "retired_reason": {"type": ["string", "null"]},
	"secure_boot": {"type": ["string", "boolean", "null"]}, "shard": {"type": ["string", "null"]},
	"storage_interface": {"type": ["string", "null"]}, "uuid": {"type": ["string", "null"]},
	"vendor_interface": {"type": ["string", "null"]}},
	"required": ["driver"], "additionalProperties": false}`)

func (h *handlers) createNode(w http.ResponseWriter, r *http.Request) error {
	m, err := readObject(r, nodeCreateSchema, "node")
	if err != nil {
		return err
	}
	str := m.str
	owner, err := authorizeNodeCreate(r, str("owner"))
	if err != nil {
		return err
	}
	in := baremetal.NodeCreate{
		Driver: *str("driver"), Name: str("name"), ResourceClass: str("resource_class"), Owner: owner,
		Lessee: str("lessee"), Properties: m.object("properties"), Extra: m.object("extra"), InstanceInfo: m.object("instance_info"),
		DriverInfo: m.object("driver_info"), Attrs: map[string]any{}, InitialState: model.StateEnroll,
	}
	if !at(r, 11) {
		in.InitialState = model.StateAvailable
	}
	if u := str("uuid"); u != nil {
		norm, ok := model.NormalizeUUID(*u)
		if !ok {
			return model.BadRequest("Expected a UUID for uuid: %s", model.Clip(*u, 200))
		}
		in.UUID = norm
	}
	if u := str("instance_uuid"); u != nil {
		norm, ok := model.NormalizeUUID(*u)
		if !ok {
			return model.BadRequest("Expected a UUID for instance_uuid: %s", model.Clip(*u, 200))
		}
		in.InstanceUUID = &norm
	}
	for k := range baremetal.AttrFields {
		if v, ok := m[k]; ok && v != nil {
			in.Attrs[k] = v
		}
	}
	n, err := h.svc.CreateNode(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/nodes/"+n.UUID)
	obj := h.nodeJSON(r, &n)
	newMasker(r).apply(obj, &n)
	return api.WriteJSON(w, http.StatusCreated, obj)
}

// authorizeNodeCreate applies Ironic's rules to enrolling a node with the
// given owner and returns the owner the node gets: a project admin
// (baremetal:node:create:self_owned_node) enrolls nodes its own project
// owns and may name no other owner; anyone else needs
// baremetal:node:create.
func authorizeNodeCreate(r *http.Request, owner *string) (*string, error) {
	c, ok := api.IdentityOf(r)
	if !ok {
		return owner, nil
	}
	t := credTarget(c)
	if !api.Allowed(r, ruleNodeCreateSelfOwned, t) {
		return owner, api.Authorize(r, t)
	}
	if c.SystemScope == "all" {
		return owner, nil
	}
	if owner != nil && *owner != "" && *owner != c.ProjectID {
		return nil, model.BadRequest("Cannot create a node as a project scoped admin with an owner other than your own project.")
	}
	if c.ProjectID == "" {
		return nil, nil
	}
	project := c.ProjectID
	return &project, nil
}

func (h *handlers) getNode(w http.ResponseWriter, r *http.Request) error {
	fields, err := showFields(r, nodeFields)
	if err != nil {
		return err
	}
	ident := r.PathValue("node")
	n, err := h.svc.GetNode(r.Context(), ident)
	if err != nil {
		return err
	}
	if err := seeNode(r, &n, ident); err != nil {
		return err
	}
	obj := pick(h.nodeJSON(r, &n), fields)
	newMasker(r).apply(obj, &n)
	return api.WriteJSON(w, http.StatusOK, obj)
}

func (h *handlers) listNodes(w http.ResponseWriter, r *http.Request) error {
	return h.nodeList(w, r, false)
}

func (h *handlers) listNodesDetail(w http.ResponseWriter, r *http.Request) error {
	return h.nodeList(w, r, true)
}

func (h *handlers) nodeList(w http.ResponseWriter, r *http.Request, detail bool) error {
	p, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return err
	}
	allowed := []string{"associated", "maintenance", "provision_state", "driver", "resource_class", "owner", "lessee",
		"project", "fields", "limit", "marker", "sort_key", "sort_dir", "instance_uuid"}
	if !detail {
		allowed = append(allowed, "detail")
	}
	if err := checkParams(p, allowed...); err != nil {
		return err
	}
	project, err := listProject(r, ruleNodeListAll, optString(p, "project"))
	if err != nil {
		return err
	}
	if p.Has("detail") {
		d, err := boolParam(p, "detail")
		if err != nil {
			return err
		}
		detail = *d
	}
	fields, err := parseFields(r, p, nodeFields)
	if err != nil {
		return err
	}
	pg, err := parsePage(p, baremetal.NodeSortable, []string{"properties", "driver_info", "extra", "instance_info", "traits"})
	if err != nil {
		return err
	}
	f := baremetal.NodeFilter{NodeFilter: model.NodeFilter{Limit: pg.limit, SortKey: pg.sortKey, SortDesc: pg.desc}}
	if f.Associated, err = boolParam(p, "associated"); err != nil {
		return err
	}
	if f.Maintenance, err = boolParam(p, "maintenance"); err != nil {
		return err
	}
	f.ProvisionState, f.ResourceClass, f.Owner, f.Lessee = optString(p, "provision_state"), optString(p, "resource_class"), optString(p, "owner"), optString(p, "lessee")
	f.Driver, f.InstanceUUID, f.Project = optString(p, "driver"), optString(p, "instance_uuid"), project
	f.Marker = pg.marker // found by the service in the list's own read
	nodes, err := h.svc.ListNodes(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(nodes))
	mask := newMasker(r)
	for i := range nodes {
		obj := h.nodeJSON(r, &nodes[i])
		switch {
		case fields != nil:
			obj = pick(obj, fields)
		case !detail:
			obj = pick(obj, shortNodeFields)
		}
		mask.apply(obj, &nodes[i])
		out = append(out, obj)
	}
	doc := map[string]any{"nodes": out}
	if len(nodes) == pg.limit && len(nodes) > 0 {
		setNext(doc, "nodes", h.nextLink(r, p, pg, nodes[len(nodes)-1].UUID))
	}
	return api.WriteJSON(w, http.StatusOK, doc)
}

var patchSchema = api.MustSchema(`{"type": "array", "items": {"type": "object", "properties": {
	"op": {"type": "string", "enum": ["add", "replace", "remove"]},
	"path": {"type": "string", "pattern": "^(/[\\w-]+)+$"},
	"value": {}},
	"required": ["op", "path"], "additionalProperties": false}}`)

func (h *handlers) patchNode(w http.ResponseWriter, r *http.Request) error {
	_, body, err := readBody(r, patchSchema, "patch")
	if err != nil {
		return err
	}
	var ops []baremetal.PatchOp
	json.Unmarshal(body, &ops)
	if err := baremetal.ValidateNodePatch(ops); err != nil {
		return err
	}
	ident := r.PathValue("node")
	checks := nodeCheck(r, ident, func(before *model.Node) error {
		if before.ProvisionState == model.StateActive && setsOwner(ops) {
			c, _ := api.IdentityOf(r)
			if !api.Allowed(r, ruleNodeUpdateOwnerProvisioned, nodeTarget(c, before)) {
				return model.Conflict("Cannot update owner of node \"%s\" while it is in state \"%s\".", before.UUID, model.StateActive)
			}
		}
		return nil
	}, nodePatchRules(ops)...)
	n, err := h.svc.PatchNode(r.Context(), ident, ops, body, checks...)
	if err != nil {
		return err
	}
	obj := h.nodeJSON(r, &n)
	newMasker(r).apply(obj, &n)
	return api.WriteJSON(w, http.StatusOK, obj)
}

// driverInterfaces are the interfaces whose "<name>_interface" fields
// Ironic 21.4's driver_interfaces rule governs.
var driverInterfaces = map[string]bool{"boot": true, "deploy": true, "management": true, "network": true, "power": true,
	"bios": true, "console": true, "inspect": true, "raid": true, "rescue": true, "storage": true, "vendor": true}

// nodePatchRules are the rules a node patch needs, one per operation by
// the field its path starts with, as Ironic maps them; operations on
// other fields (or an empty patch) need baremetal:node:update.
func nodePatchRules(ops []baremetal.PatchOp) []string {
	var rules []string
	generic := false
	for _, op := range ops {
		if rule := nodePatchRule(op); rule != "" {
			rules = append(rules, rule)
		} else {
			generic = true
		}
	}
	if generic || len(rules) == 0 {
		rules = append(rules, ruleNodeUpdate)
	}
	return rules
}

// nodePatchRule is the field rule of one patch operation ("" for none),
// tested in Ironic's order (so /driver_info is not /driver).
func nodePatchRule(op baremetal.PatchOp) string {
	has := func(prefix string) bool { return strings.HasPrefix(op.Path, prefix) }
	iface, isIface := strings.CutSuffix(strings.TrimLeft(op.Path, "/"), "_interface")
	switch {
	case has("/instance_info"):
		return ruleNodeUpdateInstanceInfo
	case has("/extra"):
		return ruleNodeUpdateExtra
	case has("/automated_clean") && isFalse(op.Value):
		return ruleNodeDisableCleaning
	case has("/driver_info"):
		return ruleNodeUpdateDriverInfo
	case has("/properties"):
		return ruleNodeUpdateProperties
	case has("/chassis_uuid"):
		return ruleNodeUpdateChassis
	case has("/instance_uuid"):
		return ruleNodeUpdateInstanceUUID
	case has("/lessee"):
		return ruleNodeUpdateLessee
	case has("/owner"):
		return ruleNodeUpdateOwner
	case has("/driver"), isIface && driverInterfaces[iface]:
		return ruleNodeUpdateInterfaces
	case has("/network_data"):
		return ruleNodeUpdateNetworkData
	case has("/conductor_group"):
		return ruleNodeUpdateConductorGroup
	case has("/name"):
		return ruleNodeUpdateName
	case has("/retired"):
		return ruleNodeUpdateRetired
	case has("/shard"):
		return ruleNodeUpdateShard
	}
	return ""
}

// isFalse reports whether a patch value reads as false the way Ironic's
// bool_from_string does (false, "0", "f", "false", "n", "no", "off", 0).
func isFalse(v any) bool {
	switch b := v.(type) {
	case bool:
		return !b
	case float64:
		return b == 0
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "0", "f", "false", "n", "no", "off":
			return true
		}
	}
	return false
}

// setsOwner reports whether a patch gives the node an owner (an add or
// replace of /owner).
func setsOwner(ops []baremetal.PatchOp) bool {
	for _, op := range ops {
		if op.Path == "/owner" && op.Op != "remove" {
			return true
		}
	}
	return false
}

func (h *handlers) deleteNode(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	checks := policyChecks(r, baremetal.Check{Node: func(n *model.Node) error {
		// A project admin may delete the nodes its project owns.
		err := seeNode(r, n, ident)
		if model.IsKind(err, model.KindForbidden) {
			err = seeNode(r, n, ident, ruleNodeDeleteSelfOwned)
		}
		return err
	}})
	if err := h.svc.DeleteNode(r.Context(), ident, checks...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) nodeStates(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	n, err := h.svc.GetNode(r.Context(), ident)
	if err != nil {
		return err
	}
	if err := seeNode(r, &n, ident); err != nil {
		return err
	}
	all := h.nodeJSON(r, &n)
	out := map[string]any{}
	for _, k := range []string{"power_state", "target_power_state", "provision_state", "target_provision_state",
		"last_error", "console_enabled", "provision_updated_at", "raid_config", "target_raid_config"} {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

var provisionSchema = api.MustSchema(`{"type": "object", "properties": {
	"target": {"type": "string"}, "configdrive": {}, "clean_steps": {"type": "array"}, "deploy_steps": {"type": "array"},
	"rescue_password": {"type": "string"}, "disable_ramdisk": {"type": "boolean"}},
	"required": ["target"], "additionalProperties": false}`)

func (h *handlers) setProvision(w http.ResponseWriter, r *http.Request) error {
	m, err := readObject(r, provisionSchema, "provision state")
	if err != nil {
		return err
	}
	// A verb newer than the request's version is refused once the node's
	// policy has passed (at once under noauth).
	target := *m.str("target")
	var tooNew error
	if (target == "deploy" || target == "undeploy") && !at(r, 73) {
		tooNew = model.BadRequest("The %q verb needs API version 1.73 or later; use %q.", target, map[string]string{"deploy": "active", "undeploy": "deleted"}[target])
	}
	checks := nodeCheck(r, r.PathValue("node"), func(*model.Node) error { return tooNew })
	if checks == nil && tooNew != nil {
		return tooNew
	}
	if err := h.svc.SetProvisionState(r.Context(), r.PathValue("node"), target, checks...); err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/nodes/"+r.PathValue("node")+"/states")
	api.WriteEmpty(w, http.StatusAccepted)
	return nil
}

var powerSchema = api.MustSchema(`{"type": "object", "properties": {"target": {"type": "string"}, "timeout": {"type": "integer"}},
	"required": ["target"], "additionalProperties": false}`)

func (h *handlers) setPower(w http.ResponseWriter, r *http.Request) error {
	m, err := readObject(r, powerSchema, "power state")
	if err != nil {
		return err
	}
	ident := r.PathValue("node")
	if err := h.svc.SetPowerState(r.Context(), ident, *m.str("target"), nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/nodes/"+r.PathValue("node")+"/states")
	api.WriteEmpty(w, http.StatusAccepted)
	return nil
}

func (h *handlers) setMaintenance(w http.ResponseWriter, r *http.Request) error {
	var reason *string
	if r.ContentLength != 0 {
		m, err := readObject(r, nil, "")
		if err != nil {
			return err
		}
		reason = m.str("reason")
	}
	ident := r.PathValue("node")
	if err := h.svc.SetMaintenance(r.Context(), ident, true, reason, nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusAccepted)
	return nil
}

func (h *handlers) unsetMaintenance(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	if err := h.svc.SetMaintenance(r.Context(), ident, false, nil, nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusAccepted)
	return nil
}

func (h *handlers) getTraits(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	n, err := h.svc.GetNode(r.Context(), ident)
	if err != nil {
		return err
	}
	if err := seeNode(r, &n, ident); err != nil {
		return err
	}
	traits := append([]string{}, n.Traits...)
	sort.Strings(traits)
	return api.WriteJSON(w, http.StatusOK, map[string]any{"traits": traits})
}

var traitsSchema = api.MustSchema(`{"type": "object", "properties": {"traits": {"type": "array", "items": {"type": "string"}}},
	"required": ["traits"], "additionalProperties": false}`)

func (h *handlers) setTraits(w http.ResponseWriter, r *http.Request) error {
	m, err := readObject(r, traitsSchema, "traits")
	if err != nil {
		return err
	}
	ident := r.PathValue("node")
	if err := h.svc.SetNodeTraits(r.Context(), ident, "set", m.strings("traits"), nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) addTrait(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	if err := h.svc.SetNodeTraits(r.Context(), ident, "add", []string{r.PathValue("trait")}, nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	w.Header().Set("Location", h.base(r)+"/v1/nodes/"+r.PathValue("node")+"/traits")
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) removeTrait(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	if err := h.svc.SetNodeTraits(r.Context(), ident, "remove", []string{r.PathValue("trait")}, nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) clearTraits(w http.ResponseWriter, r *http.Request) error {
	ident := r.PathValue("node")
	if err := h.svc.SetNodeTraits(r.Context(), ident, "clear", nil, nodeCheck(r, ident, nil)...); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}
