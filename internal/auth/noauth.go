// Package auth turns a request into the caller's identity
// (policy.Credentials): from trusted headers in the development strategy
// noauth2, or from Keystone's validation of the request's token.
package auth

import (
	"net/http"
	"strings"

	"allot/internal/model"
	"allot/internal/policy"
)

// NoAuth2Credentials reads the identity as Placement's noauth2 middleware
// and oslo.context do: X-Auth-Token is "user" or "user:project" (the user
// "admin" has the role admin unless X-Roles is sent), X-Roles a comma list,
// X-User-Id and X-Project-Id override the token's parts,
// OpenStack-System-Scope makes the token system-scoped (and projectless
// unless X-Project-Id is sent), X-Domain-Id domain-scoped. No token is a
// 401. Every header is trusted: for development and tests only.
func NoAuth2Credentials(r *http.Request) (policy.Credentials, error) {
	tokens, ok := r.Header["X-Auth-Token"]
	if !ok || len(tokens) == 0 {
		return policy.Credentials{}, model.Errorf(model.KindUnauthorized,
			"This server could not verify that you are authorized to access the document you requested: send an X-Auth-Token header.")
	}
	user, project, _ := strings.Cut(tokens[0], ":")
	if project == "" {
		project = user
	}
	var c policy.Credentials
	c.UserID = firstOr(r.Header.Get("X-User-Id"), user)
	c.SystemScope = r.Header.Get("Openstack-System-Scope")
	if c.SystemScope == "" {
		c.ProjectID = project
	}
	c.ProjectID = firstOr(r.Header.Get("X-Project-Id"), c.ProjectID)
	c.DomainID = r.Header.Get("X-Domain-Id")
	c.UserDomainID = r.Header.Get("X-User-Domain-Id")
	c.ProjectDomainID = r.Header.Get("X-Project-Domain-Id")
	if roles, sent := r.Header["X-Roles"]; sent {
		c.Roles = splitList(strings.Join(roles, ","))
	} else if user == "admin" {
		c.Roles = []string{"admin"}
	}
	c.ServiceRoles = splitList(r.Header.Get("X-Service-Roles"))
	c.IsAdminProject = !strings.EqualFold(r.Header.Get("X-Is-Admin-Project"), "false")
	return c, nil
}

// firstOr returns s, or def when s is empty.
func firstOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// splitList splits a comma-separated header into its trimmed, non-empty
// items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
