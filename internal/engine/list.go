package engine

import (
	"strings"

	"allot/internal/model"
	"allot/internal/query"
)

// ListProviders returns the providers matching every filter of f, each
// filter evaluated on the provider alone, ordered by creation (id).
func (e *Engine) ListProviders(f query.ProviderList) ([]model.Provider, error) {
	e.rlockPrepared()
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
	needle := strings.ToLower(f.NameContains)
	out := []model.Provider{}
	for _, p := range candidates {
		if f.Name != nil && p.Name != *f.Name {
			continue
		}
		if f.UUIDPrefix != "" && !strings.HasPrefix(p.UUID, f.UUIDPrefix) {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(p.Name), needle) {
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
	return amountsStage(p, amounts) == stPassed
}

// amountsStage is the resources stage of a single provider: for the first
// amount it cannot supply, stClass (no inventory of the class), stUnits
// (the amount breaks min_unit, max_unit or step_size) or stCapacity (usage
// plus the amount exceeds the capacity); else stPassed.
func amountsStage(p *provider, amounts []amount) stage {
	for _, a := range amounts {
		if st := amountStage(p.inventory(a.class), a.n); st != stPassed {
			return st
		}
	}
	return stPassed
}

// amountStage judges one amount against one inventory (nil: none).
func amountStage(in *inv, n int64) stage {
	switch {
	case in == nil:
		return stClass
	case in.CanAllocate(n): // the common case: one test, as before stages
		return stPassed
	case !in.FitsUnit(n):
		return stUnits
	}
	return stCapacity
}
