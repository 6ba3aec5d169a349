package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// KeystoneAuth is password authentication with Keystone v3, as the
// OpenStack client's OS_AUTH_URL, OS_USERNAME, ... settings describe it.
type KeystoneAuth struct {
	// AuthType is "password" (or v3password), or empty; the CLI refuses
	// others.
	AuthType          string
	AuthURL           string
	Username          string
	UserID            string
	Password          string
	UserDomainName    string
	UserDomainID      string
	ProjectName       string
	ProjectID         string
	ProjectDomainName string
	ProjectDomainID   string
	// SystemScope "all" asks for a system-scoped token instead of a
	// project-scoped one.
	SystemScope string
	// RegionName and Interface (public, internal, admin) choose catalog
	// endpoints.
	RegionName string
	Interface  string
}

// Session is a Keystone token and the service catalog that came with it.
type Session struct {
	Token    string
	provider *gophercloud.ProviderClient
	eo       gophercloud.EndpointOpts
}

// Login authenticates with Keystone. Domains default to "default", as the
// OpenStack client's do when neither a name nor an ID is given.
func Login(ctx context.Context, a KeystoneAuth) (*Session, error) {
	opts := gophercloud.AuthOptions{
		IdentityEndpoint: a.AuthURL,
		Username:         a.Username,
		UserID:           a.UserID,
		Password:         a.Password,
		DomainName:       a.UserDomainName,
		DomainID:         a.UserDomainID,
	}
	if opts.UserID == "" && opts.DomainName == "" && opts.DomainID == "" {
		opts.DomainID = "default"
	}
	switch {
	case strings.EqualFold(a.SystemScope, "all"):
		opts.Scope = &gophercloud.AuthScope{System: true}
	case a.SystemScope != "":
		return nil, fmt.Errorf("system scope %q: only \"all\" exists", a.SystemScope)
	case a.ProjectID != "":
		opts.Scope = &gophercloud.AuthScope{ProjectID: a.ProjectID}
	case a.ProjectName != "":
		scope := &gophercloud.AuthScope{ProjectName: a.ProjectName, DomainName: a.ProjectDomainName, DomainID: a.ProjectDomainID}
		if scope.DomainName == "" && scope.DomainID == "" {
			scope.DomainID = "default"
		}
		opts.Scope = scope
	}
	provider, err := openstack.NewClient(a.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("keystone at %s: %w", a.AuthURL, err)
	}
	provider.HTTPClient = http.Client{Timeout: 30 * time.Second}
	provider.UserAgent.Prepend("allot")
	if err := openstack.Authenticate(ctx, provider, opts); err != nil {
		return nil, fmt.Errorf("keystone at %s refused the login of %s: %w", a.AuthURL, firstNonEmpty(a.Username, a.UserID), err)
	}
	eo := gophercloud.EndpointOpts{Region: a.RegionName}
	switch strings.TrimSuffix(strings.ToLower(a.Interface), "url") {
	case "", "public":
		eo.Availability = gophercloud.AvailabilityPublic
	case "internal":
		eo.Availability = gophercloud.AvailabilityInternal
	case "admin":
		eo.Availability = gophercloud.AvailabilityAdmin
	default:
		return nil, fmt.Errorf("interface %q: use public, internal or admin", a.Interface)
	}
	return &Session{Token: provider.TokenID, provider: provider, eo: eo}, nil
}

// Endpoint returns the catalog's URL of a service type ("placement",
// "baremetal") for the session's region and interface.
func (s *Session) Endpoint(serviceType string) (string, error) {
	eo := s.eo
	eo.ApplyDefaults(serviceType)
	url, err := s.provider.EndpointLocator(eo)
	if err != nil {
		return "", fmt.Errorf("the service catalog has no %s endpoint (%s interface%s): %w", serviceType, eo.Availability, regionText(eo.Region), err)
	}
	return strings.TrimSuffix(url, "/"), nil
}

func regionText(r string) string {
	if r == "" {
		return ""
	}
	return ", region " + r
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
