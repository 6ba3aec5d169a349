package engine

import (
	"allot/internal/model"
	"allot/internal/query"
)

// ListProviders returns the providers matching every filter of f, each
// filter evaluated on the provider alone, ordered by creation (id).
func (e *Engine) ListProviders(f query.ProviderList) ([]model.Provider, error) {
	e.prepare()
	e.mu.RLock()
	defer e.mu.RUnlock()
	traits, err := e.resolveTraits(f.Required, errUnknownTraitsList)
	if err != nil {
		return nil, err
	}
	amounts, err := e.resolveAmounts(f.Resources, errUnknownClassList)
	if err != nil {
		return nil, err
	}
	aggs := e.resolveAggs(f.MemberOf)
	if aggs.impossible {
		return []model.Provider{}, nil
	}
	candidates := e.all()
	if f.UUID != nil {
		p := e.byUUID[*f.UUID]
		if p == nil {
			return []model.Provider{}, nil
		}
		candidates = []*provider{p}
	}
	var rootID int64
	if f.InTree != "" {
		p := e.byUUID[f.InTree]
		if p == nil {
			return []model.Provider{}, nil
		}
		rootID = p.RootID
	}
	out := []model.Provider{}
	for _, p := range candidates {
		if f.Name != nil && p.Name != *f.Name {
			continue
		}
		if rootID != 0 && p.RootID != rootID {
			continue
		}
		if !aggs.matches(p) || !traits.matches(p) || !hasCapacity(p, amounts) {
			continue
		}
		out = append(out, p.Provider)
	}
	return out, nil
}

// hasCapacity reports whether p alone can supply every amount.
func hasCapacity(p *provider, amounts []amount) bool {
	for _, a := range amounts {
		in := p.inventory(a.class)
		if in == nil || !in.CanAllocate(a.n) {
			return false
		}
	}
	return true
}
