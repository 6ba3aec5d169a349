package api

import (
	"net/http"
	"sort"

	"allot/internal/policy"
)

// Permissions is the answer of an API's GET /allot/v1/permissions: which
// of the API's policy rules the caller passes, decided by the enforcer
// that governs its routes, so that a client (the web console) draws write
// controls only for callers who may write.
type Permissions struct {
	// Rules maps every policy rule a route of the API names to whether
	// the caller passes it on target.
	Rules map[string]bool `json:"rules"`
	// Identity is who the API took the caller to be.
	Identity PermissionsIdentity `json:"identity"`
}

// PermissionsIdentity is the caller as Permissions shows it.
type PermissionsIdentity struct {
	UserID      string   `json:"user_id"`
	ProjectID   string   `json:"project_id"`
	SystemScope string   `json:"system_scope,omitempty"`
	Roles       []string `json:"roles"`
}

// PermissionsOf evaluates every rule of r's service for the caller of r on
// target (nil: the caller's own project, Enforce's default). Without
// authentication (noauth) every rule passes and the identity is empty.
func PermissionsOf(r *http.Request, target policy.Target) Permissions {
	st := StateOf(r)
	p := Permissions{Rules: map[string]bool{}, Identity: PermissionsIdentity{Roles: []string{}}}
	for _, rt := range st.Service.Routes {
		if rt.Policy != "" {
			p.Rules[rt.Policy] = Allowed(r, rt.Policy, target)
		}
	}
	if id, ok := IdentityOf(r); ok {
		roles := append([]string{}, id.Roles...)
		sort.Strings(roles)
		p.Identity = PermissionsIdentity{UserID: id.UserID, ProjectID: id.ProjectID, SystemScope: id.SystemScope, Roles: roles}
	}
	return p
}
