package baremetalapi

import (
	"fmt"

	"allot/internal/policy"
)

// The rule names of the node and allocation operations allot serves, as
// Ironic 21.4 registers them.
const (
	ruleNodeCreate          = "baremetal:node:create"
	ruleNodeCreateSelfOwned = "baremetal:node:create:self_owned_node"
	ruleNodeList            = "baremetal:node:list"
	ruleNodeListAll         = "baremetal:node:list_all"
	ruleNodeGet             = "baremetal:node:get"
	ruleNodeFilterThreshold = "baremetal:node:get:filter_threshold"
	ruleNodeGetLastError    = "baremetal:node:get:last_error"
	ruleNodeGetReservation  = "baremetal:node:get:reservation"
	ruleNodeGetInternalInfo = "baremetal:node:get:driver_internal_info"
	ruleNodeGetDriverInfo   = "baremetal:node:get:driver_info"

	ruleNodeUpdate                 = "baremetal:node:update"
	ruleNodeUpdateExtra            = "baremetal:node:update_extra"
	ruleNodeUpdateInstanceInfo     = "baremetal:node:update_instance_info"
	ruleNodeUpdateOwnerProvisioned = "baremetal:node:update_owner_provisioned"
	ruleNodeUpdateDriverInfo       = "baremetal:node:update:driver_info"
	ruleNodeUpdateProperties       = "baremetal:node:update:properties"
	ruleNodeUpdateChassis          = "baremetal:node:update:chassis_uuid"
	ruleNodeUpdateInstanceUUID     = "baremetal:node:update:instance_uuid"
	ruleNodeUpdateLessee           = "baremetal:node:update:lessee"
	ruleNodeUpdateOwner            = "baremetal:node:update:owner"
	ruleNodeUpdateInterfaces       = "baremetal:node:update:driver_interfaces"
	ruleNodeUpdateNetworkData      = "baremetal:node:update:network_data"
	ruleNodeUpdateConductorGroup   = "baremetal:node:update:conductor_group"
	ruleNodeUpdateName             = "baremetal:node:update:name"
	ruleNodeUpdateRetired          = "baremetal:node:update:retired"
	ruleNodeUpdateShard            = "baremetal:node:update:shard"
	ruleNodeDisableCleaning        = "baremetal:node:disable_cleaning"

	ruleNodeDelete          = "baremetal:node:delete"
	ruleNodeDeleteSelfOwned = "baremetal:node:delete:self_owned_node"

	ruleNodeGetStates        = "baremetal:node:get_states"
	ruleNodeSetPower         = "baremetal:node:set_power_state"
	ruleNodeSetProvision     = "baremetal:node:set_provision_state"
	ruleNodeSetMaintenance   = "baremetal:node:set_maintenance"
	ruleNodeClearMaintenance = "baremetal:node:clear_maintenance"
	ruleNodeTraitsList       = "baremetal:node:traits:list"
	ruleNodeTraitsSet        = "baremetal:node:traits:set"
	ruleNodeTraitsDelete     = "baremetal:node:traits:delete"

	ruleAllocationGet              = "baremetal:allocation:get"
	ruleAllocationList             = "baremetal:allocation:list"
	ruleAllocationListAll          = "baremetal:allocation:list_all"
	ruleAllocationCreate           = "baremetal:allocation:create"
	ruleAllocationCreateRestricted = "baremetal:allocation:create_restricted"
	ruleAllocationCreatePreRBAC    = "baremetal:allocation:create_pre_rbac"
	ruleAllocationUpdate           = "baremetal:allocation:update"
	ruleAllocationDelete           = "baremetal:allocation:delete"
)

// The personas Ironic 21.4's defaults are written in. "node.owner",
// "node.lessee" and "allocation.owner" are target keys the handlers fill.
const (
	systemAdmin   = "role:admin and system_scope:all"
	systemMember  = "role:member and system_scope:all"
	systemReader  = "(role:reader and system_scope:all) or (role:service and system_scope:all)"
	systemService = "role:service and system_scope:all"

	projectMember  = "role:member and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
	projectReader  = "role:reader and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
	projectService = "role:service and project_id:%(node.owner)s"

	ownerAdmin            = "role:admin and project_id:%(node.owner)s"
	ownerManager          = "role:manager and project_id:%(node.owner)s"
	ownerMember           = "role:member and project_id:%(node.owner)s"
	ownerReader           = "role:reader and project_id:%(node.owner)s"
	lesseeAdmin           = "role:admin and project_id:%(node.lessee)s"
	lesseeManager         = "role:manager and project_id:%(node.lessee)s"
	allocationOwnerMember = "role:member and project_id:%(allocation.owner)s"
	allocationOwnerReader = "role:reader and project_id:%(allocation.owner)s"

	// apiReader is anyone with a reader or service role, whatever it may
	// see (lists are narrowed afterwards).
	apiReader = "(role:reader) or (role:service)"
)

// anyOf joins checks with "or", each in parentheses.
func anyOf(checks ...string) string {
	out := ""
	for i, c := range checks {
		if i > 0 {
			out += " or "
		}
		out += "(" + c + ")"
	}
	return out
}

// Composite personas.
var (
	systemOrProjectMember          = anyOf(systemMember, projectMember)
	systemOrProjectReader          = anyOf(systemReader, projectReader, projectService)
	systemOrOwnerReader            = anyOf(systemReader, systemService, ownerReader, projectService)
	systemOrOwnerMemberLesseeAdmin = anyOf(systemMember, systemService, ownerMember, lesseeAdmin, lesseeManager, projectService)
	systemMemberOrOwnerAdmin       = anyOf(systemMember, systemService, ownerAdmin, ownerManager, projectService)
	systemMemberOrOwnerMember      = anyOf(systemMember, systemService, ownerMember, projectService)
	allocationMember               = anyOf(systemMember, allocationOwnerMember)
	allocationReader               = anyOf(systemReader, allocationOwnerReader)
	allocationCreator              = anyOf(systemMember, "role:member")
)

// Scope types.
var (
	systemOnly       = []string{policy.ScopeSystem}
	projectOnly      = []string{policy.ScopeProject}
	systemAndProject = []string{policy.ScopeSystem, policy.ScopeProject}
)

// The legacy (pre-scope) checks the new defaults replace; they keep
// passing, OR'd with the new check, until enforce_new_defaults is on.
const (
	legacyAdmin         = "rule:is_admin"
	legacyAdminObserver = "rule:is_admin or rule:is_observer"
)

func deprecated(name, check string) *policy.DeprecatedRule {
	return &policy.DeprecatedRule{Name: name, Check: check}
}

// PolicyDefaults are Ironic 21.4's default policy rules for the node and
// allocation operations allot serves: the legacy base rules the
// deprecated checks refer to, and each operation's secure-RBAC rule with
// its scope types and the deprecated legacy rule it replaces.
func PolicyDefaults() []policy.Rule {
	get := deprecated(ruleNodeGet, legacyAdminObserver)
	update := deprecated(ruleNodeUpdate, legacyAdmin)
	nodeRule := func(name, check, desc string, scopes []string, dep *policy.DeprecatedRule) policy.Rule {
		return policy.Rule{Name: name, Check: check, Description: desc, ScopeTypes: scopes, Deprecated: dep}
	}
	fieldRule := func(field, check string) policy.Rule {
		return nodeRule("baremetal:node:update:"+field, check,
			"Whether a node PATCH may change "+field+".", systemAndProject, update)
	}
	return []policy.Rule{
		// The legacy base rules (deprecated for removal in Ironic, still
		// what every deprecated rule refers to).
		{Name: "admin_api", Check: "role:admin or role:administrator", Description: "Legacy: the cloud administrator."},
		{Name: "is_member", Check: "(project_domain_id:default or project_domain_id:None) and (project_name:demo or project_name:baremetal)",
			Description: "Legacy: a caller in one of the projects allowed to use the Bare Metal API."},
		{Name: "is_observer", Check: "rule:is_member and (role:observer or role:baremetal_observer)", Description: "Legacy: read-only access."},
		{Name: "is_admin", Check: "rule:admin_api or (rule:is_member and role:baremetal_admin)", Description: "Legacy: read and write access."},
		{Name: "is_node_owner", Check: "project_id:%(node.owner)s", Description: "Legacy: the caller's project owns the node."},
		{Name: "is_node_lessee", Check: "project_id:%(node.lessee)s", Description: "Legacy: the caller's project leases the node."},
		{Name: "is_allocation_owner", Check: "project_id:%(allocation.owner)s", Description: "Legacy: the caller's project owns the allocation."},

		// Nodes.
		nodeRule(ruleNodeCreate, anyOf(systemAdmin, systemService), "Enroll a node.", systemAndProject, deprecated(ruleNodeCreate, legacyAdmin)),
		nodeRule(ruleNodeCreateSelfOwned, "(role:admin) or (role:service)",
			"Enroll a node owned by the caller's own project.", projectOnly, nil),
		nodeRule(ruleNodeList, apiReader, "List nodes; a caller without list_all sees those its project owns or leases.",
			systemAndProject, deprecated(ruleNodeList, "rule:"+ruleNodeGet)),
		nodeRule(ruleNodeListAll, systemReader, "List every node.", systemOnly, deprecated(ruleNodeListAll, "rule:"+ruleNodeGet)),
		nodeRule(ruleNodeGet, systemOrProjectReader, "Show a node (a node the caller may not see does not exist for it).",
			systemAndProject, get),
		nodeRule(ruleNodeFilterThreshold, systemReader,
			"Callers who fail this rule have the node fields below masked unless they pass the field's own rule.", systemAndProject, get),
		nodeRule(ruleNodeGetLastError, systemOrOwnerReader, "See a node's last_error.", systemAndProject, get),
		nodeRule(ruleNodeGetReservation, systemOrOwnerReader, "See a node's reservation.", systemAndProject, get),
		nodeRule(ruleNodeGetInternalInfo, systemOrOwnerReader, "See a node's driver_internal_info.", systemAndProject, get),
		nodeRule(ruleNodeGetDriverInfo, systemOrOwnerReader, "See a node's driver_info.", systemAndProject, get),
		fieldRule("driver_info", systemMemberOrOwnerMember),
		fieldRule("properties", systemMemberOrOwnerMember),
		fieldRule("chassis_uuid", systemAdmin),
		fieldRule("instance_uuid", systemMemberOrOwnerMember),
		fieldRule("lessee", systemMemberOrOwnerMember),
		fieldRule("owner", systemMember),
		fieldRule("driver_interfaces", systemMemberOrOwnerAdmin),
		fieldRule("network_data", systemMemberOrOwnerMember),
		fieldRule("conductor_group", systemMember),
		fieldRule("name", systemMemberOrOwnerMember),
		fieldRule("retired", systemMemberOrOwnerMember),
		nodeRule(ruleNodeUpdateShard, systemAdmin, "Whether a node PATCH may change shard.", systemAndProject, nil),
		nodeRule(ruleNodeUpdate, systemOrProjectMember, "Change the node fields no field rule governs.", systemAndProject, update),
		nodeRule(ruleNodeUpdateExtra, systemOrProjectMember, "Change a node's extra.", systemAndProject,
			deprecated(ruleNodeUpdateExtra, "rule:"+ruleNodeUpdate)),
		nodeRule(ruleNodeUpdateInstanceInfo, systemOrOwnerMemberLesseeAdmin, "Change a node's instance_info.", systemAndProject,
			deprecated(ruleNodeUpdateInstanceInfo, "rule:"+ruleNodeUpdate)),
		nodeRule(ruleNodeUpdateOwnerProvisioned, systemAdmin, "Change the owner of an active node (else 409).", systemOnly,
			deprecated(ruleNodeUpdateOwnerProvisioned, legacyAdmin)),
		nodeRule(ruleNodeDisableCleaning, systemAdmin, "Turn a node's automated cleaning off.", systemOnly,
			deprecated(ruleNodeDisableCleaning, "rule:"+ruleNodeUpdate)),
		nodeRule(ruleNodeDelete, systemAdmin, "Delete a node.", systemAndProject, deprecated(ruleNodeDelete, legacyAdmin)),
		nodeRule(ruleNodeDeleteSelfOwned, ownerAdmin, "Delete a node the caller's project owns.", projectOnly, nil),
		nodeRule(ruleNodeGetStates, systemOrProjectReader, "Show a node's power and provision states.", systemAndProject,
			deprecated(ruleNodeGetStates, legacyAdminObserver)),
		nodeRule(ruleNodeSetPower, systemOrProjectMember, "Change a node's power state.", systemAndProject,
			deprecated(ruleNodeSetPower, legacyAdmin)),
		nodeRule(ruleNodeSetProvision, systemOrOwnerMemberLesseeAdmin, "Change a node's provision state.", systemAndProject,
			deprecated(ruleNodeSetProvision, legacyAdmin)),
		nodeRule(ruleNodeSetMaintenance, systemOrOwnerMemberLesseeAdmin, "Put a node in maintenance.", systemAndProject,
			deprecated(ruleNodeSetMaintenance, legacyAdmin)),
		nodeRule(ruleNodeClearMaintenance, systemOrOwnerMemberLesseeAdmin, "Take a node out of maintenance.", systemAndProject,
			deprecated(ruleNodeClearMaintenance, legacyAdmin)),
		nodeRule(ruleNodeTraitsList, systemOrProjectReader, "List a node's traits.", systemAndProject,
			deprecated(ruleNodeTraitsList, legacyAdminObserver)),
		nodeRule(ruleNodeTraitsSet, systemMemberOrOwnerAdmin, "Add a node trait or replace them all.", systemAndProject,
			deprecated(ruleNodeTraitsSet, legacyAdmin)),
		nodeRule(ruleNodeTraitsDelete, systemMemberOrOwnerAdmin, "Remove one or all node traits.", systemAndProject,
			deprecated(ruleNodeTraitsDelete, legacyAdmin)),

		// Allocations.
		nodeRule(ruleAllocationGet, allocationReader, "Show an allocation (one the caller may not see does not exist for it).",
			systemAndProject, deprecated(ruleAllocationGet, legacyAdminObserver)),
		nodeRule(ruleAllocationList, apiReader, "List allocations; a caller without list_all sees its project's.",
			systemAndProject, deprecated(ruleAllocationList, "rule:"+ruleAllocationGet)),
		nodeRule(ruleAllocationListAll, systemReader, "List every allocation.", systemAndProject,
			deprecated(ruleAllocationListAll, "rule:"+ruleAllocationGet+" and is_admin_project:True")),
		nodeRule(ruleAllocationCreate, allocationCreator, "Create an allocation (a project caller's is owned by its project).",
			systemAndProject, deprecated(ruleAllocationCreate, "rule:is_admin and is_admin_project:True")),
		nodeRule(ruleAllocationCreateRestricted, systemMember,
			"Create an allocation for another owner, or from candidate nodes outside the caller's project.", systemAndProject,
			deprecated(ruleAllocationCreateRestricted, "rule:"+ruleAllocationCreate)),
		nodeRule(ruleAllocationCreatePreRBAC, "(rule:is_member and role:baremetal_admin) or (is_admin_project:True and role:admin)",
			"While the legacy rules are in force: who may create an allocation without an owner.", projectOnly, nil),
		nodeRule(ruleAllocationUpdate, allocationMember, "Change an allocation's name and extra.", systemAndProject,
			deprecated(ruleAllocationUpdate, legacyAdmin)),
		nodeRule(ruleAllocationDelete, allocationMember, "Delete an allocation.", systemAndProject,
			deprecated(ruleAllocationDelete, legacyAdmin)),
	}
}

// DefaultPolicy is an enforcer of PolicyDefaults with oslo.policy's
// default options (those of Ironic 21.4: neither scope nor the new
// defaults enforced).
func DefaultPolicy() *policy.Enforcer {
	enf, err := policy.New(PolicyDefaults(), policy.Options{})
	if err != nil {
		panic(fmt.Sprintf("ironic's default policy does not load: %v", err)) // a bug, caught by the tests
	}
	return enf
}

// deniedMessage is Ironic's 403 text (its HTTPForbidden), which names the
// rule.
func deniedMessage(rule string) string {
	return "Access was denied to the following resource: " + rule
}
