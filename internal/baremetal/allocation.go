package baremetal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
)

// Claims of bare-metal allocations are Placement consumers of this type,
// in the allocation owner's project (or DefaultProject without an owner).
const (
	ConsumerType   = "BAREMETAL"
	DefaultProject = "allot-baremetal"
	DefaultUser    = "allot-baremetal"
)

// AllocationCreate is what creating an allocation takes.
type AllocationCreate struct {
	UUID           string
	Name           *string
	ResourceClass  *string
	Traits         []string
	CandidateNodes []string // UUIDs or names
	Extra          map[string]any
	Owner          *string
	// Node, when set, backfills an allocation for an active node.
	Node string
	// CandidateProject, when set, resolves CandidateNodes only among the
	// nodes this project owns or leases (a project-scoped caller's view);
	// any other name is unknown.
	CandidateProject string
}

func allocationNotFound(ident string) error {
	return model.NotFound("Allocation %s could not be found.", model.Clip(ident, 200))
}

// lookupAllocation finds an allocation by UUID or name.
func lookupAllocation(ctx context.Context, tx *store.Tx, ident string, lock bool) (model.NodeAllocation, error) {
	var a model.NodeAllocation
	var ok bool
	var err error
	if norm, isUUID := model.NormalizeUUID(ident); isUUID {
		a, ok, err = tx.NodeAllocationBy(ctx, "uuid", norm, lock)
		if err == nil && !ok {
			a, ok, err = tx.NodeAllocationBy(ctx, "name", ident, lock)
		}
	} else if IsLogicalName(ident) {
		a, ok, err = tx.NodeAllocationBy(ctx, "name", ident, lock)
	} else {
		return a, model.BadRequest("Expected UUID or name for allocation_ident: %s", model.Clip(ident, 200))
	}
	if err != nil {
		return a, err
	}
	if !ok {
		return a, allocationNotFound(ident)
	}
	return a, nil
}

// CreateAllocation records an allocation. A normal one is returned in state
// allocating and processed by a worker; a backfill (Node set) is bound to
// its active node at once, or refused with the reasons. The node checks
// run on a backfill's node as locked (see Check).
func (s *Service) CreateAllocation(ctx context.Context, in AllocationCreate, checks ...Check) (model.NodeAllocation, error) {
	guarded := in.Node != "" && guardsNode(checks)
	invalid := validateAllocationCreate(&in)
	if invalid != nil && !guarded {
		return model.NodeAllocation{}, invalid
	}
	var out model.NodeAllocation
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		if guarded {
			if _, err := lockCheckedNode(ctx, tx, in.Node, backfillNodeNotFound, checks, invalid); err != nil {
				return err
			}
		}
		cands, err := resolveCandidates(ctx, tx, in.CandidateNodes, in.CandidateProject)
		if err != nil {
			return err
		}
		if in.Node != "" {
			out, err = s.backfill(ctx, tx, in, cands)
			return err
		}
		if in.UUID == "" {
			in.UUID = uuid.NewString()
		}
		a := model.NodeAllocation{UUID: in.UUID, Name: in.Name, State: model.AllocAllocating, ResourceClass: *in.ResourceClass,
			Traits: orList(in.Traits), CandidateNodes: cands, Extra: orEmpty(in.Extra), Owner: in.Owner}
		if a.ID, err = tx.CreateNodeAllocation(ctx, a); err != nil {
			return err
		}
		out, _, err = tx.NodeAllocationBy(ctx, "id", a.ID, false)
		return err
	})
	if err == nil && out.State == model.AllocAllocating {
		s.Wake()
	}
	return out, err
}

// validateAllocationCreate answers the argument errors of creating in: an
// invalid trait, UUID or name, or no resource class when not backfilling.
// It normalizes in.UUID.
func validateAllocationCreate(in *AllocationCreate) error {
	for _, t := range in.Traits {
		if !validTrait(t) {
			return badTrait(t)
		}
	}
	if in.UUID != "" {
		norm, ok := model.NormalizeUUID(in.UUID)
		if !ok {
			return model.BadRequest("Expected UUID for uuid: %s", model.Clip(in.UUID, 200))
		}
		in.UUID = norm
	}
	if in.Name != nil && *in.Name != "" && !IsLogicalName(*in.Name) {
		return model.BadRequest("Cannot create allocation with invalid name '%s'", model.Clip(*in.Name, 200))
	}
	if in.Node == "" && (in.ResourceClass == nil || *in.ResourceClass == "") {
		return model.BadRequest("The resource_class field is mandatory when not backfilling")
	}
	return nil
}

func orList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// resolveCandidates turns candidate node names or UUIDs into UUIDs, in
// order; with a project, a node that project neither owns nor leases is
// unknown.
func resolveCandidates(ctx context.Context, tx *store.Tx, idents []string, project string) ([]string, error) {
	out := make([]string, 0, len(idents))
	var missing []string
	for _, ident := range idents {
		n, err := lookupNode(ctx, tx, ident, false, nodeNotFound)
		if model.IsKind(err, model.KindNotFound) || model.IsKind(err, model.KindBadRequest) ||
			err == nil && project != "" && !usableBy(&n, project) {
			missing = append(missing, ident)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n.UUID)
	}
	if len(missing) > 0 {
		return nil, model.BadRequest("Nodes cannot be found: %s", model.Clip(strings.Join(missing, ", "), 200))
	}
	return out, nil
}

// backfill binds a new allocation to an active node deployed outside the
// allocation API. Every mismatch is reported at once; nothing is stored
// when the backfill is refused.
func (s *Service) backfill(ctx context.Context, tx *store.Tx, in AllocationCreate, cands []string) (model.NodeAllocation, error) {
	n, err := lookupNode(ctx, tx, in.Node, true, backfillNodeNotFound)
	if err != nil {
		return model.NodeAllocation{}, err
	}
	if in.UUID == "" {
		if n.InstanceUUID != nil {
			in.UUID = *n.InstanceUUID
		} else {
			in.UUID = uuid.NewString()
		}
	}
	rc := deref(n.ResourceClass)
	if in.ResourceClass != nil && *in.ResourceClass != "" {
		rc = *in.ResourceClass
	}
	var problems []string
	if n.ProvisionState != model.StateActive {
		problems = append(problems, fmt.Sprintf("Node must be in the \"active\" state, but the current state is %q", n.ProvisionState))
	}
	if rc != deref(n.ResourceClass) {
		problems = append(problems, fmt.Sprintf("Resource class %s does not match the requested resource class %s", deref(n.ResourceClass), rc))
	}
	if missing := missingTraits(n.Traits, in.Traits); len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("the node's traits %v lack the requested traits %v", n.Traits, missing))
	}
	if len(cands) > 0 && !contains(cands, n.UUID) {
		problems = append(problems, fmt.Sprintf("Candidate nodes must be empty or contain the target node, but got %v", cands))
	}
	if len(problems) > 0 {
		return model.NodeAllocation{}, model.Conflict("Cannot backfill an allocation for node %s: %s.", n.UUID, strings.Join(problems, "; "))
	}
	if rc == "" {
		return model.NodeAllocation{}, model.BadRequest("Cannot backfill an allocation for node %s: the node has no resource class", n.UUID)
	}
	if n.InstanceUUID != nil && *n.InstanceUUID != in.UUID {
		return model.NodeAllocation{}, model.Conflict("Node %s is associated with instance %s.", n.UUID, *n.InstanceUUID)
	}
	if other, ok, err := tx.NodeBy(ctx, "instance_uuid", in.UUID, false); err != nil {
		return model.NodeAllocation{}, err
	} else if ok && other.ID != n.ID {
		return model.NodeAllocation{}, model.Conflict("Instance %s is already associated with node %s.", in.UUID, other.UUID)
	}
	a := model.NodeAllocation{UUID: in.UUID, Name: in.Name, State: model.AllocActive, ResourceClass: rc,
		Traits: orList(in.Traits), CandidateNodes: cands, Extra: orEmpty(in.Extra), Owner: in.Owner, UpdatedAt: tx.Now()}
	if a.ID, err = tx.CreateNodeAllocation(ctx, a); err != nil {
		return model.NodeAllocation{}, err
	}
	if err := bind(ctx, tx, &a, &n); err != nil {
		return model.NodeAllocation{}, err
	}
	out, _, err := tx.NodeAllocationBy(ctx, "id", a.ID, false)
	return out, err
}

// backfillNodeNotFound answers a backfill whose node does not exist: a bad
// request, as in Ironic.
func backfillNodeNotFound(ident string) error {
	return model.BadRequest("Node %s could not be found.", model.Clip(ident, 200))
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// missingTraits returns the wanted traits the node lacks.
func missingTraits(have, want []string) []string {
	var out []string
	for _, t := range want {
		if !contains(have, t) {
			out = append(out, t)
		}
	}
	return out
}

// bind gives node n to allocation a: the node records the allocation and
// its instance, the node's provider stops withholding its unit, and the
// claim is written in Placement, all in tx.
func bind(ctx context.Context, tx *store.Tx, a *model.NodeAllocation, n *model.Node) error {
	n.InstanceUUID = &a.UUID
	n.AllocationID = a.ID
	if n.InstanceInfo == nil {
		n.InstanceInfo = map[string]any{}
	}
	n.InstanceInfo["traits"] = orList(a.Traits)
	if err := tx.UpdateNode(ctx, *n); err != nil {
		return err
	}
	if err := syncProvider(ctx, tx, n); err != nil {
		return err
	}
	if err := writeClaim(ctx, tx, a, n); err != nil {
		return err
	}
	a.NodeID, a.NodeUUID, a.State, a.LastError = n.ID, n.UUID, model.AllocActive, nil
	a.Worker, a.LeaseUntil = "", time.Time{}
	return tx.UpdateNodeAllocation(ctx, *a)
}

// writeClaim writes (or rewrites) the Placement claim of allocation a: one
// unit of node n's class on n's provider, consumed by a's UUID.
func writeClaim(ctx context.Context, tx *store.Tx, a *model.NodeAllocation, n *model.Node) error {
	project := DefaultProject
	if a.Owner != nil && *a.Owner != "" {
		project = *a.Owner
	}
	class := model.NodeResourceClass(deref(n.ResourceClass))
	return placement.WriteAllocationsTx(ctx, tx, []placement.ConsumerAllocations{{
		ConsumerUUID: a.UUID, ProjectID: project, UserID: DefaultUser, ConsumerType: ConsumerType,
		Allocations: []placement.ProviderResources{{ProviderUUID: n.UUID, Resources: []placement.ClassAmount{{Class: class, Amount: 1}}}},
	}})
}

// releaseAllocation undoes bind in memory and in Placement: the claim is
// released and n forgets the allocation and its instance (instance_info
// keeps its traits, as in Ironic). The caller saves n (or deletes it).
func releaseAllocation(ctx context.Context, tx *store.Tx, a *model.NodeAllocation, n *model.Node) error {
	if err := placement.ReleaseConsumerTx(ctx, tx, a.UUID); err != nil {
		return err
	}
	if n != nil && n.AllocationID == a.ID {
		n.AllocationID = 0
		if n.InstanceUUID != nil && *n.InstanceUUID == a.UUID {
			n.InstanceUUID = nil
		}
	}
	return nil
}

// dropNodeAllocation deletes the allocation node n holds, if any (node
// undeploy, node delete, removing instance_uuid): the claim is released
// and n forgets it. The caller saves n (or deletes it).
func dropNodeAllocation(ctx context.Context, tx *store.Tx, n *model.Node) error {
	if n.AllocationID == 0 {
		return nil
	}
	a, ok, err := tx.NodeAllocationBy(ctx, "id", n.AllocationID, true)
	if err != nil {
		return err
	}
	if !ok {
		n.AllocationID = 0
		return nil
	}
	if err := releaseAllocation(ctx, tx, &a, n); err != nil {
		return err
	}
	return tx.DeleteNodeAllocation(ctx, a.ID)
}

// deleteNodeProvider removes a deleted node's provider.
func deleteNodeProvider(ctx context.Context, tx *store.Tx, uuid string) error {
	return placement.DeleteNodeProvider(ctx, tx, uuid)
}

// GetAllocation returns an allocation by UUID or name.
func (s *Service) GetAllocation(ctx context.Context, ident string) (model.NodeAllocation, error) {
	var a model.NodeAllocation
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		a, err = lookupAllocation(ctx, tx, ident, false)
		return err
	})
	return a, err
}

// ListAllocations returns the allocations matching f, in one read: f.Node
// is found there first (an unknown node is a 400, as in Ironic) and the
// node checks run on it (see Check), then f.Marker (an unknown one is
// GetAllocation's 404).
func (s *Service) ListAllocations(ctx context.Context, f AllocationFilter, checks ...Check) ([]model.NodeAllocation, error) {
	var out []model.NodeAllocation
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		sf := f.NodeAllocationFilter
		if f.Node != "" {
			n, err := nodeForAllocation(ctx, tx, f.Node, false)
			if err != nil {
				return err
			}
			if err := checkNode(checks, &n); err != nil {
				return err
			}
			sf.NodeID = &n.ID
		}
		if f.Marker != "" {
			m, err := lookupAllocation(ctx, tx, f.Marker, false)
			if err != nil {
				return err
			}
			sf.MarkerID = m.ID
		}
		var err error
		out, err = tx.ListNodeAllocations(ctx, sf)
		return err
	})
	return out, err
}

// PatchAllocation applies a JSON patch to an allocation's name and extra;
// checks run on the allocation as locked (see Check).
func (s *Service) PatchAllocation(ctx context.Context, ident string, raw []byte, checks ...Check) (model.NodeAllocation, error) {
	var out model.NodeAllocation
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		a, err := lookupAllocation(ctx, tx, ident, true)
		if err != nil {
			return err
		}
		if err := checkAllocation(checks, &a); err != nil {
			return err
		}
		doc := map[string]any{"name": strOrNil(a.Name), "extra": a.Extra}
		docBytes, _ := json.Marshal(doc)
		patch, err := jsonpatch.DecodePatch(raw)
		if err != nil {
			return model.BadRequest("Schema error for patch: %v", err)
		}
		if err := checkAllocationPatch(patch); err != nil {
			return err
		}
		if docBytes, err = applyPatch(docBytes, patch); err != nil {
			return err
		}
		var res struct {
			Name  *string        `json:"name"`
			Extra map[string]any `json:"extra"`
		}
		if err := json.Unmarshal(docBytes, &res); err != nil {
			return model.BadRequest("Couldn't apply the patch: %v", err)
		}
		if res.Name != nil && *res.Name != "" && !IsLogicalName(*res.Name) {
			return model.BadRequest("Cannot update allocation with invalid name '%s'", model.Clip(*res.Name, 200))
		}
		a.Name, a.Extra = res.Name, orEmpty(res.Extra)
		if err := tx.UpdateNodeAllocation(ctx, a); err != nil {
			return err
		}
		out, _, err = tx.NodeAllocationBy(ctx, "id", a.ID, false)
		return err
	})
	return out, err
}

// checkAllocationPatch refuses an operation on anything but an
// allocation's name and extra (the API checks it first, in the same words;
// without this, adding any other member would be silently ignored).
func checkAllocationPatch(patch jsonpatch.Patch) error {
	for _, op := range patch {
		path, err := op.Path()
		if err != nil {
			return model.BadRequest("Schema error for patch: %v", err)
		}
		field := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
		if field != "name" && field != "extra" {
			return model.BadRequest("Cannot patch %s. Only the following can be updated: name, extra", model.Clip(path, 200))
		}
	}
	return nil
}

// deallocationAllowed applies Ironic's rule: an allocation bound to a node
// may go unless the node is active (or mid-transition) and not in maintenance.
func deallocationAllowed(a *model.NodeAllocation, n *model.Node) error {
	if n.Maintenance {
		return nil
	}
	if n.ProvisionState == model.StateActive || n.TargetProvisionState != nil {
		return model.Conflict("Cannot remove allocation %s for node %s, because the node is active (and maintenance mode is off)", a.UUID, n.UUID)
	}
	return nil
}

// DeleteAllocation removes an allocation, releasing its node; checks run
// on the allocation as locked (see Check).
func (s *Service) DeleteAllocation(ctx context.Context, ident string, checks ...Check) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		a, err := lookupAllocation(ctx, tx, ident, true)
		if err != nil {
			return err
		}
		if err := checkAllocation(checks, &a); err != nil {
			return err
		}
		return deleteAllocation(ctx, tx, &a)
	})
}

func deleteAllocation(ctx context.Context, tx *store.Tx, a *model.NodeAllocation) error {
	if a.NodeID != 0 {
		n, ok, err := tx.NodeBy(ctx, "id", a.NodeID, true)
		if err != nil {
			return err
		}
		if ok {
			if err := deallocationAllowed(a, &n); err != nil {
				return err
			}
			if err := releaseAllocation(ctx, tx, a, &n); err != nil {
				return err
			}
			if err := tx.UpdateNode(ctx, n); err != nil {
				return err
			}
			if err := syncProvider(ctx, tx, &n); err != nil {
				return err
			}
		}
	} else if err := placement.ReleaseConsumerTx(ctx, tx, a.UUID); err != nil {
		return err
	}
	return tx.DeleteNodeAllocation(ctx, a.ID)
}

// nodeForAllocation resolves the node of the /v1/nodes/{node}/allocation
// sub-resource: an unknown node is a 400, as in Ironic.
func nodeForAllocation(ctx context.Context, tx *store.Tx, ident string, lock bool) (model.Node, error) {
	return lookupNode(ctx, tx, ident, lock, func(ident string) error {
		return model.BadRequest("Node %s could not be found.", model.Clip(ident, 200))
	})
}

// GetNodeAllocation returns the allocation of a node, in one read: the
// node checks run on the node, then the allocation checks on its
// allocation (see Check).
func (s *Service) GetNodeAllocation(ctx context.Context, nodeIdent string, checks ...Check) (model.NodeAllocation, error) {
	var a model.NodeAllocation
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		n, err := nodeForAllocation(ctx, tx, nodeIdent, false)
		if err != nil {
			return err
		}
		if err := checkNode(checks, &n); err != nil {
			return err
		}
		var ok bool
		if n.AllocationID != 0 {
			a, ok, err = tx.NodeAllocationBy(ctx, "id", n.AllocationID, false)
		}
		if err == nil && !ok {
			err = model.NotFound("Allocation for node %s was not found", model.Clip(nodeIdent, 200))
		}
		if err != nil {
			return err
		}
		return checkAllocation(checks, &a)
	})
	return a, err
}

// DeleteNodeAllocation removes the allocation of a node: the node checks
// run on the node as locked, then the allocation checks on its allocation
// (see Check).
func (s *Service) DeleteNodeAllocation(ctx context.Context, nodeIdent string, checks ...Check) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := nodeForAllocation(ctx, tx, nodeIdent, true)
		if err != nil {
			return err
		}
		if err := checkNode(checks, &n); err != nil {
			return err
		}
		if n.AllocationID == 0 {
			return model.NotFound("Allocation for node %s was not found", model.Clip(nodeIdent, 200))
		}
		a, ok, err := tx.NodeAllocationBy(ctx, "id", n.AllocationID, true)
		if err != nil {
			return err
		}
		if !ok {
			return model.NotFound("Allocation for node %s was not found", model.Clip(nodeIdent, 200))
		}
		if err := checkAllocation(checks, &a); err != nil {
			return err
		}
		return deleteAllocation(ctx, tx, &a)
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
