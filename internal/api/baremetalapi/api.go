package baremetalapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"allot/internal/api"
	"allot/internal/baremetal"
	"allot/internal/model"
	"allot/internal/policy"
)

// MinVersion and MaxVersion bound the Bare Metal microversions served: up
// to 1.79 every node field and verb of those versions is implemented.
var (
	MinVersion = model.V(1, 1)
	MaxVersion = model.V(1, 79)
)

// Options configure the API.
type Options struct {
	Logger *slog.Logger
	// PublicURL is the externally visible base URL for links, when set.
	PublicURL string
	// Auth identifies callers; nil is Ironic's noauth (every caller
	// trusted, no policy).
	Auth api.Authenticator
	// Challenge is the WWW-Authenticate header of a 401 (keystone).
	Challenge string
	// Policy decides each route's rule when Auth is set (default:
	// PolicyDefaults with oslo.policy's default options).
	Policy *policy.Enforcer
	// TrustedProxies are the peers whose X-Forwarded-Proto,
	// X-Forwarded-Host and Forwarded headers build links when PublicURL
	// is not set (none: those headers are ignored).
	TrustedProxies api.TrustedProxies
}

type handlers struct {
	svc *baremetal.Service
	// origin builds links: the public URL, or the request's as api.Origin
	// rules.
	origin api.Origin
	// legacy is on while the policy's deprecated rules are in force
	// (enforce_new_defaults off), which changes how Ironic gives an
	// allocation its owner.
	legacy bool
}

// New returns the Bare Metal API as an api.Service.
func New(svc *baremetal.Service, opts Options) *api.Service {
	if opts.Auth != nil && opts.Policy == nil {
		opts.Policy = DefaultPolicy()
	}
	h := &handlers{svc: svc, origin: api.Origin{Public: strings.TrimSuffix(opts.PublicURL, "/"), Proxies: opts.TrustedProxies}}
	if opts.Auth != nil {
		h.legacy = !opts.Policy.Options().EnforceNewDefaults
	}
	rangeText := fmt.Sprintf("[%s, %s]", MinVersion, MaxVersion)
	return &api.Service{
		Name: "baremetal",
		Versions: api.Versions{
			Service: "baremetal", LegacyHeader: "X-OpenStack-Ironic-API-Version",
			Min: MinVersion, Max: MaxVersion, Default: MinVersion,
			Echo: func(hd http.Header, v model.Version) {
				hd.Set("X-Openstack-Ironic-Api-Version", v.String())
				hd.Set("Openstack-Api-Version", "baremetal "+v.String())
				hd.Set("Vary", "X-OpenStack-Ironic-API-Version")
			},
			Reject: func(raw string, malformed bool) (int, string) {
				if malformed {
					return http.StatusNotAcceptable, "Invalid value for X-OpenStack-Ironic-API-Version header"
				}
				v, _ := model.ParseVersion(raw)
				if v.Major != 1 {
					return http.StatusNotAcceptable, fmt.Sprintf("Mutually exclusive versions requested. Version %s requested but not supported by this service. The supported version range is: %s.", raw, rangeText)
				}
				return http.StatusNotAcceptable, fmt.Sprintf("Version %s was requested but the minor version is not supported by this service. The supported version range is: %s.", raw, rangeText)
			},
		},
		Headers: func(hd http.Header) {
			hd.Set("X-Openstack-Ironic-Api-Minimum-Version", MinVersion.String())
			hd.Set("X-Openstack-Ironic-Api-Maximum-Version", MaxVersion.String())
		},
		Errors: api.IronicErrors{},
		// python-ironicclient lists with /v1/nodes/?..., which Ironic accepts.
		IgnoreTrailingSlash: true,
		// Ironic's own header, and the one OpenStack clients log.
		RequestIDHeaders: []string{"Openstack-Request-Id", "X-Openstack-Request-Id"},
		Routes:           h.routes(),
		Logger:           opts.Logger,
		Auth:             opts.Auth,
		Challenge:        opts.Challenge,
		Policy:           opts.Policy,
		Denied:           deniedMessage,
	}
}

// at reports whether the request's version is at least 1.minor.
func at(r *http.Request, minor int) bool { return api.VersionOf(r).AtLeast(model.V(1, minor)) }

// base is the scheme and host (or public URL) for links.
func (h *handlers) base(r *http.Request) string { return h.origin.Base(r) }

// links are Ironic's self and bookmark links of a resource.
func (h *handlers) links(r *http.Request, kind, id string) []any {
	b := h.base(r)
	return []any{
		map[string]string{"href": b + "/v1/" + kind + "/" + id, "rel": "self"},
		map[string]string{"href": b + "/" + kind + "/" + id, "rel": "bookmark"},
	}
}

// timestamp formats a time as Ironic does (ISO 8601 with +00:00).
func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// readBody reads a JSON body and, when s is not nil, checks it against s
// with Ironic's wording ("Schema error for what: ..."). Anything that is not
// JSON is a 400 that says so. It returns the decoded value and the bytes.
func readBody(r *http.Request, s *api.Schema, what string) (any, []byte, error) {
	body, err := api.ReadBody(r)
	if err != nil {
		return nil, nil, err
	}
	v, err := api.DecodeBody(body, nil, nil)
	if err != nil {
		var be *api.BodyError
		if errors.As(err, &be) {
			return nil, nil, model.BadRequest("Schema error for %s: %s", what, be.Msg)
		}
		e, _ := model.AsError(err)
		return nil, nil, model.BadRequest("The request body is not valid JSON: %s", strings.TrimPrefix(e.Message, "Malformed JSON: "))
	}
	if s != nil {
		if msg := s.ValidateShort(v); msg != "" {
			return nil, nil, model.BadRequest("Schema error for %s: %s", what, msg)
		}
	}
	return v, body, nil
}

// jsonObject is a request body object, with accessors for optional members
// whose types the schema has already checked.
type jsonObject map[string]any

// readObject is readBody for bodies whose schema requires an object (or,
// without a schema, any body: a non-object reads as empty).
func readObject(r *http.Request, s *api.Schema, what string) (jsonObject, error) {
	v, _, err := readBody(r, s, what)
	m, _ := v.(map[string]any)
	return m, err
}

// str is a string member, nil when absent or null.
func (o jsonObject) str(k string) *string {
	if s, ok := o[k].(string); ok {
		return &s
	}
	return nil
}

// strings is a list-of-strings member, nil when absent or null.
func (o jsonObject) strings(k string) []string {
	l, _ := o[k].([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// object is an object member, nil when absent or null.
func (o jsonObject) object(k string) map[string]any {
	m, _ := o[k].(map[string]any)
	return m
}

// notAcceptable is Ironic's answer to a field newer than the request's version.
func notAcceptable() error {
	return api.Gate(model.KindNotAcceptable, "Request not acceptable.")
}
