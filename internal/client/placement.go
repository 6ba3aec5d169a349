package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"allot/internal/model"
)

// DefaultPlacementURL is where "allot serve" listens for Placement.
const DefaultPlacementURL = "http://127.0.0.1:8778"

// Placement is a client of the OpenStack Placement API (allot's or
// OpenStack's). Methods return the server's data in typed form; every
// request carries "OpenStack-API-Version: placement <version>".
type Placement struct {
	c *Client

	mu      sync.Mutex
	version model.Version // resolved "latest", once known

	// nodes, when set, gives the Bare Metal API FindProvider asks for a
	// node of a name no provider has (see FindNodeProviders).
	nodes func() (*Baremetal, error)
}

// FindNodeProviders lets FindProvider find a bare-metal node's resource
// provider by the node's name. In allot (as with Ironic and Nova) a node is
// the provider with the node's UUID, named by that UUID, so its name is
// not a provider's name; with this, a name no provider has is looked up as
// a node on the Bare Metal API that connect returns (called at most once,
// when first needed; an unreachable API leaves the name not found).
func (p *Placement) FindNodeProviders(connect func() (*Baremetal, error)) {
	var once sync.Once
	var b *Baremetal
	var err error
	p.nodes = func() (*Baremetal, error) {
		once.Do(func() { b, err = connect() })
		return b, err
	}
}

// NewPlacement returns a Placement client for the endpoint at baseURL.
func NewPlacement(baseURL string, opts Options) (*Placement, error) {
	c, err := newClient(baseURL, "placement", []versionHeader{{name: "OpenStack-API-Version", withService: true}}, opts)
	if err != nil {
		return nil, err
	}
	return &Placement{c: c}, nil
}

// Client returns the underlying HTTP client, for requests the typed methods
// do not cover.
func (p *Placement) Client() *Client { return p.c }

// Do sends a raw request to the Placement endpoint (see Client.Do).
func (p *Placement) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	return p.c.Do(ctx, method, path, query, body)
}

// get sends a GET and decodes the JSON answer into out.
func (p *Placement) get(ctx context.Context, path string, query url.Values, out any) (*Response, error) {
	resp, err := p.c.Do(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return resp, err
	}
	if out != nil {
		return resp, resp.Decode(out)
	}
	return resp, nil
}

// send sends a write and decodes the JSON answer, if any, into out.
func (p *Placement) send(ctx context.Context, method, path string, body, out any) (*Response, error) {
	resp, err := p.c.Do(ctx, method, path, nil, body)
	if err != nil {
		return resp, err
	}
	if out != nil && len(resp.Body) > 0 {
		return resp, resp.Decode(out)
	}
	return resp, nil
}

// VersionInfo is the root document's description of the API.
type VersionInfo struct {
	ID         string `json:"id"`
	MinVersion string `json:"min_version"`
	MaxVersion string `json:"max_version"`
	Status     string `json:"status"`
}

// Versions returns the root document (GET /, no authentication needed).
func (p *Placement) Versions(ctx context.Context) ([]VersionInfo, error) {
	var doc struct {
		Versions []VersionInfo `json:"versions"`
	}
	if _, err := p.get(ctx, "/", nil, &doc); err != nil {
		return nil, err
	}
	return doc.Versions, nil
}

// Version returns the microversion requests are served at: the requested
// one when explicit, else the server's maximum (from GET /).
func (p *Placement) Version(ctx context.Context) (model.Version, error) {
	if v, ok := model.ParseVersion(p.c.opts.Version); ok {
		return v, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.version != (model.Version{}) {
		return p.version, nil
	}
	resp, err := p.get(ctx, "/", nil, nil)
	if err != nil {
		return model.Version{}, fmt.Errorf("find the server's microversion: %w", err)
	}
	v := resp.Version
	if v == (model.Version{}) {
		var doc struct {
			Versions []VersionInfo `json:"versions"`
		}
		if err := resp.Decode(&doc); err != nil {
			return model.Version{}, err
		}
		v = model.V(1, 0)
		for _, vi := range doc.Versions {
			if mv, ok := model.ParseVersion(vi.MaxVersion); ok {
				v = mv
			}
		}
	}
	p.version = v
	return v, nil
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }
