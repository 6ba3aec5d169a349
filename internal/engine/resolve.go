package engine

import (
	"sort"
	"strings"

	"allot/internal/model"
	"allot/internal/query"
)

// traitSet is a resolved query.TraitExpr.
type traitSet struct {
	allOf     [][]traitID
	forbidden []traitID
	// impossible: a required trait is unknown to every provider, so nothing matches.
	impossible bool
}

func (t traitSet) empty() bool { return len(t.allOf) == 0 && len(t.forbidden) == 0 }

// matches checks a single provider's own traits.
func (t traitSet) matches(p *provider) bool { return t.check(p) == stPassed }

// check is the traits stage of a single provider: stForbidden when it has
// a forbidden trait, else stRequired or stAnyOf (a set of several traits,
// "in:") for the first required set it has none of, else stPassed.
func (t traitSet) check(p *provider) stage {
	if t.impossible {
		return stRequired
	}
	for _, f := range t.forbidden {
		if p.hasTrait(f) {
			return stForbidden
		}
	}
	for _, set := range t.allOf {
		ok := false
		for _, id := range set {
			if p.hasTrait(id) {
				ok = true
				break
			}
		}
		if !ok {
			if len(set) > 1 {
				return stAnyOf
			}
			return stRequired
		}
	}
	return stPassed
}

// aggSet is a resolved query.AggExpr. Unknown aggregates are dropped; a
// required set left empty makes the whole expression impossible.
type aggSet struct {
	allOf      [][]aggID
	forbidden  []aggID
	impossible bool
}

func (a aggSet) empty() bool { return len(a.allOf) == 0 && len(a.forbidden) == 0 && !a.impossible }

// requiredOK reports whether p is directly in (at least one aggregate of)
// every required set.
func (a aggSet) requiredOK(p *provider) bool {
	if a.impossible {
		return false
	}
	for _, set := range a.allOf {
		ok := false
		for _, id := range set {
			if p.inAgg(id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// forbiddenHit reports whether p is directly in a forbidden aggregate.
func (a aggSet) forbiddenHit(p *provider) bool {
	for _, f := range a.forbidden {
		if p.inAgg(f) {
			return true
		}
	}
	return false
}

// matches checks a single provider's direct membership.
func (a aggSet) matches(p *provider) bool {
	return !a.forbiddenHit(p) && a.requiredOK(p)
}

// resolveTraits maps trait names to ids. Names that are not known traits
// give the error that the caller's API expects.
func (e *Engine) resolveTraits(x query.TraitExpr, unknown func(names []string) error) (traitSet, error) {
	var out traitSet
	var missing []string
	seen := map[string]bool{}
	for _, n := range x.Names() {
		if !e.knownTrait[n] && !seen[n] {
			seen[n] = true
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return out, model.AddHint(unknown(missing), model.SuggestNames(missing, mapKeys(e.knownTrait)))
	}
	for _, set := range x.AllOf {
		ids := make([]traitID, 0, len(set))
		for _, n := range set {
			ids = append(ids, e.traitByName[n])
		}
		out.allOf = append(out.allOf, ids)
	}
	for _, n := range x.Forbidden {
		out.forbidden = append(out.forbidden, e.traitByName[n])
	}
	return out, nil
}

// resolveAggs maps aggregate uuids to ids.
func (e *Engine) resolveAggs(x query.AggExpr) aggSet {
	var out aggSet
	for _, set := range x.AllOf {
		var ids []aggID
		for _, u := range set {
			if id, ok := e.aggByUUID[u]; ok {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			out.impossible = true
		}
		out.allOf = append(out.allOf, ids)
	}
	for _, u := range x.Forbidden {
		if id, ok := e.aggByUUID[u]; ok {
			out.forbidden = append(out.forbidden, id)
		}
	}
	return out
}

// amount is a resolved query.Amount.
type amount struct {
	class classID
	n     int64
}

// resolveAmounts maps class names to ids; unknown classes give the error
// the caller's API expects.
func (e *Engine) resolveAmounts(as []query.Amount, unknown func(name string) error) ([]amount, error) {
	out := make([]amount, 0, len(as))
	for _, a := range as {
		if !e.knownClass[a.Class] {
			return nil, model.AddHint(unknown(a.Class), model.SuggestNames([]string{a.Class}, mapKeys(e.knownClass)))
		}
		out = append(out, amount{class: e.classByName[a.Class], n: a.Amount})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].class < out[j].class })
	return out, nil
}

// mapKeys returns the names a set holds, for suggestions.
func mapKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// sortedNames joins names sorted, for messages.
func sortedNames(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// errUnknownTraitsList is the GET /resource_providers wording.
func errUnknownTraitsList(names []string) error {
	return model.BadRequest("Invalid trait(s) in \"required\" parameter: No such trait(s): %s.", sortedNames(names))
}

// errUnknownClassList is the GET /resource_providers wording.
func errUnknownClassList(name string) error {
	return model.BadRequest("Invalid resource class in resources parameter: No such resource class %s.", name)
}
