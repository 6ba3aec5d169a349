package placementapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"allot/internal/api"
	"allot/internal/auth"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/policy"
)

// MinVersion and MaxVersion bound the Placement microversions served.
var (
	MinVersion = model.V(1, 0)
	MaxVersion = model.V(1, 39)
)

// Options configure the Placement API.
type Options struct {
	Logger *slog.Logger
	// PublicURL, when set, is the externally visible base URL (it may carry
	// a path prefix) used for links and Location headers.
	PublicURL string
	// Auth identifies callers (default: noauth2's headers).
	Auth api.Authenticator
	// Challenge is the WWW-Authenticate header of a 401 (keystone).
	Challenge string
	// Policy decides each route's rule (default: PolicyDefaults with
	// oslo.policy's default options).
	Policy *policy.Enforcer
	// TrustedProxies are the peers whose X-Forwarded-Proto,
	// X-Forwarded-Host and Forwarded headers build Location headers when
	// PublicURL is not set (none: those headers are ignored).
	TrustedProxies api.TrustedProxies
	// SignIn, when set (keystone mode), serves POST /allot/v1/tokens:
	// password sign-ins forwarded to Keystone. Without it that path is a
	// 404 that says why.
	SignIn SignInFunc
}

// handlers holds what every handler needs.
type handlers struct {
	svc       *placement.Service
	publicURL string
	prefix    string // path prefix of PublicURL, for relative links
	origin    api.Origin
	memo      *summaryMemo // rendered provider summaries
	// signInFunc makes the sign-ins of POST /allot/v1/tokens (nil: not
	// in keystone mode).
	signInFunc SignInFunc
}

// New returns the Placement API as an api.Service.
func New(svc *placement.Service, opts Options) *api.Service {
	if opts.Auth == nil {
		opts.Auth = auth.NoAuth2Credentials
	}
	if opts.Policy == nil {
		opts.Policy = DefaultPolicy()
	}
	h := &handlers{svc: svc, publicURL: strings.TrimSuffix(opts.PublicURL, "/"), memo: newSummaryMemo(), signInFunc: opts.SignIn}
	h.origin = api.Origin{Public: h.publicURL, Proxies: opts.TrustedProxies}
	if h.publicURL != "" {
		if i := strings.Index(h.publicURL, "://"); i >= 0 {
			rest := h.publicURL[i+3:]
			if j := strings.Index(rest, "/"); j >= 0 {
				h.prefix = rest[j:]
			}
		}
	}
	return &api.Service{
		Name: "placement",
		Versions: api.Versions{
			Service: "placement", Min: MinVersion, Max: MaxVersion, Default: MinVersion,
			Echo: func(hd http.Header, v model.Version) {
				hd.Set("Openstack-Api-Version", "placement "+v.String())
				hd.Set("Vary", "openstack-api-version")
			},
		},
		Errors:    api.PlacementErrors{MinVersion: MinVersion, MaxVersion: MaxVersion},
		Auth:      opts.Auth,
		Challenge: opts.Challenge,
		Policy:    opts.Policy,
		Denied:    deniedMessage,
		Routes:    h.routes(),
		Logger:    opts.Logger,
		Before:    contentLengthRule,
	}
}

// DefaultPolicy is an enforcer of PolicyDefaults with oslo.policy's
// default options (legacy rules honoured, scope not enforced).
func DefaultPolicy() *policy.Enforcer {
	enf, err := policy.New(PolicyDefaults(), policy.Options{})
	if err != nil {
		panic(fmt.Sprintf("placement's default policy does not load: %v", err)) // a bug, caught by the tests
	}
	return enf
}

// contentLengthRule: a body needs a content type, and Content-Length must
// be an integer (Placement checks both before routing).
func contentLengthRule(r *http.Request) error {
	cl := r.Header.Get("Content-Length")
	if cl == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
	if err != nil {
		return model.BadRequest("content-length header must be an integer")
	}
	if n > 0 && r.Header.Get("Content-Type") == "" {
		return model.BadRequest("content-type header required when content-length > 0")
	}
	return nil
}

// link is a path under the API root (relative, with the public prefix).
func (h *handlers) link(path string) string { return h.prefix + path }

// location is an absolute URL for a Location header: under the public URL
// when one is set, else from the request as api.Origin rules.
func (h *handlers) location(r *http.Request, path string) string {
	return h.origin.Base(r) + path
}

// at reports whether the request's microversion is at least major.minor.
func at(r *http.Request, major, minor int) bool {
	return api.VersionOf(r).AtLeast(model.V(major, minor))
}

// readJSON applies Placement's order for writes: a JSON content type
// (415), then policy (403), then the body is read.
func readJSON(r *http.Request) ([]byte, error) {
	if err := api.RequireJSON(r); err != nil {
		return nil, err
	}
	if err := api.Authorize(r, nil); err != nil {
		return nil, err
	}
	return api.ReadBody(r)
}

// forRead applies Placement's order for reads: Accept (406), then policy.
func forRead(r *http.Request) error {
	if err := api.CheckAccept(r); err != nil {
		return err
	}
	return api.Authorize(r, nil)
}
