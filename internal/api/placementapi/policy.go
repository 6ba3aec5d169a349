package placementapi

import "allot/internal/policy"

// Placement's policy rule names, as the route table names them.
const (
	ruleProviderList   = "placement:resource_providers:list"
	ruleProviderCreate = "placement:resource_providers:create"
	ruleProviderShow   = "placement:resource_providers:show"
	ruleProviderUpdate = "placement:resource_providers:update"
	ruleProviderDelete = "placement:resource_providers:delete"

	ruleInventoryList   = "placement:resource_providers:inventories:list"
	ruleInventoryCreate = "placement:resource_providers:inventories:create"
	ruleInventoryShow   = "placement:resource_providers:inventories:show"
	ruleInventoryUpdate = "placement:resource_providers:inventories:update"
	ruleInventoryDelete = "placement:resource_providers:inventories:delete"

	ruleAggregateList   = "placement:resource_providers:aggregates:list"
	ruleAggregateUpdate = "placement:resource_providers:aggregates:update"

	ruleProviderTraitList   = "placement:resource_providers:traits:list"
	ruleProviderTraitUpdate = "placement:resource_providers:traits:update"
	ruleProviderTraitDelete = "placement:resource_providers:traits:delete"

	ruleProviderAllocationList = "placement:resource_providers:allocations:list"
	ruleProviderUsages         = "placement:resource_providers:usages"

	ruleClassList   = "placement:resource_classes:list"
	ruleClassCreate = "placement:resource_classes:create"
	ruleClassShow   = "placement:resource_classes:show"
	ruleClassUpdate = "placement:resource_classes:update"
	ruleClassDelete = "placement:resource_classes:delete"

	ruleTraitList   = "placement:traits:list"
	ruleTraitShow   = "placement:traits:show"
	ruleTraitUpdate = "placement:traits:update"
	ruleTraitDelete = "placement:traits:delete"

	ruleAllocationManage = "placement:allocations:manage"
	ruleAllocationList   = "placement:allocations:list"
	ruleAllocationUpdate = "placement:allocations:update"
	ruleAllocationDelete = "placement:allocations:delete"

	ruleUsages     = "placement:usages"
	ruleReshape    = "placement:reshaper:reshape"
	ruleCandidates = "placement:allocation_candidates:list"
)

// Placement 8.0's base rules. Every operation's rule refers to one of
// them; each base rule replaces the legacy "role:admin" (the deprecated
// admin_api), which keeps passing unless enforce_new_defaults is on.
const (
	baseAdmin         = "admin_api"
	baseSystemAdmin   = "system_admin_api"
	baseSystemReader  = "system_reader_api"
	baseProjectReader = "project_reader_api"
	baseSystemOrOwner = "system_or_project_reader"
)

// legacyAdmin is the rule every base rule deprecates. (Placement names it
// "rule:admin_api"; the name only matters when a policy file overrides
// it, which the name's form makes impossible.)
var legacyAdmin = &policy.DeprecatedRule{Name: "rule:" + baseAdmin, Check: "role:admin"}

// PolicyDefaults are Placement 8.0's default policy rules: names, check
// strings, scope types and deprecated legacy rules.
func PolicyDefaults() []policy.Rule {
	system := []string{policy.ScopeSystem}
	rules := []policy.Rule{
		{Name: baseAdmin, Check: "role:admin", ScopeTypes: system,
			Description: "Legacy administrator rule (deprecated for removal)."},
		{Name: baseSystemAdmin, Check: "role:admin and system_scope:all", Deprecated: legacyAdmin,
			Description: "A system-scoped administrator."},
		{Name: baseSystemReader, Check: "role:reader and system_scope:all", Deprecated: legacyAdmin,
			Description: "A system-scoped reader."},
		{Name: baseProjectReader, Check: "role:reader and project_id:%(project_id)s", Deprecated: legacyAdmin,
			Description: "A reader of the target's project."},
		{Name: baseSystemOrOwner, Check: "rule:" + baseSystemReader + " or rule:" + baseProjectReader, Deprecated: legacyAdmin,
			Description: "A system reader or a reader of the target's project."},
	}
	op := func(name, base, what string, scopes ...string) {
		if len(scopes) == 0 {
			scopes = system
		}
		rules = append(rules, policy.Rule{Name: name, Check: "rule:" + base, ScopeTypes: scopes, Description: what})
	}
	op(ruleProviderList, baseSystemReader, "List resource providers.")
	op(ruleProviderCreate, baseSystemAdmin, "Create a resource provider.")
	op(ruleProviderShow, baseSystemReader, "Show a resource provider.")
	op(ruleProviderUpdate, baseSystemAdmin, "Update a resource provider.")
	op(ruleProviderDelete, baseSystemAdmin, "Delete a resource provider.")
	op(ruleInventoryList, baseSystemReader, "List a provider's inventories.")
	op(ruleInventoryCreate, baseSystemAdmin, "Create an inventory of a provider.")
	op(ruleInventoryShow, baseSystemReader, "Show an inventory of a provider.")
	op(ruleInventoryUpdate, baseSystemAdmin, "Replace or update a provider's inventories.")
	op(ruleInventoryDelete, baseSystemAdmin, "Delete a provider's inventories.")
	op(ruleAggregateList, baseSystemReader, "List a provider's aggregates.")
	op(ruleAggregateUpdate, baseSystemAdmin, "Set a provider's aggregates.")
	op(ruleProviderTraitList, baseSystemReader, "List a provider's traits.")
	op(ruleProviderTraitUpdate, baseSystemAdmin, "Set a provider's traits.")
	op(ruleProviderTraitDelete, baseSystemAdmin, "Remove a provider's traits.")
	op(ruleProviderAllocationList, baseSystemReader, "List the allocations against a provider.")
	op(ruleProviderUsages, baseSystemReader, "Show a provider's usages.")
	op(ruleClassList, baseSystemReader, "List resource classes.")
	op(ruleClassCreate, baseSystemAdmin, "Create a resource class.")
	op(ruleClassShow, baseSystemReader, "Show a resource class.")
	op(ruleClassUpdate, baseSystemAdmin, "Create or rename a resource class.")
	op(ruleClassDelete, baseSystemAdmin, "Delete a resource class.")
	op(ruleTraitList, baseSystemReader, "List traits.")
	op(ruleTraitShow, baseSystemReader, "Show a trait.")
	op(ruleTraitUpdate, baseSystemAdmin, "Create a trait.")
	op(ruleTraitDelete, baseSystemAdmin, "Delete a trait.")
	op(ruleAllocationManage, baseSystemAdmin, "Write the allocations of several consumers.")
	op(ruleAllocationList, baseSystemReader, "List a consumer's allocations.")
	op(ruleAllocationUpdate, baseSystemAdmin, "Write a consumer's allocations.")
	op(ruleAllocationDelete, baseSystemAdmin, "Delete a consumer's allocations.")
	op(ruleUsages, baseSystemOrOwner, "Show the usages of a project or user.", policy.ScopeSystem, policy.ScopeProject)
	op(ruleReshape, baseSystemAdmin, "Reshape inventories and allocations.")
	op(ruleCandidates, baseSystemReader, "List allocation candidates.")
	return rules
}

// deniedMessage is Placement's 403 text, which names the rule.
func deniedMessage(rule string) string {
	return "Policy does not allow " + rule + " to be performed."
}
