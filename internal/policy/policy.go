// Package policy decides whether a caller may perform an action, in
// oslo.policy's rule language and with its semantics: rules such as
// "role:admin and system_scope:all" or "project_id:%(node.owner)s", defaults
// registered in code (with deprecated legacy rules and scope types),
// overrides from a policy file (YAML or JSON), and the enforce_scope and
// enforce_new_defaults switches. It is pure: no I/O beyond reading the
// policy file it is given.
package policy

// Credentials are the caller's identity as a policy sees it: oslo.context's
// policy values. An empty string is Python's None (it matches "None").
type Credentials struct {
	UserID          string
	UserDomainID    string
	ProjectID       string
	ProjectDomainID string
	// DomainID is set for a domain-scoped token.
	DomainID string
	// SystemScope is "all" for a system-scoped token, else empty.
	SystemScope    string
	Roles          []string
	IsAdminProject bool
	// Service* describe the service token sent with X-Service-Token, when
	// there was one.
	ServiceUserID          string
	ServiceUserDomainID    string
	ServiceProjectID       string
	ServiceProjectDomainID string
	ServiceRoles           []string
}

// Target describes the object of an action, with oslo.policy's flat keys
// ("project_id", "node.owner", "allocation.owner"). A nil value is Python's
// None.
type Target map[string]any

// Scope types of a rule.
const (
	ScopeSystem  = "system"
	ScopeDomain  = "domain"
	ScopeProject = "project"
)

// Rule is a default registered in code.
type Rule struct {
	Name string
	// Check is the rule's check string (the secure-RBAC default).
	Check       string
	Description string
	// ScopeTypes, when not empty, are the token scopes the rule accepts
	// (checked when enforce_scope is on).
	ScopeTypes []string
	// Deprecated, when set, is the legacy rule this one replaces: unless
	// enforce_new_defaults is on (or the policy file overrides Name), the
	// rule passes when either check passes.
	Deprecated *DeprecatedRule
}

// DeprecatedRule is a rule's legacy name and check string.
type DeprecatedRule struct {
	Name  string
	Check string
}

// Options configure an Enforcer, as oslo.policy's [oslo_policy] section.
type Options struct {
	// PolicyFile is a YAML or JSON file of rule overrides ("" for none).
	PolicyFile string
	// EnforceScope refuses a rule to a token whose scope is not among the
	// rule's ScopeTypes.
	EnforceScope bool
	// EnforceNewDefaults ignores deprecated legacy rules.
	EnforceNewDefaults bool
}
