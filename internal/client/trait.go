package client

import (
	"context"
	"net/http"
	"net/url"
)

// TraitFilter selects traits in ListTraits.
type TraitFilter struct {
	// Name is "in:T1,T2" or "startswith:PREFIX" (empty: every trait).
	Name string
	// Associated, when not nil, keeps only traits that are (true) or are not
	// (false) on some provider.
	Associated *bool
}

// ListTraits returns the trait names matching f.
func (p *Placement) ListTraits(ctx context.Context, f TraitFilter) ([]string, error) {
	q := url.Values{}
	if f.Name != "" {
		q.Set("name", f.Name)
	}
	if f.Associated != nil {
		if *f.Associated {
			q.Set("associated", "true")
		} else {
			q.Set("associated", "false")
		}
	}
	var doc struct {
		Traits []string `json:"traits"`
	}
	_, err := p.get(ctx, "/traits", q, &doc)
	return doc.Traits, err
}

// GetTrait checks that a trait exists (a 404 *APIError if not).
func (p *Placement) GetTrait(ctx context.Context, name string) error {
	_, err := p.get(ctx, "/traits/"+pathEscape(name), nil, nil)
	return err
}

// CreateTrait creates a custom trait unless it exists and reports whether
// it was created.
func (p *Placement) CreateTrait(ctx context.Context, name string) (bool, error) {
	resp, err := p.send(ctx, http.MethodPut, "/traits/"+pathEscape(name), nil, nil)
	if err != nil {
		return false, err
	}
	return resp.Status == http.StatusCreated, nil
}

// DeleteTrait deletes a custom trait that no provider has.
func (p *Placement) DeleteTrait(ctx context.Context, name string) error {
	_, err := p.send(ctx, http.MethodDelete, "/traits/"+pathEscape(name), nil, nil)
	return err
}

// ProviderTraits is a provider's traits with its generation.
type ProviderTraits struct {
	Traits     []string `json:"traits"`
	Generation int64    `json:"resource_provider_generation"`
}

func providerTraitsPath(uuid string) string {
	return "/resource_providers/" + pathEscape(uuid) + "/traits"
}

// GetProviderTraits returns a provider's traits.
func (p *Placement) GetProviderTraits(ctx context.Context, uuid string) (ProviderTraits, error) {
	var out ProviderTraits
	_, err := p.get(ctx, providerTraitsPath(uuid), nil, &out)
	return out, err
}

// SetProviderTraits replaces a provider's traits; generation must be the
// provider's current generation.
func (p *Placement) SetProviderTraits(ctx context.Context, uuid string, generation int64, traits []string) (ProviderTraits, error) {
	if traits == nil {
		traits = []string{}
	}
	body := map[string]any{"traits": traits, "resource_provider_generation": generation}
	var out ProviderTraits
	_, err := p.send(ctx, http.MethodPut, providerTraitsPath(uuid), body, &out)
	return out, err
}

// DeleteProviderTraits removes every trait of a provider.
func (p *Placement) DeleteProviderTraits(ctx context.Context, uuid string) error {
	_, err := p.send(ctx, http.MethodDelete, providerTraitsPath(uuid), nil, nil)
	return err
}
