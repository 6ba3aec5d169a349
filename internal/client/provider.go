package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"allot/internal/model"
)

// Provider is a resource provider as the API shows it.
type Provider struct {
	UUID       string `json:"uuid"`
	Name       string `json:"name"`
	Generation int64  `json:"generation"`
	// ParentProviderUUID is empty for a root (and before microversion 1.14).
	ParentProviderUUID string `json:"parent_provider_uuid,omitempty"`
	// RootProviderUUID is set from microversion 1.14.
	RootProviderUUID string `json:"root_provider_uuid,omitempty"`
	Links            []Link `json:"links,omitempty"`
}

// Link is one entry of a "links" list.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// ProviderFilter selects providers in ListProviders; empty fields do not
// filter. Values use the API's syntax.
type ProviderFilter struct {
	Name string
	UUID string
	// MemberOf: each entry is one member_of parameter (AGG, in:A,B, !AGG,
	// !in:A,B); entries AND together.
	MemberOf []string
	// Resources is "RC:N,RC:N": providers with capacity for those amounts.
	Resources string
	// InTree is a provider UUID: only providers of its tree.
	InTree string
	// Required: each entry is one required parameter (T1,!T2 or in:T1,T2).
	Required []string
}

// Values encodes the filter as a query.
func (f ProviderFilter) Values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("name", f.Name)
	set("uuid", f.UUID)
	set("resources", f.Resources)
	set("in_tree", f.InTree)
	for _, m := range f.MemberOf {
		q.Add("member_of", m)
	}
	for _, r := range f.Required {
		q.Add("required", r)
	}
	return q
}

// ListProviders returns the providers matching f, in the server's order.
func (p *Placement) ListProviders(ctx context.Context, f ProviderFilter) ([]Provider, error) {
	var doc struct {
		Providers []Provider `json:"resource_providers"`
	}
	if _, err := p.get(ctx, "/resource_providers", f.Values(), &doc); err != nil {
		return nil, fmt.Errorf("list resource providers: %w", err)
	}
	return doc.Providers, nil
}

// GetProvider returns one provider.
func (p *Placement) GetProvider(ctx context.Context, uuid string) (Provider, error) {
	var rp Provider
	_, err := p.get(ctx, "/resource_providers/"+pathEscape(uuid), nil, &rp)
	return rp, err
}

// NewProvider describes a provider to create.
type NewProvider struct {
	Name string `json:"name"`
	// UUID is chosen by the server when empty.
	UUID string `json:"uuid,omitempty"`
	// ParentProviderUUID makes the provider a child (microversion 1.14).
	ParentProviderUUID string `json:"parent_provider_uuid,omitempty"`
}

// CreateProvider creates a provider and returns it. Before microversion
// 1.20 the server answers without a body; the provider is then read back
// from the Location header.
func (p *Placement) CreateProvider(ctx context.Context, np NewProvider) (Provider, error) {
	var rp Provider
	resp, err := p.send(ctx, http.MethodPost, "/resource_providers", np, &rp)
	if err != nil {
		return rp, err
	}
	if rp.UUID != "" {
		return rp, nil
	}
	loc := resp.Header.Get("Location")
	uuid := loc[strings.LastIndex(loc, "/")+1:]
	if uuid == "" {
		return rp, fmt.Errorf("create resource provider %q: the server sent no body and no Location", np.Name)
	}
	return p.GetProvider(ctx, uuid)
}

// ProviderUpdate changes a provider's name and, optionally, its parent.
type ProviderUpdate struct {
	Name string
	// SetParent sends parent_provider_uuid: ParentProviderUUID, or null
	// (make the provider a root, microversion 1.37) when it is empty.
	SetParent          bool
	ParentProviderUUID string
}

// UpdateProvider renames or re-parents a provider and returns it.
func (p *Placement) UpdateProvider(ctx context.Context, uuid string, u ProviderUpdate) (Provider, error) {
	body := map[string]any{"name": u.Name}
	if u.SetParent {
		if u.ParentProviderUUID == "" {
			body["parent_provider_uuid"] = nil
		} else {
			body["parent_provider_uuid"] = u.ParentProviderUUID
		}
	}
	var rp Provider
	_, err := p.send(ctx, http.MethodPut, "/resource_providers/"+pathEscape(uuid), body, &rp)
	return rp, err
}

// DeleteProvider deletes a provider.
func (p *Placement) DeleteProvider(ctx context.Context, uuid string) error {
	_, err := p.send(ctx, http.MethodDelete, "/resource_providers/"+pathEscape(uuid), nil, nil)
	return err
}

// ProviderConsumerAllocation is what one consumer holds on a provider.
type ProviderConsumerAllocation struct {
	Resources map[string]int64 `json:"resources"`
	// ConsumerGeneration is set from microversion 1.28.
	ConsumerGeneration *int64 `json:"consumer_generation,omitempty"`
}

// ProviderAllocations is the answer of GET /resource_providers/{uuid}/allocations.
type ProviderAllocations struct {
	// Allocations is keyed by consumer UUID.
	Allocations map[string]ProviderConsumerAllocation `json:"allocations"`
	Generation  int64                                 `json:"resource_provider_generation"`
}

// GetProviderAllocations returns the allocations held against a provider.
func (p *Placement) GetProviderAllocations(ctx context.Context, uuid string) (ProviderAllocations, error) {
	var out ProviderAllocations
	_, err := p.get(ctx, "/resource_providers/"+pathEscape(uuid)+"/allocations", nil, &out)
	return out, err
}

// FindProvider returns the provider that ref names: a UUID is looked up
// directly, anything else is taken as the provider's name.
func (p *Placement) FindProvider(ctx context.Context, ref string) (Provider, error) {
	if model.IsUUIDLike(ref) {
		return p.GetProvider(ctx, ref)
	}
	rps, err := p.ListProviders(ctx, ProviderFilter{Name: ref})
	if err != nil {
		return Provider{}, err
	}
	if len(rps) > 0 {
		return rps[0], nil
	}
	if uuid, ok := p.nodeUUID(ctx, ref); ok {
		rp, err := p.GetProvider(ctx, uuid)
		if err != nil {
			return Provider{}, fmt.Errorf("the resource provider of bare-metal node %s (%s): %w", ref, uuid, err)
		}
		return rp, nil
	}
	return Provider{}, &NotFoundError{What: "resource provider", Name: ref}
}

// nodeUUID returns the UUID of the bare-metal node named name, when the
// client may look nodes up (FindNodeProviders) and one has that name.
func (p *Placement) nodeUUID(ctx context.Context, name string) (string, bool) {
	if p.nodes == nil {
		return "", false
	}
	b, err := p.nodes()
	if err != nil {
		return "", false
	}
	n, err := b.GetNode(ctx, name, "uuid")
	if err != nil || n.UUID == "" {
		return "", false
	}
	return n.UUID, true
}

// NotFoundError says that a name given to the client matched nothing.
type NotFoundError struct {
	What string
	Name string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s named %q (give its UUID or its exact name)", e.What, e.Name)
}
