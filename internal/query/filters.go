package query

import (
	"strconv"
	"strings"

	"allot/internal/model"
)

// Amount is a requested amount of one resource class.
type Amount struct {
	Class  string
	Amount int64
}

// TraitExpr is a trait constraint: every set in AllOf must be matched by at
// least one of its traits (AND of ORs), and none of Forbidden may be present.
type TraitExpr struct {
	AllOf     [][]string
	Forbidden []string
}

// Empty reports whether the expression constrains nothing.
func (e TraitExpr) Empty() bool { return len(e.AllOf) == 0 && len(e.Forbidden) == 0 }

// Names returns every trait the expression mentions.
func (e TraitExpr) Names() []string {
	var out []string
	for _, set := range e.AllOf {
		out = append(out, set...)
	}
	return append(out, e.Forbidden...)
}

// AggExpr is an aggregate constraint: membership in at least one aggregate
// of every set in AllOf, and in none of Forbidden.
type AggExpr struct {
	AllOf     [][]string
	Forbidden []string
}

// Empty reports whether the expression constrains nothing.
func (e AggExpr) Empty() bool { return len(e.AllOf) == 0 && len(e.Forbidden) == 0 }

// ParseResources reads "RC:N,RC:N" (amounts ≥ 1).
func ParseResources(s string) ([]Amount, error) {
	if strings.TrimSpace(s) == "" {
		return nil, model.BadRequest("Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.")
	}
	var out []Amount
	seen := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		fields := strings.Split(part, ":")
		if len(fields) != 2 {
			return nil, model.BadRequest("Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: %s.", clip(part))
		}
		rc, amt := fields[0], fields[1]
		n, err := pyInt(amt)
		if err != nil {
			return nil, model.BadRequest("Requested resource %s expected positive integer amount. Got: %s.", clip(rc), clip(amt))
		}
		if n < 1 {
			return nil, model.BadRequest("Requested resource %s requires amount >= 1. Got: %d.", clip(rc), n)
		}
		if i, ok := seen[rc]; ok { // a later amount for the same class wins, as in a Python dict
			out[i].Amount = n
			continue
		}
		seen[rc] = len(out)
		out = append(out, Amount{Class: rc, Amount: n})
	}
	return out, nil
}

// pyInt reads an integer the way Python's int() does (surrounding spaces
// and a sign allowed, underscores between digits allowed).
func pyInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "__") || strings.HasPrefix(strings.TrimLeft(t, "+-"), "_") || strings.HasSuffix(t, "_") {
		return 0, strconv.ErrSyntax
	}
	t = strings.ReplaceAll(t, "_", "")
	return strconv.ParseInt(t, 10, 64)
}

// ParseTraitValue parses one value of required / requiredN / root_required.
func ParseTraitValue(val string, allowForbidden, allowAnyOf bool) (TraitExpr, error) {
	var e TraitExpr
	if strings.HasPrefix(val, "in:") {
		if !allowAnyOf {
			return e, model.BadRequest("Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: %s", clip(val))
		}
		var set []string
		seen := map[string]bool{}
		for _, t := range strings.Split(val[3:], ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				return e, model.BadRequest("Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: %s", clip(val))
			}
			if !seen[t] {
				seen[t] = true
				set = append(set, t)
			}
		}
		for _, t := range set {
			if strings.HasPrefix(t, "!") {
				return e, model.BadRequest("Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: %s", clip(val))
			}
		}
		e.AllOf = [][]string{set}
		return e, nil
	}
	expected := "HW_CPU_X86_VMX,!CUSTOM_MAGIC"
	if !allowForbidden {
		expected = "HW_CPU_X86_VMX,CUSTOM_MAGIC"
	}
	seenReq, seenForb := map[string]bool{}, map[string]bool{}
	for _, t := range strings.Split(val, ",") {
		t = strings.TrimSpace(t)
		if strings.HasPrefix(t, "!") {
			name := strings.TrimLeft(t, "!")
			if name == "" {
				return e, model.BadRequest("Invalid query string parameters: Expected 'required' parameter value of the form: %s. Got an empty trait in: %s", expected, clip(val))
			}
			if !seenForb[name] {
				seenForb[name] = true
				e.Forbidden = append(e.Forbidden, name)
			}
			continue
		}
		if t == "" {
			return e, model.BadRequest("Invalid query string parameters: Expected 'required' parameter value of the form: %s. Got an empty trait in: %s", expected, clip(val))
		}
		if !seenReq[t] {
			seenReq[t] = true
			e.AllOf = append(e.AllOf, []string{t})
		}
	}
	if len(e.Forbidden) > 0 && !allowForbidden {
		return TraitExpr{}, model.BadRequest("Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: %s", clip(val))
	}
	return e, nil
}

// ParseRequired reads every value of a required[SUFFIX] key: before 1.39
// only the last value counts; from 1.39 the values AND together.
func ParseRequired(values []string, v model.Version) (TraitExpr, error) {
	allowForbidden := v.AtLeast(model.V(1, 22))
	allowAnyOf := v.AtLeast(model.V(1, 39))
	if !allowAnyOf && len(values) > 1 {
		values = values[len(values)-1:]
	}
	var out TraitExpr
	forb := map[string]bool{}
	for _, val := range values {
		e, err := ParseTraitValue(val, allowForbidden, allowAnyOf)
		if err != nil {
			return TraitExpr{}, err
		}
		out.AllOf = append(out.AllOf, e.AllOf...)
		for _, f := range e.Forbidden {
			if !forb[f] {
				forb[f] = true
				out.Forbidden = append(out.Forbidden, f)
			}
		}
	}
	return out, nil
}

// ParseMemberOfValue parses one member_of value: a uuid, "in:U1,U2",
// "!U" or "!in:U1,U2".
func ParseMemberOfValue(value string) (anyOf, forbidden []string, err error) {
	if strings.Contains(value, ",") && !strings.HasPrefix(value, "in:") && !strings.HasPrefix(value, "!in:") {
		return nil, nil, model.BadRequest("Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: %s", clip(value))
	}
	switch {
	case strings.HasPrefix(value, "!in:"):
		forbidden = strings.Split(value[4:], ",")
	case strings.HasPrefix(value, "!"):
		forbidden = []string{value[1:]}
	case strings.HasPrefix(value, "in:"):
		anyOf = strings.Split(value[3:], ",")
	default:
		anyOf = []string{value}
	}
	for i, list := range [][]string{anyOf, forbidden} {
		for j, u := range list {
			norm, ok := model.NormalizeUUID(u)
			if !ok {
				return nil, nil, model.BadRequest("Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: %s", clip(u))
			}
			if i == 0 {
				anyOf[j] = norm
			} else {
				forbidden[j] = norm
			}
		}
	}
	return dedupe(anyOf), dedupe(forbidden), nil
}

// ParseMemberOf reads every value of a member_of[SUFFIX] key.
func ParseMemberOf(values []string, suffix string, v model.Version) (AggExpr, error) {
	var e AggExpr
	if !v.AtLeast(model.V(1, 24)) && len(values) > 1 {
		return e, model.BadRequest("Multiple member_of%s parameters are not supported", suffix)
	}
	forb := map[string]bool{}
	for _, val := range values {
		anyOf, forbidden, err := ParseMemberOfValue(val)
		if err != nil {
			return AggExpr{}, err
		}
		if len(anyOf) > 0 {
			e.AllOf = append(e.AllOf, anyOf)
		}
		if len(forbidden) > 0 {
			if !v.AtLeast(model.V(1, 32)) {
				return AggExpr{}, model.BadRequest("Forbidden member_of%s parameters are not supported in the specified microversion", suffix)
			}
			for _, f := range forbidden {
				if !forb[f] {
					forb[f] = true
					e.Forbidden = append(e.Forbidden, f)
				}
			}
		}
	}
	return e, nil
}

// ParseInTree reads an in_tree value (a provider uuid).
func ParseInTree(value string) (string, error) {
	norm, ok := model.NormalizeUUID(strings.TrimSpace(value))
	if !ok {
		return "", model.BadRequest("Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: %s", clip(value))
	}
	return norm, nil
}

func dedupe(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
