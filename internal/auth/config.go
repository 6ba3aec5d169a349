package auth

import "time"

// Strategies of authentication, as Placement's [api] auth_strategy and
// Ironic's [DEFAULT] auth_strategy name them.
const (
	// NoAuth trusts every caller and enforces no policy (Ironic's noauth).
	NoAuth = "noauth"
	// NoAuth2 reads the identity from request headers (Placement's
	// noauth2: X-Auth-Token, X-Roles, X-Project-Id, X-User-Id,
	// OpenStack-System-Scope) and enforces policy. For development and
	// tests only.
	NoAuth2 = "noauth2"
	// Keystone validates X-Auth-Token against Keystone's v3 API.
	Keystone = "keystone"
)

// KeystoneConfig is keystonemiddleware's [keystone_authtoken] section, for
// password authentication of allot's own service user.
type KeystoneConfig struct {
	// AuthURL is Keystone's endpoint that allot authenticates against.
	AuthURL string
	// WWWAuthenticateURI is the Keystone endpoint named to clients in the
	// WWW-Authenticate header of a 401 (default AuthURL).
	WWWAuthenticateURI string
	Username           string
	Password           string
	ProjectName        string
	UserDomainName     string
	ProjectDomainName  string
	UserDomainID       string
	ProjectDomainID    string
	// CAFile verifies Keystone's TLS certificate; Insecure skips it.
	CAFile   string
	Insecure bool
	// RegionName is unused by allot but accepted.
	RegionName string
	// TokenCacheTime is how long a validated token is trusted without
	// asking Keystone again (never past its expiry; default 300 s,
	// negative turns the cache off).
	TokenCacheTime time.Duration
	// ServiceTokenRoles are the roles a service token must carry to be
	// honoured (default ["service"]); ServiceTokenRolesRequired refuses a
	// service token without them instead of only logging.
	ServiceTokenRoles         []string
	ServiceTokenRolesRequired bool
	// Timeout bounds each call to Keystone (default 10 s).
	Timeout time.Duration
}
