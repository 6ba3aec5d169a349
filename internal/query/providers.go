package query

import (
	"allot/internal/model"
)

// ProviderList is a parsed GET /resource_providers query. Each filter is
// evaluated on each provider alone (never across its tree).
type ProviderList struct {
	Name      *string
	UUID      *string
	MemberOf  AggExpr
	Resources []Amount
	InTree    string
	Required  TraitExpr
	// NameContains and UUIDPrefix are allot's console search (GET
	// /allot/v1/resource_providers): a substring of the name, any case,
	// and the start of the UUID, in lower case. Empty: no filter.
	NameContains string
	UUIDPrefix   string
}

// ParseProviderList validates and parses the query of GET
// /resource_providers at version v.
func ParseProviderList(p Params, v model.Version) (ProviderList, error) {
	var out ProviderList
	allowed := []string{"name", "uuid"}
	if v.AtLeast(model.V(1, 3)) {
		allowed = append(allowed, "member_of")
	}
	if v.AtLeast(model.V(1, 4)) {
		allowed = append(allowed, "resources")
	}
	if v.AtLeast(model.V(1, 14)) {
		allowed = append(allowed, "in_tree")
	}
	if v.AtLeast(model.V(1, 18)) {
		allowed = append(allowed, "required")
	}
	if err := p.CheckAllowed(AllowedSet(allowed...)); err != nil {
		return out, err
	}
	for _, k := range []string{"uuid", "in_tree"} {
		if p.Has(k) {
			if err := CheckUUIDParam(p.Get(k)); err != nil {
				return out, err
			}
		}
	}
	if p.Has("name") {
		n := p.Get("name")
		out.Name = &n
	}
	if p.Has("uuid") {
		u, _ := model.NormalizeUUID(p.Get("uuid"))
		out.UUID = &u
	}
	var err error
	if p.Has("member_of") {
		if out.MemberOf, err = ParseMemberOf(p.All("member_of"), "", v); err != nil {
			return out, err
		}
	}
	if p.Has("required") {
		if out.Required, err = ParseRequired(p.All("required"), v); err != nil {
			return out, err
		}
	}
	if p.Has("in_tree") {
		if out.InTree, err = ParseInTree(p.Get("in_tree")); err != nil {
			return out, err
		}
	}
	if p.Has("resources") {
		if out.Resources, err = ParseResources(p.Get("resources")); err != nil {
			return out, err
		}
	}
	return out, nil
}
