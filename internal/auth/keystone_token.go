package auth

import (
	"regexp"
	"strings"
	"time"

	"allot/internal/policy"
)

// tokenBody is the part of Keystone's GET /v3/auth/tokens answer
// ({"token": ...}) that allot reads.
type tokenBody struct {
	ExpiresAt time.Time `json:"expires_at"`
	User      struct {
		ID     string `json:"id"`
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"user"`
	Project *struct {
		ID     string `json:"id"`
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"project"`
	Domain *struct {
		ID string `json:"id"`
	} `json:"domain"`
	System map[string]any `json:"system"`
	Roles  []struct {
		Name string `json:"name"`
	} `json:"roles"`
	// IsAdminProject is absent unless Keystone has an admin project
	// configured; absent means true, as in keystoneauth.
	IsAdminProject *bool `json:"is_admin_project"`
	// ApplicationCredential carries the access rules of a token made from
	// a restricted application credential.
	ApplicationCredential *struct {
		AccessRules *[]accessRule `json:"access_rules"`
	} `json:"application_credential"`
	Catalog []struct {
		Type string `json:"type"`
	} `json:"catalog"`
}

// accessRule is one rule of an application credential: the only requests
// its tokens may make.
type accessRule struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Service string `json:"service"`
}

// tokenInfo is a validation result as the cache keeps it: the identity of a
// valid token, or invalid.
type tokenInfo struct {
	invalid   bool
	expiresAt time.Time

	userID, userDomainID       string
	projectID, projectDomainID string
	domainID                   string
	systemAll                  bool
	roles                      []string
	isAdminProject             bool

	// restricted is set for a token with access rules (accessRules may
	// then be empty: nothing is allowed); catalogTypes are the service
	// types of its catalog.
	restricted   bool
	accessRules  []accessRule
	catalogTypes []string
}

// invalidToken is the cached answer for a token Keystone does not know.
var invalidToken = &tokenInfo{invalid: true}

func newTokenInfo(b *tokenBody) *tokenInfo {
	t := &tokenInfo{expiresAt: b.ExpiresAt, userID: b.User.ID, userDomainID: b.User.Domain.ID, isAdminProject: true}
	if b.Project != nil {
		t.projectID, t.projectDomainID = b.Project.ID, b.Project.Domain.ID
	}
	if b.Domain != nil {
		t.domainID = b.Domain.ID
	}
	if all, _ := b.System["all"].(bool); all {
		t.systemAll = true
	}
	for _, r := range b.Roles {
		t.roles = append(t.roles, r.Name)
	}
	if b.IsAdminProject != nil {
		t.isAdminProject = *b.IsAdminProject
	}
	if ac := b.ApplicationCredential; ac != nil && ac.AccessRules != nil {
		t.restricted = true
		t.accessRules = *ac.AccessRules
		for _, s := range b.Catalog {
			t.catalogTypes = append(t.catalogTypes, s.Type)
		}
	}
	return t
}

// expired tells whether the token is past its expiry at now (a token with
// no expiry never is).
func (t *tokenInfo) expired(now time.Time) bool {
	return !t.expiresAt.IsZero() && !now.Before(t.expiresAt)
}

// hasRole tells whether the token carries one of roles.
func (t *tokenInfo) hasRole(roles []string) bool {
	for _, want := range roles {
		for _, have := range t.roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// credentials fills the user's fields of policy credentials.
func (t *tokenInfo) credentials() policy.Credentials {
	c := policy.Credentials{
		UserID: t.userID, UserDomainID: t.userDomainID,
		ProjectID: t.projectID, ProjectDomainID: t.projectDomainID,
		DomainID:       t.domainID,
		Roles:          append([]string(nil), t.roles...),
		IsAdminProject: t.isAdminProject,
	}
	if t.systemAll {
		c.SystemScope = "all"
	}
	return c
}

// allows checks a restricted token's access rules against a request, as
// keystonemiddleware does: the service type must be known and in the
// token's catalog; a request that comes with a service token is part of a
// chain of service calls and passes; else one rule must match the method,
// the service type and the path.
func (t *tokenInfo) allows(serviceType, method, path string, withServiceToken bool) bool {
	if !t.restricted {
		return true
	}
	if serviceType == "" {
		return false
	}
	inCatalog := false
	for _, typ := range t.catalogTypes {
		inCatalog = inCatalog || typ == serviceType
	}
	if !inCatalog {
		return false
	}
	if withServiceToken {
		return true
	}
	for _, rule := range t.accessRules {
		if rule.Method == method && rule.Service == serviceType && pathMatches(path, rule.Path) {
			return true
		}
	}
	return false
}

// pathPattern reads an access rule's path template: {tag} and * match one
// path segment, ** any run of characters, anything else itself.
var pathPattern = regexp.MustCompile(`\{[^}]*\}|\*\*|\*|[^{}*]+`)

// pathMatches tells whether path matches an access rule's template.
func pathMatches(path, template string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, tok := range pathPattern.FindAllString(template, -1) {
		switch {
		case tok == "**":
			re.WriteString(".*")
		case tok == "*" || strings.HasPrefix(tok, "{"):
			re.WriteString("[^/]+")
		default:
			re.WriteString(regexp.QuoteMeta(tok))
		}
	}
	re.WriteString("$")
	ok, err := regexp.MatchString(re.String(), path)
	return err == nil && ok
}
