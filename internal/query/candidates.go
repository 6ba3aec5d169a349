package query

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"allot/internal/model"
)

// Group is one request group of GET /allocation_candidates: the unsuffixed
// group (Suffix "") may be satisfied by several providers of one tree and by
// sharing providers; a granular group (any other suffix) by one provider.
type Group struct {
	Suffix    string
	Resources []Amount
	Required  TraitExpr
	MemberOf  AggExpr
	InTree    string
}

// Granular reports whether the group must be satisfied by a single provider.
func (g Group) Granular() bool { return g.Suffix != "" }

// Candidates is a parsed GET /allocation_candidates query.
type Candidates struct {
	// Groups in the order their suffixes first appear in the query.
	Groups []Group
	// Limit is the maximum number of results (0: no limit).
	Limit int
	// GroupPolicy is "", "none" or "isolate".
	GroupPolicy string
	// RootRequired constrains the root of every candidate's tree (AllOf
	// holds single-trait sets: no any-of here).
	RootRequired TraitExpr
	// SameSubtree lists sets of suffixes whose providers must share a
	// subtree (one of them is an ancestor of all the others).
	SameSubtree [][]string
	// NestedAware is false before 1.29: candidates may use one provider per tree only.
	NestedAware bool
}

var limitPattern = regexp.MustCompile(`^[1-9][0-9]*$`)

// groupKeyForm is which request-group keys a microversion knows.
type groupKeyForm int

const (
	unsuffixedKeys  groupKeyForm = iota // before 1.25: resources, required, member_of, in_tree
	numericSuffixes                     // 1.25: resources1, required42, ...
	stringSuffixes                      // 1.33: up to 64 of [a-zA-Z0-9_-]
)

// groupKeyPrefixes are the parameters a request group is made of; none is
// a prefix of another, so a key has at most one reading.
var groupKeyPrefixes = [...]string{"resources", "required", "member_of", "in_tree"}

// splitGroupKey reads key as a request-group parameter and its suffix: as
// the regular expression ^(resources|required|member_of|in_tree)(SUFFIX)?$
// with the form's SUFFIX would, without the cost of one on every key of
// every query.
func splitGroupKey(key string, form groupKeyForm) (prefix, suffix string, ok bool) {
	for _, p := range groupKeyPrefixes {
		if len(key) >= len(p) && key[:len(p)] == p {
			prefix, suffix = p, key[len(p):]
			break
		}
	}
	if prefix == "" {
		return "", "", false
	}
	if suffix == "" {
		return prefix, "", true
	}
	switch form {
	case numericSuffixes:
		if suffix[0] < '1' || suffix[0] > '9' {
			return "", "", false
		}
		for i := 1; i < len(suffix); i++ {
			if suffix[i] < '0' || suffix[i] > '9' {
				return "", "", false
			}
		}
	case stringSuffixes:
		if len(suffix) > 64 {
			return "", "", false
		}
		for i := 0; i < len(suffix); i++ {
			c := suffix[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return "", "", false
			}
		}
	default:
		return "", "", false
	}
	return prefix, suffix, true
}

// ParseCandidates parses a GET /allocation_candidates query at version v
// after its keys passed the version's schema (unknown keys are ignored
// here). Errors are 400s in Placement's words, with its error codes.
func ParseCandidates(p Params, v model.Version) (Candidates, error) {
	out := Candidates{NestedAware: v.AtLeast(model.V(1, 29))}
	// Request-wide parameters first, as Placement reads them.
	if p.Has("limit") && v.AtLeast(model.V(1, 16)) {
		raw := p.All("limit")[0]
		if !limitPattern.MatchString(raw) {
			return out, model.BadRequest("Invalid query string parameters: %s does not match '^[1-9][0-9]*$'", pyRepr(raw))
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			n = int(^uint(0) >> 1) // larger than any result
		}
		out.Limit = n
	}
	if p.Has("group_policy") && v.AtLeast(model.V(1, 25)) {
		out.GroupPolicy = p.All("group_policy")[0]
		if out.GroupPolicy != "none" && out.GroupPolicy != "isolate" {
			return out, model.BadRequest("Invalid query string parameters: %s is not one of ['none', 'isolate']", pyRepr(out.GroupPolicy))
		}
	}
	if p.Has("root_required") && v.AtLeast(model.V(1, 35)) {
		vals := p.All("root_required")
		if len(vals) > 1 {
			return out, model.BadRequest("Query parameter 'root_required' may be specified only once.").WithCode(model.CodeQueryDuplicateKey)
		}
		e, err := ParseTraitValue(vals[0], true, false)
		if err != nil {
			return out, err
		}
		if conflicts := rootConflicts(e); len(conflicts) > 0 {
			return out, model.BadRequest("Conflicting required and forbidden traits found in root_required: %s", clip(strings.Join(conflicts, ", "))).WithCode(model.CodeQueryBadValue)
		}
		out.RootRequired = e
	}
	if p.Has("same_subtree") && v.AtLeast(model.V(1, 36)) {
		sets, err := parseSameSubtree(p.All("same_subtree"))
		if err != nil {
			return out, err
		}
		out.SameSubtree = sets
	}

	// Request groups, keyed by suffix, in order of first appearance.
	form := numericSuffixes
	if v.AtLeast(model.V(1, 33)) {
		form = stringSuffixes
	}
	var index map[string]int // built once there are many groups
	groupFor := func(suffix string) *Group {
		if index == nil {
			for i := range out.Groups {
				if out.Groups[i].Suffix == suffix {
					return &out.Groups[i]
				}
			}
			if len(out.Groups) >= groupsScanned {
				index = make(map[string]int, 2*len(out.Groups))
				for i, g := range out.Groups {
					index[g.Suffix] = i
				}
			}
		}
		i, ok := index[suffix]
		if !ok {
			i = len(out.Groups)
			if index != nil {
				index[suffix] = i
			}
			out.Groups = append(out.Groups, Group{Suffix: suffix})
		}
		return &out.Groups[i]
	}
	if !v.AtLeast(model.V(1, 25)) {
		form = unsuffixedKeys
	}
	for _, key := range p.Keys() {
		prefix, suffix, ok := splitGroupKey(key, form)
		if !ok {
			continue
		}
		g := groupFor(suffix)
		var err error
		switch prefix {
		case "resources":
			g.Resources, err = ParseResources(p.Get(key))
		case "required":
			if !v.AtLeast(model.V(1, 17)) {
				continue
			}
			g.Required, err = ParseRequired(p.All(key), v)
		case "member_of":
			if !v.AtLeast(model.V(1, 21)) {
				continue
			}
			g.MemberOf, err = ParseMemberOf(p.All(key), suffix, v)
		case "in_tree":
			if !v.AtLeast(model.V(1, 31)) {
				continue
			}
			g.InTree, err = ParseInTree(p.Get(key))
		}
		if err != nil {
			return out, err
		}
	}
	if err := checkGroups(&out, v); err != nil {
		return out, err
	}
	if out.GroupPolicy == "" {
		granular := 0
		for _, g := range out.Groups {
			if g.Granular() {
				granular++
			}
		}
		if granular > 1 {
			return out, model.BadRequest(`The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`)
		}
	}
	return out, nil
}

// checkGroups applies Placement's sanity rules on the groups.
func checkGroups(c *Candidates, v model.Version) error {
	if v.AtLeast(model.V(1, 36)) {
		var resourceless []string
		for _, g := range c.Groups {
			if len(g.Resources) == 0 {
				resourceless = append(resourceless, g.Suffix)
			}
		}
		if len(resourceless) == len(c.Groups) {
			return model.BadRequest("There must be at least one resources or resources[$S] parameter.").WithCode(model.CodeQueryMissingValue)
		}
		if err := checkSameSubtree(c, resourceless); err != nil {
			return err
		}
	} else {
		var orphans []string
		for _, g := range c.Groups {
			if len(g.Required.AllOf) > 0 && len(g.Resources) == 0 {
				orphans = append(orphans, "required"+g.Suffix)
			}
		}
		if len(orphans) > 0 {
			return model.BadRequest("All traits parameters must be associated with resources.  Found the following orphaned traits keys: %s", clip(strings.Join(orphans, ", ")))
		}
		for _, g := range c.Groups {
			if len(g.Resources) == 0 && !g.MemberOf.Empty() {
				orphans = append(orphans, "member_of"+g.Suffix)
			}
		}
		if len(orphans) > 0 {
			return model.BadRequest("All member_of parameters must be associated with resources. Found the following orphaned member_of keys: %s", clip(strings.Join(orphans, ", ")))
		}
		for _, g := range c.Groups {
			if len(g.Resources) == 0 {
				return model.BadRequest("All request groups must specify resources.")
			}
		}
		if len(c.Groups) == 0 {
			return model.BadRequest("At least one request group (`resources` or `resources{$S}`) is required.")
		}
	}
	if v.AtLeast(model.V(1, 22)) {
		var conflicts []string
		for i := range c.Groups {
			if g := &c.Groups[i]; len(g.Required.Forbidden) > 0 && len(g.Required.AllOf) > 0 {
				conflicts = appendTraitConflicts(conflicts, g)
			}
		}
		if len(conflicts) > 0 {
			sort.Strings(conflicts)
			return model.BadRequest("Conflicting required and forbidden traits found in the following traits keys: %s", clip(strings.Join(conflicts, ", ")))
		}
	}
	return nil
}

// The helpers below hold the checks that only some queries need.

// groupsScanned is how many groups ParseCandidates finds by scanning
// before it indexes them in a map.
const groupsScanned = 8

// rootConflicts lists the root_required traits both required and forbidden.
func rootConflicts(e TraitExpr) []string {
	if len(e.Forbidden) == 0 {
		return nil
	}
	forb := map[string]bool{}
	for _, f := range e.Forbidden {
		forb[f] = true
	}
	var conflicts []string
	for _, set := range e.AllOf {
		if forb[set[0]] {
			conflicts = append(conflicts, set[0])
		}
	}
	return conflicts
}

// parseSameSubtree parses the same_subtree values: comma-separated
// suffixes, each set without repeats.
func parseSameSubtree(vals []string) ([][]string, error) {
	var sets [][]string
	for _, val := range vals {
		var set []string
		seen := map[string]bool{}
		for _, s := range strings.Split(val, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, model.BadRequest("Empty string (unsuffixed group) can not be specified in `same_subtree` ").WithCode(model.CodeQueryBadValue)
			}
			if !seen[s] {
				seen[s] = true
				set = append(set, s)
			}
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// checkSameSubtree (1.36+): every resourceless group is named in
// same_subtree, and same_subtree names only groups of the query.
func checkSameSubtree(c *Candidates, resourceless []string) error {
	if len(resourceless) > 0 {
		inSubtree := map[string]bool{}
		for _, set := range c.SameSubtree {
			for _, s := range set {
				inSubtree[s] = true
			}
		}
		var bad []string
		for _, s := range resourceless {
			if !inSubtree[s] {
				bad = append(bad, s)
			}
		}
		if len(bad) > 0 {
			return model.BadRequest("Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - %s.", pyList(bad)).WithCode(model.CodeQueryBadValue)
		}
	}
	if len(c.SameSubtree) == 0 {
		return nil
	}
	exists := map[string]bool{}
	var all []string
	for _, g := range c.Groups {
		exists[g.Suffix] = true
		all = append(all, g.Suffix)
	}
	var missing []string
	for _, set := range c.SameSubtree {
		for _, s := range set {
			if !exists[s] {
				missing = append(missing, s)
			}
		}
	}
	if len(missing) > 0 {
		return model.BadRequest("Real suffixes should be specified in `same_subtree`: %s not found in %s.", pyList(missing), pyList(all)).WithCode(model.CodeQueryBadValue)
	}
	return nil
}

// appendTraitConflicts adds, for each any-of set of g's required traits
// that is wholly forbidden too, Placement's description of the conflict.
func appendTraitConflicts(conflicts []string, g *Group) []string {
	forb := map[string]bool{}
	for _, f := range g.Required.Forbidden {
		forb[f] = true
	}
	for _, set := range g.Required.AllOf {
		all := true
		for _, t := range set {
			if !forb[t] {
				all = false
				break
			}
		}
		if all {
			s := append([]string(nil), set...)
			sort.Strings(s)
			conflicts = append(conflicts, fmt.Sprintf("required%s: (%s)", g.Suffix, strings.Join(s, ", ")))
		}
	}
	return conflicts
}

// pyList renders names like a Python list repr: ['a', 'b'].
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pyRepr(n)
	}
	return "[" + clip(strings.Join(q, ", ")) + "]"
}
