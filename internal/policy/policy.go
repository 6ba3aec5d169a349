// Package policy decides whether a caller may perform an action, in
// oslo.policy's rule language and with its semantics (oslo.policy 4.0.0,
// the version Placement 8.0 and Ironic 21.4 use): rules such as
// "role:admin and system_scope:all" or "project_id:%(node.owner)s", defaults
// registered in code (with deprecated legacy rules and scope types),
// overrides from a policy file (YAML or JSON), and the enforce_scope and
// enforce_new_defaults switches. It is pure: no I/O beyond reading the
// policy file it is given.
//
// Where oslo.policy logs a malformed rule and fails closed at run time (or
// raises from every enforcement), allot refuses it when the Enforcer is
// built: New returns an error naming the file, the line, the rule and the
// reason. Rules are parsed once; Enforce evaluates a precompiled tree, does
// not allocate in the common cases and is safe for concurrent use.
package policy

// Credentials are the caller's identity as a policy sees it: oslo.context's
// policy values (RequestContext.to_policy_values). An empty string is
// Python's None (it matches "None").
type Credentials struct {
	UserID          string
	UserDomainID    string
	ProjectID       string
	ProjectDomainID string
	// DomainID is set for a domain-scoped token.
	DomainID string
	// SystemScope is "all" for a system-scoped token, else empty. When set
	// it is also the value of the "system" key, as oslo.policy adds it.
	SystemScope string
	Roles       []string
	// IsAdminProject is keystonemiddleware's X-Is-Admin-Project; note that
	// oslo.context defaults it to true when the header is absent.
	IsAdminProject bool
	// Service* describe the service token sent with X-Service-Token, when
	// there was one.
	ServiceUserID          string
	ServiceUserDomainID    string
	ServiceProjectID       string
	ServiceProjectDomainID string
	ServiceRoles           []string
	// Extra holds a service's own policy values beyond oslo.context's, as
	// a service's to_policy_values adds them (Ironic: "project_name",
	// "is_public_api"). Values are formatted as Python's str() would:
	// nil is None, a bool True or False, a []string or []any a list whose
	// elements are matched one by one, and a map[string]any a dict that a
	// dotted name ("a.b") looks into. Keys of the standard values above
	// are ignored here.
	Extra map[string]any
}

// Target describes the object of an action, with oslo.policy's flat keys
// ("project_id", "node.owner", "allocation.owner"). A nil value is Python's
// None; other values are formatted as Python's str() would (see
// Credentials.Extra).
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
	// A file that cannot be read is an error.
	PolicyFile string
	// EnforceScope refuses a rule to a token whose scope is not among the
	// rule's ScopeTypes.
	EnforceScope bool
	// EnforceNewDefaults ignores deprecated legacy rules.
	EnforceNewDefaults bool
	// DefaultRule is oslo.policy's policy_default_rule: the name of the
	// rule used in place of an undefined one, both by Enforce and by
	// "rule:" references, when a rule of that name is defined.
	// oslo.policy's default is "default"; empty means none, so an
	// undefined rule always fails closed.
	DefaultRule string
}
