package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"golang.org/x/sync/singleflight"

	"allot/internal/model"
	"allot/internal/policy"
)

// Defaults of the keystone strategy.
const (
	// DefaultTokenCacheTime is keystonemiddleware's token_cache_time.
	DefaultTokenCacheTime = 300 * time.Second
	// NegativeCacheTime bounds how long a token Keystone refused is
	// refused without asking again (keystonemiddleware keeps it the whole
	// token_cache_time; allot keeps it shorter so that a token refused
	// by a Keystone node that had not yet received a new signing key is
	// not refused for minutes).
	NegativeCacheTime = 30 * time.Second
	// DefaultKeystoneTimeout bounds each call to Keystone.
	DefaultKeystoneTimeout = 10 * time.Second
	// DefaultTokenCacheEntries bounds the token cache (least recently used
	// out first).
	DefaultTokenCacheEntries = 10000
)

// unauthorizedMessage is keystonemiddleware's message for every refused
// token.
const unauthorizedMessage = "The request you have made requires authentication."

// identityHeaders are the headers keystonemiddleware sets from a validated
// token, and therefore removes from every request first: a client cannot
// name its own identity. OpenStack-System-Scope and X-Service-Catalog are
// removed too.
var identityHeaders = func() []string {
	h := []string{
		"X-Identity-Status", "X-Service-Identity-Status", "X-Is-Admin-Project",
		"X-Service-Catalog", "OpenStack-System-Scope",
		// deprecated names
		"X-Role", "X-User", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant",
	}
	for _, prefix := range []string{"X-", "X-Service-"} {
		for _, name := range []string{"Domain-Id", "Domain-Name", "Project-Id", "Project-Name",
			"Project-Domain-Id", "Project-Domain-Name", "User-Id", "User-Name",
			"User-Domain-Id", "User-Domain-Name", "Roles"} {
			h = append(h, prefix+name)
		}
	}
	for i := range h {
		h[i] = http.CanonicalHeaderKey(h[i])
	}
	return h
}()

// StripIdentityHeaders removes from h every header that names an identity
// (X-Roles, X-User-Id, X-Project-Id, X-Tenant-Id, X-Domain-Id, the
// X-Service-* ones, X-Identity-Status, X-Is-Admin-Project,
// OpenStack-System-Scope, ...). Authenticate calls it; a server in keystone
// mode also calls it on the requests it does not authenticate (GET /), so
// that no handler ever sees a client-sent identity.
func StripIdentityHeaders(h http.Header) {
	for _, name := range identityHeaders {
		delete(h, name)
	}
}

// KeystoneAuth authenticates requests by validating their tokens with
// Keystone's v3 API, as keystonemiddleware's auth_token does: allot logs in
// as its own service user (password authentication, again whenever its
// token expires), validates X-Auth-Token (and X-Service-Token) with
// GET /v3/auth/tokens and caches the answers. It is safe for concurrent use;
// one KeystoneAuth (one cache) serves both APIs.
type KeystoneAuth struct {
	cfg       KeystoneConfig
	logger    *slog.Logger
	authURL   string
	challenge string

	provider *gophercloud.ProviderClient
	authOpts gophercloud.AuthOptions
	authMu   sync.Mutex
	// identity is the v3 client of the authenticated provider, nil until
	// allot's first successful login.
	identity atomic.Pointer[gophercloud.ServiceClient]
	// signIn is the identity client of users' sign-ins (SignIn): no
	// token of its own, and so no re-authentication on a refusal.
	signIn *gophercloud.ServiceClient

	cache       *tokenCache // nil when caching is off
	cacheTime   time.Duration
	flight      singleflight.Group
	validations atomic.Int64
	warned      atomic.Bool

	now func() time.Time
}

// NewKeystone checks cfg and returns the authenticator. It does not contact
// Keystone: allot logs in at the first request that needs it, so that allot
// starts while Keystone is down (its requests are then 503s).
func NewKeystone(cfg KeystoneConfig, logger *slog.Logger) (*KeystoneAuth, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthURL == "" {
		return nil, errors.New("[keystone_authtoken] auth_url is required by auth_strategy keystone")
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("[keystone_authtoken] username and password (allot's service user) are required by auth_strategy keystone")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultKeystoneTimeout
	}
	if cfg.ServiceTokenRoles == nil {
		cfg.ServiceTokenRoles = []string{"service"}
	}
	provider, err := openstack.NewClient(cfg.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("[keystone_authtoken] auth_url %q: %w", cfg.AuthURL, err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CAFile != "" || cfg.Insecure {
		tc := &tls.Config{InsecureSkipVerify: cfg.Insecure}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("[keystone_authtoken] cafile: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("[keystone_authtoken] cafile %s: no PEM certificate in it", cfg.CAFile)
			}
		}
		transport.TLSClientConfig = tc
	}
	provider.HTTPClient = http.Client{Transport: transport, Timeout: cfg.Timeout}
	provider.UserAgent.Prepend("allot-keystone-auth")

	signInProvider, err := openstack.NewClient(cfg.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("[keystone_authtoken] auth_url %q: %w", cfg.AuthURL, err)
	}
	signInProvider.HTTPClient = provider.HTTPClient
	signInProvider.UserAgent.Prepend("allot-console-sign-in")
	signIn, err := openstack.NewIdentityV3(signInProvider, gophercloud.EndpointOpts{})
	if err != nil {
		return nil, fmt.Errorf("[keystone_authtoken] auth_url %q: %w", cfg.AuthURL, err)
	}

	k := &KeystoneAuth{cfg: cfg, logger: logger, authURL: cfg.AuthURL, provider: provider, signIn: signIn, now: time.Now}
	uri := cfg.WWWAuthenticateURI
	if uri == "" {
		uri = cfg.AuthURL
	}
	k.challenge = fmt.Sprintf("Keystone uri=%q", uri)

	k.authOpts = gophercloud.AuthOptions{
		IdentityEndpoint: cfg.AuthURL,
		Username:         cfg.Username,
		Password:         cfg.Password,
		DomainName:       cfg.UserDomainName,
		DomainID:         cfg.UserDomainID,
		AllowReauth:      true,
	}
	if k.authOpts.DomainName == "" && k.authOpts.DomainID == "" {
		k.authOpts.DomainID = "default"
	}
	if cfg.ProjectName != "" {
		scope := &gophercloud.AuthScope{ProjectName: cfg.ProjectName, DomainName: cfg.ProjectDomainName, DomainID: cfg.ProjectDomainID}
		if scope.DomainName == "" && scope.DomainID == "" {
			scope.DomainID = "default"
		}
		k.authOpts.Scope = scope
	}

	switch {
	case cfg.TokenCacheTime < 0:
		k.cacheTime = -1
	case cfg.TokenCacheTime == 0:
		k.cacheTime = DefaultTokenCacheTime
	default:
		k.cacheTime = cfg.TokenCacheTime
	}
	if k.cacheTime > 0 {
		k.cache = newTokenCache(DefaultTokenCacheEntries)
	}
	if !cfg.ServiceTokenRolesRequired {
		logger.Warn("keystone: service_token_roles_required is false: a valid service token without one of service_token_roles is still honoured (keystonemiddleware's deprecated default); set it to true")
	}
	return k, nil
}

// Challenge is the WWW-Authenticate header of a 401:
// Keystone uri="<www_authenticate_uri, else auth_url>".
func (k *KeystoneAuth) Challenge() string { return k.challenge }

// Validations counts the token validations allot asked Keystone for (cache
// misses, one per token however many requests wait for it).
func (k *KeystoneAuth) Validations() int64 { return k.validations.Load() }

// Authenticate returns the identity of r's token, for an API whose service
// type is not known (a token restricted by an application credential's
// access rules is then refused, as keystonemiddleware refuses it without
// service_type). Servers use ForService.
func (k *KeystoneAuth) Authenticate(r *http.Request) (policy.Credentials, error) {
	return k.authenticate(r, "")
}

// ForService returns the authenticator of the API of the given service type
// ("placement", "baremetal"): Authenticate, with the access rules of
// restricted application credentials checked against that service.
func (k *KeystoneAuth) ForService(serviceType string) func(*http.Request) (policy.Credentials, error) {
	return func(r *http.Request) (policy.Credentials, error) { return k.authenticate(r, serviceType) }
}

// authenticate is keystonemiddleware's process_request: strip the identity
// headers, validate the service token (if any) and the user token, and
// return the user's identity with the service token's.
//
// A refused token is a KindUnauthorized error. Keystone unreachable,
// failing, or refusing allot's own credentials is a KindUnavailable error
// and nothing is let through, except what the cache already knows: a token
// validated before (and not expired) still passes, as with
// keystonemiddleware, whose cache answers without Keystone.
func (k *KeystoneAuth) authenticate(r *http.Request, serviceType string) (policy.Credentials, error) {
	StripIdentityHeaders(r.Header)
	userToken := strings.TrimSpace(r.Header.Get("X-Auth-Token"))
	if userToken == "" {
		userToken = strings.TrimSpace(r.Header.Get("X-Storage-Token"))
	}
	serviceToken := strings.TrimSpace(r.Header.Get("X-Service-Token"))
	ctx := r.Context()

	var service *tokenInfo
	allowExpired := false
	if serviceToken != "" {
		info, err := k.fetch(ctx, serviceToken, false)
		if err != nil {
			return policy.Credentials{}, err
		}
		if info.invalid || info.expired(k.now()) || !info.allows(serviceType, r.Method, r.URL.Path, true) {
			k.logger.Info("keystone: invalid service token", "token", keyOf(serviceToken).short())
			return policy.Credentials{}, unauthorized()
		}
		roleOK := info.hasRole(k.cfg.ServiceTokenRoles)
		if !roleOK {
			if k.cfg.ServiceTokenRolesRequired {
				k.logger.Info("keystone: service token refused: it has none of service_token_roles",
					"token", keyOf(serviceToken).short(), "service_token_roles", k.cfg.ServiceTokenRoles)
				return policy.Credentials{}, unauthorized()
			}
			if !k.warned.Swap(true) {
				k.logger.Warn("keystone: a valid token without any of service_token_roles was sent as a service token; it is honoured because service_token_roles_required is false (this warning is logged once)",
					"service_token_roles", k.cfg.ServiceTokenRoles)
			}
		}
		service = info
		// Only a service token that passes the role check lets an expired
		// user token through (for long-running operations that a service
		// continues on a user's behalf).
		allowExpired = roleOK
	}

	if userToken == "" {
		return policy.Credentials{}, unauthorized()
	}
	info, err := k.fetch(ctx, userToken, allowExpired)
	if err != nil {
		return policy.Credentials{}, err
	}
	if info.invalid || (!allowExpired && info.expired(k.now())) {
		return policy.Credentials{}, unauthorized()
	}
	if !info.allows(serviceType, r.Method, r.URL.Path, serviceToken != "") {
		k.logger.Info("keystone: token refused by its application credential's access rules",
			"token", keyOf(userToken).short(), "service_type", serviceType, "method", r.Method, "path", r.URL.Path)
		return policy.Credentials{}, unauthorized()
	}
	c := info.credentials()
	if service != nil {
		c.ServiceUserID, c.ServiceUserDomainID = service.userID, service.userDomainID
		c.ServiceProjectID, c.ServiceProjectDomainID = service.projectID, service.projectDomainID
		c.ServiceRoles = append([]string(nil), service.roles...)
	}
	return c, nil
}

func unauthorized() error {
	return model.Errorf(model.KindUnauthorized, unauthorizedMessage)
}

// fetch returns the validation of token: from the cache, or from Keystone
// (one validation however many requests ask for the same token at once).
// The error is a KindUnavailable one: Keystone could not answer.
func (k *KeystoneAuth) fetch(ctx context.Context, token string, allowExpired bool) (*tokenInfo, error) {
	key := keyOf(token)
	if k.cache != nil {
		// A refusal remembered from a validation without allow_expired
		// does not answer one with it.
		if info, ok := k.cache.get(key, k.now()); ok && !(allowExpired && info.invalid) {
			return info, nil
		}
	}
	if !validTokenText(token) {
		return invalidToken, nil
	}
	flightKey := string(key[:])
	if allowExpired {
		flightKey += "+expired"
	}
	v, err, _ := k.flight.Do(flightKey, func() (any, error) {
		if k.cache != nil {
			if info, ok := k.cache.get(key, k.now()); ok && !(allowExpired && info.invalid) {
				return info, nil
			}
		}
		// The validation outlives a caller that goes away: others may
		// wait for it.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.cfg.Timeout)
		defer cancel()
		info, err := k.validate(vctx, token, key, allowExpired)
		if err != nil {
			return nil, err
		}
		k.remember(key, info)
		return info, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*tokenInfo), nil
}

// remember caches a validation: a valid token for the cache time but never
// past its expiry, a refused one for at most NegativeCacheTime.
func (k *KeystoneAuth) remember(key tokenKey, info *tokenInfo) {
	if k.cache == nil {
		return
	}
	now := k.now()
	until := now.Add(k.cacheTime)
	if info.invalid {
		until = now.Add(min(k.cacheTime, NegativeCacheTime))
	} else if !info.expiresAt.IsZero() && info.expiresAt.Before(until) {
		until = info.expiresAt
	}
	if until.After(now) {
		k.cache.put(key, info, until)
	}
}

// validTokenText tells whether a token can be sent to Keystone in a header
// at all (a token with control characters is refused without asking).
func validTokenText(token string) bool {
	for i := 0; i < len(token); i++ {
		if c := token[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validate asks Keystone about token with GET /v3/auth/tokens.
func (k *KeystoneAuth) validate(ctx context.Context, token string, key tokenKey, allowExpired bool) (*tokenInfo, error) {
	k.validations.Add(1)
	start := time.Now()
	client, err := k.login(ctx)
	if err != nil {
		return nil, err
	}
	url := client.ServiceURL("auth", "tokens")
	if allowExpired {
		url += "?allow_expired=1"
	}
	var body struct {
		Token tokenBody `json:"token"`
	}
	_, err = client.Get(ctx, url, &body, &gophercloud.RequestOpts{
		MoreHeaders: map[string]string{"X-Subject-Token": token},
		OkCodes:     []int{http.StatusOK, http.StatusNonAuthoritativeInfo},
	})
	switch {
	case err == nil:
		info := newTokenInfo(&body.Token)
		k.logger.Debug("keystone: token validated", "token", key.short(), "user", info.userID,
			"project", info.projectID, "system", info.systemAll, "expires", info.expiresAt, "took", time.Since(start))
		return info, nil
	case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
		k.logger.Debug("keystone: token refused by Keystone", "token", key.short(), "took", time.Since(start))
		return invalidToken, nil
	}
	return nil, k.unavailable("validate a token", err)
}

// login returns the identity client, logging allot in first if it has not
// yet (gophercloud logs in again by itself when the token expires: Keystone
// then answers 401 and the request is retried once with a new token).
func (k *KeystoneAuth) login(ctx context.Context) (*gophercloud.ServiceClient, error) {
	if c := k.identity.Load(); c != nil {
		return c, nil
	}
	k.authMu.Lock()
	defer k.authMu.Unlock()
	if c := k.identity.Load(); c != nil {
		return c, nil
	}
	opts := k.authOpts
	if err := openstack.AuthenticateV3(ctx, k.provider, &opts, gophercloud.EndpointOpts{}); err != nil {
		return nil, k.unavailable("log in as its service user", err)
	}
	client, err := openstack.NewIdentityV3(k.provider, gophercloud.EndpointOpts{})
	if err != nil {
		return nil, k.unavailable("log in as its service user", err)
	}
	k.logger.Info("keystone: allot logged in", "auth_url", k.authURL, "user", k.cfg.Username, "project", k.cfg.ProjectName)
	k.identity.Store(client)
	return client, nil
}

// unavailable turns a failed call to Keystone into the 503 the client gets
// (and logs the cause): refused credentials (Keystone answered 401 or 403
// to allot's own token or login), or Keystone unreachable (no answer, a
// timeout, a 5xx or any other unexpected answer).
func (k *KeystoneAuth) unavailable(what string, err error) error {
	refused := false
	var reauth *gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &reauth) {
		// Keystone answered 401 to allot's token and logging in again failed.
		refused = isCredentialsRefusal(reauth.ErrReauth)
		err = reauth.ErrReauth
	} else {
		var after *gophercloud.ErrErrorAfterReauthentication
		refused = errors.As(err, &after) && gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) ||
			isCredentialsRefusal(err)
	}
	if refused {
		k.logger.Error("keystone: Keystone refused allot's service credentials", "auth_url", k.authURL,
			"user", k.cfg.Username, "project", k.cfg.ProjectName, "while", what, "error", err)
		return model.Errorf(model.KindUnavailable,
			"Keystone at %s refused allot's service credentials (user %s): tokens cannot be validated. Check [keystone_authtoken] and the user's roles (admin or service).",
			k.authURL, k.cfg.Username)
	}
	detail := "no answer"
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		detail = fmt.Sprintf("it answered HTTP %d", code.Actual)
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		detail = "no answer within " + k.cfg.Timeout.String()
	}
	k.logger.Error("keystone: Keystone is unreachable", "auth_url", k.authURL, "while", what, "error", err)
	return model.Errorf(model.KindUnavailable,
		"Keystone at %s is unreachable (%s): tokens cannot be validated. Try again later.", k.authURL, detail)
}

// isCredentialsRefusal tells whether err is Keystone refusing allot's own
// credentials: 401 to its login or token, 403 when its user may not
// validate tokens.
func isCredentialsRefusal(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) || gophercloud.ResponseCodeIs(err, http.StatusForbidden)
}
