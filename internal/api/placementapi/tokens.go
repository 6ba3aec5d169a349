package placementapi

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"allot/internal/api"
	"allot/internal/auth"
	"allot/internal/model"
)

// POST /allot/v1/tokens signs a user in with a password (docs/api.md,
// "allot extensions"): allot forwards the authentication to the Keystone
// it validates tokens against and answers the token Keystone issued. It is
// for clients that cannot call Keystone themselves: the web console, whose
// page may only talk to its own origin. It needs no token and names no
// policy rule (it grants nothing Keystone does not); it is served only
// when the Placement API's auth strategy is keystone.

// SignInFunc makes a password sign-in (auth.KeystoneAuth.SignIn).
type SignInFunc func(context.Context, auth.PasswordSignIn) (auth.IssuedToken, error)

// signInSchema is the body of POST /allot/v1/tokens. The names are the
// OpenStack clients' options (--os-username, --os-project-name,
// --os-system-scope, ...); the lengths are Keystone's own limits.
var signInSchema = api.MustSchema(`{"type": "object", "properties": {
	"username": {"type": "string", "minLength": 1, "maxLength": 255},
	"password": {"type": "string", "minLength": 1, "maxLength": 4096},
	"user_domain_name": {"type": "string", "minLength": 1, "maxLength": 64},
	"project_name": {"type": "string", "minLength": 1, "maxLength": 64},
	"project_domain_name": {"type": "string", "minLength": 1, "maxLength": 64},
	"system_scope": {"type": "string", "enum": ["all"]}},
	"required": ["username", "password"], "additionalProperties": false}`)

// signInBody is the decoded body of POST /allot/v1/tokens.
type signInBody struct {
	Username          string `json:"username"`
	Password          string `json:"password"`
	UserDomainName    string `json:"user_domain_name"`
	ProjectName       string `json:"project_name"`
	ProjectDomainName string `json:"project_domain_name"`
	SystemScope       string `json:"system_scope"`
}

// signInAnswer is the answer of POST /allot/v1/tokens.
type signInAnswer struct {
	Token signInToken `json:"token"`
}

type signInToken struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	UserID    string    `json:"user_id"`
	ProjectID string    `json:"project_id,omitempty"`
	System    bool      `json:"system"`
	Roles     []string  `json:"roles"`
}

// tokenRoutes is the route table of the sign-in.
func (h *handlers) tokenRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Pattern: ExtensionPrefix + "/tokens", Public: true, Handler: h.signIn},
	}
}

// ParseSignIn reads the body of POST /allot/v1/tokens. Errors are 400s
// that say what to send; none repeats the password.
func ParseSignIn(body []byte) (auth.PasswordSignIn, error) {
	var b signInBody
	v, err := api.DecodeBody(body, nil, &b)
	if err != nil {
		return auth.PasswordSignIn{}, err
	}
	// The schema's messages quote the body: they see the password as
	// stars of its length (a limit on its length still applies).
	if m, ok := v.(map[string]any); ok {
		if pw, ok := m["password"].(string); ok {
			shown := maps.Clone(m)
			shown["password"] = strings.Repeat("*", utf8.RuneCountInString(pw))
			v = shown
		}
	}
	if msg := signInSchema.Validate(v); msg != "" {
		return auth.PasswordSignIn{}, model.BadRequest("JSON does not validate: %s", msg)
	}
	in := auth.PasswordSignIn{Username: b.Username, UserDomain: b.UserDomainName, Password: b.Password,
		Project: b.ProjectName, ProjectDomain: b.ProjectDomainName, System: b.SystemScope == "all"}
	switch {
	case in.System && in.Project != "":
		return in, model.BadRequest("Give project_name (a project-scoped token) or system_scope \"all\" (a system-scoped one), not both.")
	case !in.System && in.Project == "":
		return in, model.BadRequest("Give project_name (a project-scoped token) or system_scope \"all\" (a system-scoped one): the APIs need a scoped token.")
	case in.System && b.ProjectDomainName != "":
		return in, model.BadRequest("project_domain_name names the domain of project_name; a system-scoped sign-in has no project.")
	}
	return in, nil
}

func (h *handlers) signIn(w http.ResponseWriter, r *http.Request) error {
	if h.signInFunc == nil {
		return model.NotFound("%s/tokens signs in with a Keystone password, and this server does not use Keystone (its auth strategy is noauth2: send X-Auth-Token: admin, or run allot serve with --auth-strategy keystone).", ExtensionPrefix)
	}
	if err := api.CheckAccept(r); err != nil {
		return err
	}
	if err := api.RequireJSON(r); err != nil {
		return err
	}
	if r.URL.RawQuery != "" {
		return model.BadRequest("%s/tokens takes no query parameters.", ExtensionPrefix)
	}
	body, err := api.ReadBody(r)
	if err != nil {
		return err
	}
	in, err := ParseSignIn(body)
	if err != nil {
		return err
	}
	tok, err := h.signInFunc(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusCreated, signInAnswer{Token: signInToken{ID: tok.ID, ExpiresAt: tok.ExpiresAt.UTC(),
		UserID: tok.UserID, ProjectID: tok.ProjectID, System: tok.System, Roles: tok.Roles}})
}
