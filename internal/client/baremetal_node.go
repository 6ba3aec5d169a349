package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Node is a bare-metal node as the API shows it. The typed fields are the
// ones clients act on; Raw holds every field the server sent (numbers as
// json.Number), for display. A null in the API is the zero value here.
type Node struct {
	UUID                 string         `json:"uuid"`
	Name                 string         `json:"name"`
	Driver               string         `json:"driver"`
	ResourceClass        string         `json:"resource_class"`
	ProvisionState       string         `json:"provision_state"`
	TargetProvisionState string         `json:"target_provision_state"`
	PowerState           string         `json:"power_state"`
	TargetPowerState     string         `json:"target_power_state"`
	Maintenance          bool           `json:"maintenance"`
	MaintenanceReason    string         `json:"maintenance_reason"`
	InstanceUUID         string         `json:"instance_uuid"`
	AllocationUUID       string         `json:"allocation_uuid"`
	Owner                string         `json:"owner"`
	Lessee               string         `json:"lessee"`
	Traits               []string       `json:"traits"`
	Properties           map[string]any `json:"properties"`
	Extra                map[string]any `json:"extra"`
	InstanceInfo         map[string]any `json:"instance_info"`
	LastError            string         `json:"last_error"`
	CreatedAt            string         `json:"created_at"`
	UpdatedAt            string         `json:"updated_at"`
	// Raw is the node object exactly as the server sent it.
	Raw map[string]any `json:"-"`
}

// UnmarshalJSON fills the typed fields and Raw.
func (n *Node) UnmarshalJSON(data []byte) error {
	type plain Node
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("decode a node: %w", err)
	}
	raw, err := decodeRaw(data)
	if err != nil {
		return err
	}
	*n = Node(p)
	n.Raw = raw
	return nil
}

// NodeCreate describes a node to enroll. Only Driver is required.
type NodeCreate struct {
	Driver        string         `json:"driver"`
	Name          string         `json:"name,omitempty"`
	UUID          string         `json:"uuid,omitempty"`
	ResourceClass string         `json:"resource_class,omitempty"`
	Properties    map[string]any `json:"properties,omitempty"`
	Extra         map[string]any `json:"extra,omitempty"`
	DriverInfo    map[string]any `json:"driver_info,omitempty"`
	Owner         string         `json:"owner,omitempty"`
	Lessee        string         `json:"lessee,omitempty"`
	Description   string         `json:"description,omitempty"`
}

// NodeFilter selects nodes in ListNodes; empty fields do not filter.
type NodeFilter struct {
	ProvisionState string
	ResourceClass  string
	Driver         string
	Owner          string
	Lessee         string
	InstanceUUID   string
	// Maintenance and Associated filter when not nil.
	Maintenance *bool
	Associated  *bool
	// Detail lists full node objects (GET /v1/nodes/detail) instead of the
	// short form; ignored when ListOptions.Fields is set.
	Detail bool
	ListOptions
}

// Values encodes the filter as a query.
func (f NodeFilter) Values() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"provision_state": f.ProvisionState, "resource_class": f.ResourceClass, "driver": f.Driver,
		"owner": f.Owner, "lessee": f.Lessee, "instance_uuid": f.InstanceUUID,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, v := range map[string]*bool{"maintenance": f.Maintenance, "associated": f.Associated} {
		if v != nil {
			q.Set(k, strconv.FormatBool(*v))
		}
	}
	f.ListOptions.values(q)
	return q
}

func nodePath(ident string) string { return "/v1/nodes/" + pathEscape(ident) }

// CreateNode enrolls a node and returns it (in state enroll from 1.11).
func (b *Baremetal) CreateNode(ctx context.Context, nc NodeCreate) (Node, error) {
	var n Node
	err := b.call(ctx, http.MethodPost, "/v1/nodes", nil, nc, &n)
	return n, err
}

// ListNodes returns the nodes matching f in the server's order, following
// the pages.
func (b *Baremetal) ListNodes(ctx context.Context, f NodeFilter) ([]Node, error) {
	path := "/v1/nodes"
	if f.Detail && len(f.Fields) == 0 {
		path = "/v1/nodes/detail"
	}
	nodes, err := listAll[Node](ctx, b, path, "nodes", f.Values(), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// GetNode returns a node given by UUID or name; fields, when given, asks for
// only those fields.
func (b *Baremetal) GetNode(ctx context.Context, ident string, fields ...string) (Node, error) {
	var n Node
	err := b.call(ctx, http.MethodGet, nodePath(ident), fieldsQuery(fields), nil, &n)
	return n, err
}

// UpdateNode applies a JSON patch to a node and returns the node.
func (b *Baremetal) UpdateNode(ctx context.Context, ident string, ops []PatchOp) (Node, error) {
	if ops == nil {
		ops = []PatchOp{}
	}
	var n Node
	err := b.call(ctx, http.MethodPatch, nodePath(ident), nil, ops, &n)
	return n, err
}

// DeleteNode deletes a node.
func (b *Baremetal) DeleteNode(ctx context.Context, ident string) error {
	return b.call(ctx, http.MethodDelete, nodePath(ident), nil, nil, nil)
}

// Provision verbs (targets of SetProvisionState).
const (
	VerbManage   = "manage"
	VerbProvide  = "provide"
	VerbDeploy   = "active"
	VerbUndeploy = "deleted"
	VerbRebuild  = "rebuild"
	VerbInspect  = "inspect"
	VerbClean    = "clean"
	VerbAdopt    = "adopt"
	VerbAbort    = "abort"
)

// ProvisionResult maps a provision verb to the stable state it leads to
// when it succeeds (as python-ironicclient's waits expect).
var ProvisionResult = map[string]string{
	VerbManage: "manageable", VerbProvide: "available", VerbDeploy: "active", VerbUndeploy: "available",
	VerbRebuild: "active", VerbInspect: "manageable", VerbClean: "manageable", VerbAdopt: "active",
}

// SetProvisionState asks for a provision-state change ("manage",
// "provide", "active", "deleted", ...). Ironic completes it asynchronously
// (see WaitForProvisionState); allot at once.
func (b *Baremetal) SetProvisionState(ctx context.Context, ident, target string) error {
	return b.call(ctx, http.MethodPut, nodePath(ident)+"/states/provision", nil, map[string]any{"target": target}, nil)
}

// Power targets (of SetPowerState).
const (
	PowerOn            = "power on"
	PowerOff           = "power off"
	PowerReboot        = "rebooting"
	PowerSoftOff       = "soft power off"
	PowerSoftRebooting = "soft rebooting"
)

// SetPowerState asks for a power-state change; timeout, when positive, is
// sent as the API's "timeout" (seconds, for soft power actions).
func (b *Baremetal) SetPowerState(ctx context.Context, ident, target string, timeout int) error {
	body := map[string]any{"target": target}
	if timeout > 0 {
		body["timeout"] = timeout
	}
	return b.call(ctx, http.MethodPut, nodePath(ident)+"/states/power", nil, body, nil)
}

// SetMaintenance puts a node in maintenance, with a reason when not empty.
func (b *Baremetal) SetMaintenance(ctx context.Context, ident, reason string) error {
	var body any
	if reason != "" {
		body = map[string]any{"reason": reason}
	}
	return b.call(ctx, http.MethodPut, nodePath(ident)+"/maintenance", nil, body, nil)
}

// UnsetMaintenance takes a node out of maintenance.
func (b *Baremetal) UnsetMaintenance(ctx context.Context, ident string) error {
	return b.call(ctx, http.MethodDelete, nodePath(ident)+"/maintenance", nil, nil, nil)
}

// NodeTraits returns a node's traits (microversion 1.37).
func (b *Baremetal) NodeTraits(ctx context.Context, ident string) ([]string, error) {
	var doc struct {
		Traits []string `json:"traits"`
	}
	if err := b.call(ctx, http.MethodGet, nodePath(ident)+"/traits", nil, nil, &doc); err != nil {
		return nil, err
	}
	return doc.Traits, nil
}

// SetNodeTraits replaces all of a node's traits.
func (b *Baremetal) SetNodeTraits(ctx context.Context, ident string, traits []string) error {
	if traits == nil {
		traits = []string{}
	}
	return b.call(ctx, http.MethodPut, nodePath(ident)+"/traits", nil, map[string]any{"traits": traits}, nil)
}

// AddNodeTrait adds one trait to a node.
func (b *Baremetal) AddNodeTrait(ctx context.Context, ident, trait string) error {
	return b.call(ctx, http.MethodPut, nodePath(ident)+"/traits/"+pathEscape(trait), nil, nil, nil)
}

// RemoveNodeTrait removes one trait from a node.
func (b *Baremetal) RemoveNodeTrait(ctx context.Context, ident, trait string) error {
	return b.call(ctx, http.MethodDelete, nodePath(ident)+"/traits/"+pathEscape(trait), nil, nil, nil)
}

// RemoveAllNodeTraits removes every trait of a node.
func (b *Baremetal) RemoveAllNodeTraits(ctx context.Context, ident string) error {
	return b.call(ctx, http.MethodDelete, nodePath(ident)+"/traits", nil, nil, nil)
}

// GetNodeAllocation returns the allocation of a node (a 404 *APIError when
// it has none; microversion 1.52).
func (b *Baremetal) GetNodeAllocation(ctx context.Context, ident string) (Allocation, error) {
	var a Allocation
	err := b.call(ctx, http.MethodGet, nodePath(ident)+"/allocation", nil, nil, &a)
	return a, err
}

// DeleteNodeAllocation deletes the allocation of a node.
func (b *Baremetal) DeleteNodeAllocation(ctx context.Context, ident string) error {
	return b.call(ctx, http.MethodDelete, nodePath(ident)+"/allocation", nil, nil, nil)
}

// isFailedProvisionState reports whether a stable provision state is a
// failure ("deploy failed", "clean failed", "error", ...).
func isFailedProvisionState(s string) bool {
	return s == "error" || strings.HasSuffix(s, " failed")
}

// WaitForProvisionState polls a node until its provision state is want
// with no transition pending, and returns it. It fails with a
// *StateFailedError when the node lands in a failure state, and with a
// *WaitTimeoutError after timeout (0: no limit).
func (b *Baremetal) WaitForProvisionState(ctx context.Context, ident, want string, timeout time.Duration) (Node, error) {
	var n Node
	what := "node " + ident
	err := waitFor(ctx, what, want, timeout, func() (string, bool, error) {
		var err error
		if n, err = b.GetNode(ctx, ident); err != nil {
			return "", false, fmt.Errorf("wait for %s: %w", what, err)
		}
		if n.TargetProvisionState != "" {
			return n.ProvisionState, false, nil
		}
		if n.ProvisionState == want {
			return n.ProvisionState, true, nil
		}
		if isFailedProvisionState(n.ProvisionState) {
			return n.ProvisionState, false, &StateFailedError{What: what, State: n.ProvisionState, LastError: n.LastError}
		}
		return n.ProvisionState, false, nil
	})
	return n, err
}
