package baremetal

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// FakeDriver is the only driver allot accepts: it drives no hardware, and
// every transition completes at once.
const FakeDriver = "fake-hardware"

// NodeCreate is what enrolling a node takes (fields not set stay null).
type NodeCreate struct {
	UUID          string
	Name          *string
	Driver        string
	ResourceClass *string
	InstanceUUID  *string
	Owner, Lessee *string
	Properties    map[string]any
	Extra         map[string]any
	InstanceInfo  map[string]any
	DriverInfo    map[string]any
	Attrs         map[string]any
	// InitialState is "enroll" (API 1.11+) or "available" (older clients).
	InitialState string
}

// CreateNode enrolls a node and its resource provider.
func (s *Service) CreateNode(ctx context.Context, in NodeCreate) (model.Node, error) {
	if in.Driver != FakeDriver {
		return model.Node{}, model.BadRequest("The driver %q is not supported: allot drives no hardware, so every node uses the %q driver.", model.Clip(in.Driver, 200), FakeDriver)
	}
	if in.UUID == "" {
		in.UUID = uuid.NewString()
	} else if norm, ok := model.NormalizeUUID(in.UUID); ok {
		in.UUID = norm
	} else {
		return model.Node{}, model.BadRequest("Expected a UUID for uuid: %s", model.Clip(in.UUID, 200))
	}
	if in.Name != nil && !validNodeName(*in.Name) {
		return model.Node{}, model.BadRequest("Cannot create node with invalid name '%s'", model.Clip(*in.Name, 200))
	}
	if in.InitialState == "" {
		in.InitialState = model.StateEnroll
	}
	n := model.Node{
		UUID: in.UUID, Name: in.Name, Driver: in.Driver, ResourceClass: in.ResourceClass, ProvisionState: in.InitialState,
		InstanceUUID: in.InstanceUUID, Owner: in.Owner, Lessee: in.Lessee, Properties: orEmpty(in.Properties),
		Extra: orEmpty(in.Extra), InstanceInfo: orEmpty(in.InstanceInfo), DriverInfo: orEmpty(in.DriverInfo),
		Attrs: orEmpty(in.Attrs), Traits: []string{},
	}
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		n.ProvisionUpdatedAt = tx.Now()
		id, err := tx.CreateNode(ctx, n)
		if err != nil {
			return err
		}
		n.ID = id
		if err := syncProvider(ctx, tx, &n); err != nil {
			return err
		}
		got, _, err := tx.NodeBy(ctx, "id", id, false)
		n = got
		return err
	})
	return n, err
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// GetNode returns a node by UUID or name.
func (s *Service) GetNode(ctx context.Context, ident string) (model.Node, error) {
	var n model.Node
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		n, err = lookupNode(ctx, tx, ident, false, nodeNotFound)
		return err
	})
	return n, err
}

// ListNodes returns the nodes matching f, in one read: f.Marker, when
// set, is found there (an unknown one is GetNode's 404).
func (s *Service) ListNodes(ctx context.Context, f NodeFilter) ([]model.Node, error) {
	var out []model.Node
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		sf := f.NodeFilter
		if f.Marker != "" {
			m, err := lookupNode(ctx, tx, f.Marker, false, nodeNotFound)
			if err != nil {
				return err
			}
			sf.MarkerID = m.ID
		}
		var err error
		out, err = tx.ListNodes(ctx, sf)
		return err
	})
	return out, err
}

// patchableNodeFields are the node fields a JSON patch may touch (the
// first path segment), beside the free-form attributes.
var patchableNodeFields = map[string]bool{
	"name": true, "driver": true, "resource_class": true, "properties": true, "extra": true, "instance_info": true,
	"driver_info": true, "owner": true, "lessee": true, "instance_uuid": true, "maintenance": true, "maintenance_reason": true,
}

// AttrFields are node fields allot stores as given without meaning of its own.
var AttrFields = map[string]bool{
	"description": true, "conductor_group": true, "automated_clean": true, "bios_interface": true, "boot_interface": true,
	"console_interface": true, "deploy_interface": true, "inspect_interface": true, "management_interface": true,
	"network_interface": true, "power_interface": true, "raid_interface": true, "rescue_interface": true,
	"storage_interface": true, "vendor_interface": true, "firmware_interface": true, "retired": true, "retired_reason": true,
	"network_data": true, "chassis_uuid": true, "protected": true, "protected_reason": true, "shard": true,
	"boot_mode": true, "secure_boot": true, "console_enabled": true, "disable_power_off": true, "instance_name": true,
}

// nodeDoc is the patchable view of a node.
func nodeDoc(n *model.Node) map[string]any {
	doc := map[string]any{
		"name": strOrNil(n.Name), "driver": n.Driver, "resource_class": strOrNil(n.ResourceClass),
		"properties": n.Properties, "extra": n.Extra, "instance_info": n.InstanceInfo, "driver_info": n.DriverInfo,
		"owner": strOrNil(n.Owner), "lessee": strOrNil(n.Lessee), "instance_uuid": strOrNil(n.InstanceUUID),
		"maintenance": n.Maintenance, "maintenance_reason": strOrNil(n.MaintenanceReason),
	}
	for k, v := range n.Attrs {
		doc[k] = v
	}
	for k := range AttrFields {
		if _, ok := doc[k]; !ok {
			doc[k] = nil
		}
	}
	return doc
}

func strOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// PatchOp is one JSON-patch operation, decoded for validation.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// ValidateNodePatch refuses a patch that touches a field no patch may
// change (the API checks it before policy, as Ironic does; PatchNode
// checks it again).
func ValidateNodePatch(ops []PatchOp) error {
	for _, op := range ops {
		field := strings.SplitN(strings.TrimPrefix(op.Path, "/"), "/", 2)[0]
		if !patchableNodeFields[field] && !AttrFields[field] {
			return model.BadRequest("Cannot patch %s: it is read-only or unknown. Patchable fields: name, driver, resource_class, properties, extra, instance_info, driver_info, owner, lessee, instance_uuid, maintenance, maintenance_reason and the descriptive fields.", op.Path)
		}
	}
	return nil
}

// PatchNode applies an RFC 6902 patch to a node's patchable fields, with
// Ironic's rules for instance_uuid on allocated nodes; checks run on the
// node as locked (see Check).
func (s *Service) PatchNode(ctx context.Context, ident string, ops []PatchOp, raw []byte, checks ...Check) (model.Node, error) {
	invalid := ValidateNodePatch(ops)
	if invalid != nil && !guardsNode(checks) {
		return model.Node{}, invalid
	}
	var out model.Node
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lockCheckedNode(ctx, tx, ident, nodeNotFound, checks, invalid)
		if err != nil {
			return err
		}
		docBytes, _ := json.Marshal(nodeDoc(&n))
		patch, err := jsonpatch.DecodePatch(raw)
		if err != nil {
			return model.BadRequest("Invalid patch: %v", err)
		}
		patched, err := applyPatch(docBytes, patch)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(patched, &doc); err != nil {
			return model.BadRequest("Couldn't apply the patch: %v", err)
		}
		next := n
		if err := applyNodeDoc(&next, doc); err != nil {
			return err
		}
		if err := s.checkInstanceChange(ctx, tx, &n, &next); err != nil {
			return err
		}
		if err := tx.UpdateNode(ctx, next); err != nil {
			return err
		}
		if err := syncProvider(ctx, tx, &next); err != nil {
			return err
		}
		if err := s.moveClaim(ctx, tx, &n, &next); err != nil {
			return err
		}
		out, _, err = tx.NodeBy(ctx, "id", n.ID, false)
		return err
	})
	return out, err
}

// moveClaim keeps Placement truthful when an allocated node changes class:
// the allocation keeps the class it asked for (as in Ironic), but its claim
// moves to the node's new class and the old class's inventory goes away.
func (s *Service) moveClaim(ctx context.Context, tx *store.Tx, before, after *model.Node) error {
	if after.AllocationID == 0 || deref(before.ResourceClass) == deref(after.ResourceClass) || deref(after.ResourceClass) == "" {
		return nil
	}
	a, ok, err := tx.NodeAllocationBy(ctx, "id", after.AllocationID, true)
	if err != nil || !ok {
		return err
	}
	if err := writeClaim(ctx, tx, &a, after); err != nil {
		return err
	}
	return syncProvider(ctx, tx, after)
}

// applyNodeDoc reads the patched document back into the node, validating.
func applyNodeDoc(n *model.Node, doc map[string]any) error {
	str := func(key string, maxLen int) (*string, error) {
		v, ok := doc[key]
		if !ok || v == nil {
			return nil, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return nil, model.BadRequest("Invalid value for %s: %.200v is not a string", key, v)
		}
		if maxLen > 0 && len(s) > maxLen {
			return nil, model.BadRequest("Invalid value for %s: longer than %d characters", key, maxLen)
		}
		return &s, nil
	}
	obj := func(key string) (map[string]any, error) {
		v, ok := doc[key]
		if !ok || v == nil {
			return map[string]any{}, nil
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, model.BadRequest("Invalid value for %s: it must be an object", key)
		}
		return m, nil
	}
	var err error
	if n.Name, err = str("name", 255); err != nil {
		return err
	}
	if n.Name != nil && !validNodeName(*n.Name) {
		return model.BadRequest("Cannot update node with invalid name '%s'", model.Clip(*n.Name, 200))
	}
	driver, err := str("driver", 255)
	if err != nil {
		return err
	}
	if driver == nil || *driver != FakeDriver {
		return model.BadRequest("The driver %q is not supported: allot drives no hardware, so every node uses the %q driver.", model.Clip(deref(driver), 200), FakeDriver)
	}
	n.Driver = *driver
	if n.ResourceClass, err = str("resource_class", 80); err != nil {
		return err
	}
	if n.Owner, err = str("owner", 255); err != nil {
		return err
	}
	if n.Lessee, err = str("lessee", 255); err != nil {
		return err
	}
	if n.InstanceUUID, err = str("instance_uuid", 36); err != nil {
		return err
	}
	if n.InstanceUUID != nil {
		norm, ok := model.NormalizeUUID(*n.InstanceUUID)
		if !ok {
			return model.BadRequest("Expected a UUID for instance_uuid: %s", model.Clip(*n.InstanceUUID, 200))
		}
		n.InstanceUUID = &norm
	}
	if n.MaintenanceReason, err = str("maintenance_reason", 0); err != nil {
		return err
	}
	switch m := doc["maintenance"].(type) {
	case bool:
		n.Maintenance = m
	case string:
		switch strings.ToLower(m) {
		case "true", "1", "yes", "on":
			n.Maintenance = true
		case "false", "0", "no", "off":
			n.Maintenance = false
		default:
			return model.BadRequest("Invalid value for maintenance: %q is not a boolean", model.Clip(m, 200))
		}
	case nil:
		n.Maintenance = false
	default:
		return model.BadRequest("Invalid value for maintenance: %v is not a boolean", m)
	}
	if !n.Maintenance {
		n.MaintenanceReason = nil
	}
	for _, f := range []struct {
		key string
		dst *map[string]any
	}{{"properties", &n.Properties}, {"extra", &n.Extra}, {"instance_info", &n.InstanceInfo}, {"driver_info", &n.DriverInfo}} {
		if *f.dst, err = obj(f.key); err != nil {
			return err
		}
	}
	attrs := map[string]any{}
	for k := range AttrFields {
		if v, ok := doc[k]; ok && v != nil {
			attrs[k] = v
		}
	}
	n.Attrs = attrs
	return nil
}

// instanceRemovalStates are the provision states in which a node with an
// allocation may lose its instance_uuid (Ironic's rule).
var instanceRemovalStates = map[string]bool{"enroll": true, "inspecting": true, "inspect wait": true, "manageable": true, "available": true}

// checkInstanceChange applies the rules of instance_uuid on a node that
// holds an allocation: removing it deletes the allocation (allowed only in
// some states or in maintenance); replacing it is a conflict.
func (s *Service) checkInstanceChange(ctx context.Context, tx *store.Tx, before, after *model.Node) error {
	if before.AllocationID == 0 || deref(before.InstanceUUID) == deref(after.InstanceUUID) {
		return nil
	}
	if after.InstanceUUID != nil {
		return model.Conflict("Node %s is associated with instance %s.", before.UUID, deref(before.InstanceUUID))
	}
	if !instanceRemovalStates[before.ProvisionState] && !before.Maintenance {
		return model.Conflict("Node %s with an allocation can not have instance_uuid removed unless it is in one of allowed (enroll, inspecting, inspect wait, manageable, available) states or in maintenance mode.", before.UUID)
	}
	after.AllocationID = before.AllocationID
	return dropNodeAllocation(ctx, tx, after)
}

// hintDeleteAssociated says how to delete a node that an instance (or an
// allocation) holds.
func hintDeleteAssociated(n model.Node) string {
	first := "undeploy it or remove its instance_uuid first"
	if n.AllocationID != 0 {
		first = "delete its allocation first (allot baremetal allocation delete " + deref(n.InstanceUUID) + ", or DELETE /v1/nodes/" + n.UUID + "/allocation)"
	}
	return "To delete the node, " + first + ", or set maintenance mode (allot baremetal node maintenance set " + n.UUID + ") to delete it with its allocation."
}

// deleteAllowedStates are the provision states a node may be deleted in
// without maintenance.
var deleteAllowedStates = map[string]bool{"enroll": true, "manageable": true, "available": true, "adopt failed": true,
	"clean failed": true, "inspect failed": true}

// DeleteNode removes a node, its allocation (only in maintenance) and its
// resource provider; checks run on the node as locked (see Check).
func (s *Service) DeleteNode(ctx context.Context, ident string, checks ...Check) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lookupNode(ctx, tx, ident, true, nodeNotFound)
		if err != nil {
			return err
		}
		if err := checkNode(checks, &n); err != nil {
			return err
		}
		if n.InstanceUUID != nil && !n.Maintenance {
			return model.Conflict("Node %s is associated with instance %s.", n.UUID, *n.InstanceUUID).WithHint(hintDeleteAssociated(n))
		}
		if !deleteAllowedStates[n.ProvisionState] && !n.Maintenance {
			return model.Conflict("Can not delete node %s while it is in provision state %q: move it to manageable or available, or set maintenance mode, first.", n.UUID, n.ProvisionState)
		}
		if err := dropNodeAllocation(ctx, tx, &n); err != nil {
			return err
		}
		if err := tx.DeleteNode(ctx, n.ID); err != nil {
			return err
		}
		return deleteNodeProvider(ctx, tx, n.UUID)
	})
}

// validTrait reports whether t may be a node trait: a standard trait or
// CUSTOM_[A-Z0-9_]+, at most 255 characters.
func validTrait(t string) bool {
	return model.IsStandardTrait(t) || model.IsValidCustomTrait(t)
}

// badTrait words an invalid trait (of a node or an allocation request) in
// one sentence, with the trait it was probably meant to be.
func badTrait(t string) error {
	err := model.BadRequest("Invalid trait %q: a trait must be a standard trait or match ^CUSTOM_[A-Z0-9_]+$ (at most 255 characters).", model.Clip(t, 200))
	if up := strings.ToUpper(t); up != t && validTrait(up) {
		return err.WithHint("Traits are upper case: did you mean " + up + "?")
	}
	return err.WithHint(model.SuggestNames([]string{t}, model.StandardTraits()))
}

// SetNodeTraits replaces, adds or removes node traits: op is "set", "add",
// "remove" or "clear"; checks run on the node as locked (see Check).
func (s *Service) SetNodeTraits(ctx context.Context, ident, op string, traits []string, checks ...Check) error {
	var invalid error
	for _, t := range traits {
		if !validTrait(t) {
			invalid = badTrait(t)
			break
		}
	}
	if invalid != nil && !guardsNode(checks) {
		return invalid
	}
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lockCheckedNode(ctx, tx, ident, nodeNotFound, checks, invalid)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, t := range n.Traits {
			have[t] = true
		}
		switch op {
		case "set":
			have = map[string]bool{}
			for _, t := range traits {
				have[t] = true
			}
		case "add":
			for _, t := range traits {
				have[t] = true
			}
		case "remove":
			for _, t := range traits {
				if !have[t] {
					return model.NotFound("Node %s doesn't have a trait %s", n.UUID, t)
				}
				delete(have, t)
			}
		case "clear":
			have = map[string]bool{}
		default:
			return fmt.Errorf("SetNodeTraits: unknown op %q", op)
		}
		n.Traits = n.Traits[:0]
		for t := range have {
			n.Traits = append(n.Traits, t)
		}
		sort.Strings(n.Traits)
		if err := tx.UpdateNode(ctx, n); err != nil {
			return err
		}
		return syncProvider(ctx, tx, &n)
	})
}

// SetMaintenance turns maintenance mode on (with a reason) or off; checks
// run on the node as locked (see Check).
func (s *Service) SetMaintenance(ctx context.Context, ident string, on bool, reason *string, checks ...Check) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lookupNode(ctx, tx, ident, true, nodeNotFound)
		if err != nil {
			return err
		}
		if err := checkNode(checks, &n); err != nil {
			return err
		}
		n.Maintenance = on
		n.MaintenanceReason = nil
		if on {
			n.MaintenanceReason = reason
		}
		if err := tx.UpdateNode(ctx, n); err != nil {
			return err
		}
		return syncProvider(ctx, tx, &n)
	})
}
