package cli

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// suffixPattern is what Placement accepts as a request group suffix (1.33).
var suffixPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// candidateFlags collects the options of "allocation-candidate list". Group
// options apply to the group named by the last --group before them (the
// unsuffixed group before any --group), as in osc-placement; the
// --*-group SUFFIX=VALUE options name their group themselves.
type candidateFlags struct {
	groups       []*candidateGroup
	current      string
	rootRequired []string
	sameSubtree  []string
	groupPolicy  string
	limit        int
	// Ranking (allot's extension): --strategy, --prefer-trait NAME[:W],
	// --prefer-member-of AGG[:W].
	strategy       string
	preferTraits   []string
	preferMemberOf []string
}

// candidateGroup is one request group as given on the command line.
type candidateGroup struct {
	suffix         string
	resources      []client.Resource
	required       []string
	forbidden      []string
	memberOf       []string
	aggregateUUIDs []string
	inTree         string
}

// group returns the group with the suffix, creating it.
func (f *candidateFlags) group(suffix string) *candidateGroup {
	for _, g := range f.groups {
		if g.suffix == suffix {
			return g
		}
	}
	g := &candidateGroup{suffix: suffix}
	f.groups = append(f.groups, g)
	return g
}

// Option kinds shared by the positional (--group) and the suffixed forms.
const (
	optResources = "resources"
	optRequired  = "required"
	optForbidden = "forbidden"
	optMemberOf  = "member_of"
	optAggregate = "aggregate_uuid"
	optInTree    = "in_tree"
)

// add applies one option value to a group.
func (g *candidateGroup) add(kind, value string) error {
	switch kind {
	case optResources:
		rs, err := parseResources(value)
		if err != nil {
			return err
		}
		g.resources = append(g.resources, rs...)
	case optRequired:
		if value == "" {
			return fmt.Errorf("empty trait")
		}
		g.required = append(g.required, value)
	case optForbidden:
		for _, t := range strings.Split(value, ",") {
			if t = strings.TrimPrefix(strings.TrimSpace(t), "!"); t == "" {
				return fmt.Errorf("empty trait in %q", value)
			}
			g.forbidden = append(g.forbidden, t)
		}
	case optMemberOf:
		if value == "" {
			return fmt.Errorf("empty aggregate")
		}
		g.memberOf = append(g.memberOf, value)
	case optAggregate:
		g.aggregateUUIDs = append(g.aggregateUUIDs, value)
	case optInTree:
		if g.inTree != "" && g.inTree != value {
			return fmt.Errorf("the group already has --in-tree %s: a group is in one tree", g.inTree)
		}
		g.inTree = value
	}
	return nil
}

// parseResources reads "RC:N,RC:N" (the API's form) or "RC=N"
// (osc-placement's); both separators are accepted in each item.
func parseResources(s string) ([]client.Resource, error) {
	var out []client.Resource
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		i := strings.IndexAny(item, ":=")
		if i <= 0 || i == len(item)-1 {
			return nil, fmt.Errorf("%q: want RESOURCE_CLASS:AMOUNT or RESOURCE_CLASS=AMOUNT, e.g. VCPU:4", item)
		}
		n, err := strconv.ParseInt(item[i+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: the amount must be an integer", item)
		}
		out = append(out, client.Resource{Class: item[:i], Amount: n})
	}
	return out, nil
}

// groupedValue is a flag whose values go to the current group.
type groupedValue struct {
	f    *candidateFlags
	kind string
}

// String implements pflag.Value (no default is shown).
func (v *groupedValue) String() string { return "" }

// Type implements pflag.Value.
func (v *groupedValue) Type() string { return "string" }

// Set implements pflag.Value: it records one occurrence of the flag.
func (v *groupedValue) Set(s string) error {
	return v.f.group(v.f.current).add(v.kind, s)
}

// groupSelector is --group SUFFIX: later group options go to that group.
type groupSelector struct{ f *candidateFlags }

// String implements pflag.Value (no default is shown).
func (v *groupSelector) String() string { return "" }

// Type implements pflag.Value.
func (v *groupSelector) Type() string { return "string" }

// Set implements pflag.Value: it records one occurrence of the flag.
func (v *groupSelector) Set(s string) error {
	if !suffixPattern.MatchString(s) {
		return fmt.Errorf("group suffix %q: use 1 to 64 of a-z A-Z 0-9 _ - (e.g. 1 or _NIC)", s)
	}
	v.f.current = s
	v.f.group(s)
	return nil
}

// suffixedValue is a --*-group SUFFIX=VALUE flag.
type suffixedValue struct {
	f    *candidateFlags
	kind string
}

// String implements pflag.Value (no default is shown).
func (v *suffixedValue) String() string { return "" }

// Type implements pflag.Value.
func (v *suffixedValue) Type() string { return "string" }

// Set implements pflag.Value: it records one occurrence of the flag.
func (v *suffixedValue) Set(s string) error {
	suffix, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q: want SUFFIX=VALUE, e.g. _A=VCPU:1", s)
	}
	if !suffixPattern.MatchString(suffix) {
		return fmt.Errorf("group suffix %q: use 1 to 64 of a-z A-Z 0-9 _ - (e.g. 1 or _NIC)", suffix)
	}
	return v.f.group(suffix).add(v.kind, value)
}

// requiredValues turns a group's --required and --forbidden values into
// required parameters the way osc-placement does: each any-of set is its
// own parameter, plain and forbidden traits share one (so that it works
// before 1.39, where only the last required parameter counts).
func (g *candidateGroup) requiredValues() ([]string, error) {
	var anyOf, all []string
	for _, r := range g.required {
		switch {
		case strings.HasPrefix(r, "in:"):
			anyOf = append(anyOf, r)
		case strings.Contains(r, ","):
			for _, t := range strings.Split(r, ",") {
				if strings.HasPrefix(t, "!") {
					return nil, errUsage("--required %q: a comma list means any of these traits (as in osc-placement), so it cannot hold a forbidden trait: give --required !TRAIT (or --forbidden TRAIT) separately", r)
				}
			}
			anyOf = append(anyOf, "in:"+r)
		default:
			all = append(all, r)
		}
	}
	for _, t := range g.forbidden {
		all = append(all, "!"+t)
	}
	if len(all) > 0 {
		anyOf = append(anyOf, strings.Join(all, ","))
	}
	return anyOf, nil
}

// memberOfValues turns --member-of values into member_of parameters: a bare
// comma list means any of them (in:), as in osc-placement.
func (g *candidateGroup) memberOfValues() []string {
	var out []string
	for _, m := range g.memberOf {
		if strings.Contains(m, ",") && !strings.HasPrefix(m, "in:") && !strings.HasPrefix(m, "!") {
			m = "in:" + m
		}
		out = append(out, m)
	}
	if len(g.aggregateUUIDs) > 0 {
		out = append(out, "in:"+strings.Join(g.aggregateUUIDs, ","))
	}
	return out
}

// query builds the API request; provider names in --in-tree are resolved.
func (f *candidateFlags) query(ctx context.Context, p *client.Placement, policySet bool) (client.CandidateQuery, error) {
	var q client.CandidateQuery
	hasResources, granular := false, false
	groups := append([]*candidateGroup(nil), f.groups...)
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].suffix == "" && groups[j].suffix != "" })
	for _, g := range groups {
		rg := client.RequestGroup{Suffix: g.suffix, Resources: g.resources, MemberOf: g.memberOfValues()}
		var err error
		if rg.Required, err = g.requiredValues(); err != nil {
			return q, err
		}
		if g.inTree != "" {
			if rg.InTree, err = providerUUID(ctx, p, g.inTree); err != nil {
				return q, fmt.Errorf("--in-tree: %w", err)
			}
		}
		hasResources = hasResources || len(g.resources) > 0
		granular = granular || g.suffix != ""
		q.Groups = append(q.Groups, rg)
	}
	if !hasResources {
		return q, errUsage("give at least one resource: --resources VCPU:4,MEMORY_MB:2048 or --resource VCPU=4 (see --help)")
	}
	if len(f.rootRequired) > 0 {
		q.RootRequired = strings.Join(f.rootRequired, ",")
	}
	q.SameSubtree = f.sameSubtree
	switch {
	case policySet:
		if f.groupPolicy != "none" && f.groupPolicy != "isolate" {
			return q, errUsage("--group-policy %q: use none or isolate", f.groupPolicy)
		}
		q.GroupPolicy = f.groupPolicy
	case granular:
		q.GroupPolicy = "none" // osc-placement's default
	}
	if f.limit < 0 {
		return q, errUsage("--limit %d: give a positive number", f.limit)
	}
	q.Limit = f.limit
	var err error
	q.Ranking, err = f.ranking()
	return q, err
}

// ranking builds the extension's ranking from --strategy and the --prefer
// options, nil when none is given (the standard endpoint then answers).
func (f *candidateFlags) ranking() (*client.Ranking, error) {
	if f.strategy == "" && len(f.preferTraits) == 0 && len(f.preferMemberOf) == 0 {
		return nil, nil
	}
	switch f.strategy {
	case "", "default", "pack", "spread", "random":
	default:
		return nil, errUsage("--strategy %q: use default, pack, spread or random", f.strategy)
	}
	r := &client.Ranking{Strategy: f.strategy}
	var err error
	if r.PreferTraits, err = parsePreferences("--prefer-trait", f.preferTraits); err != nil {
		return nil, err
	}
	if r.PreferMemberOf, err = parsePreferences("--prefer-member-of", f.preferMemberOf); err != nil {
		return nil, err
	}
	return r, nil
}

// parsePreferences reads NAME[:WEIGHT] values (weight 1 when left out).
func parsePreferences(option string, values []string) ([]client.Preference, error) {
	var out []client.Preference
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			name, weight := strings.TrimSpace(item), 1.0
			if i := strings.LastIndexByte(name, ':'); i >= 0 {
				w, err := strconv.ParseFloat(name[i+1:], 64)
				if err != nil || math.IsInf(w, 0) || math.IsNaN(w) {
					return nil, errUsage("%s %q: the weight after ':' must be a number", option, item)
				}
				name, weight = name[:i], w
			}
			if name == "" {
				return nil, errUsage("%s %q: give NAME[:WEIGHT]", option, item)
			}
			out = append(out, client.Preference{Name: name, Weight: weight})
		}
	}
	return out, nil
}

func newAllocationCandidateCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "allocation-candidate",
		Aliases: []string{"allocation-candidates"},
		Short:   "Find where resources can be allocated (GET /allocation_candidates)",
	}, newCandidateListCommand(o))
}

func newCandidateListCommand(o *clientOptions) *cobra.Command {
	cmd, _ := candidateListCommand(o)
	return cmd
}

// candidateListCommand builds "allocation-candidate list" and returns the
// options it parses into.
func candidateListCommand(o *clientOptions) (*cobra.Command, *candidateFlags) {
	f := &candidateFlags{}
	var explain bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List allocation candidates: sets of providers that can serve a request",
		Long: `List allocation candidates: the sets of resource providers that together can
serve the requested resources, with their traits and aggregates as asked
(GET /allocation_candidates). Each candidate is one row: the providers (by
name) and the amounts each would give, and which providers serve which
request group. A second table summarizes every provider involved (usage
and capacity per class, traits, parent). -f json or -f yaml print the API
document itself, whose allocation requests are ready to be used as
"allocation set" bodies.

Every option of osc-placement's "openstack allocation candidate list" is
accepted as is, plus the options below for the rest of the API.

The unsuffixed request group (resources may come from several providers of
one tree, or sharing providers):
  --resources VCPU:4,MEMORY_MB:2048   amounts (the API's form); repeatable
  --resource VCPU=4                   one amount (osc-placement's form); repeatable
  --required HW_CPU_X86_AVX2          a trait the providers must have; repeatable:
                                        --required !COMPUTE_STATUS_DISABLED  must not have (1.22)
                                        --required in:HW_CPU_X86_AVX,HW_CPU_X86_AVX2  any of (1.39)
                                        --required A,B  any of, as in osc-placement (= in:A,B)
  --forbidden COMPUTE_STATUS_DISABLED same as --required '!COMPUTE_STATUS_DISABLED'
  --member-of AGG                     in this aggregate (1.21); repeatable (AND, 1.24):
                                        --member-of A,B or in:A,B  in any of them
                                        --member-of '!AGG' or '!in:A,B'  in none of them (1.32)
  --in-tree PROVIDER                  only this provider's tree (UUID or name; 1.31)

Granular request groups (each group's resources come from one provider):
  --resources-group _A=VCPU:1         resources_A=VCPU:1 (1.25; suffixes like _A from 1.33)
  --required-group _A=HW_NIC_SRIOV    required_A (same forms as --required)
  --forbidden-group _A=CUSTOM_SLOW    required_A=!CUSTOM_SLOW
  --member-of-group _A=AGG            member_of_A (same forms as --member-of)
  --in-tree-group _A=PROVIDER         in_tree_A
or, as in osc-placement, --group SUFFIX makes the --resource(s), --required,
--forbidden, --member-of and --in-tree options after it apply to that group:
  --group 1 --resource VCPU=2 --required HW_CPU_X86_AVX --group 2 --resource VCPU=2

For the whole request:
  --root-required '!COMPUTE_STATUS_DISABLED'  traits of the tree's root provider
                                      (1.35); repeatable, comma lists mean all of them
  --same-subtree _A,_B                these groups' providers share a subtree (1.36);
                                      repeatable
  --group-policy none|isolate         isolate: granular groups on different providers
                                      (default none when there are granular groups)
  --limit 10                          at most this many candidates (1.16)
  --strategy pack                     the order, which decides what --limit keeps:
                                      pack (fullest trees first), spread (emptiest
                                      first), random, or default (Placement's)
  --prefer-trait CUSTOM_SSD:2         trees with this trait first, by weight (default 1;
                                      negative: last); repeatable
  --prefer-member-of AGG:1            the same for trees in this aggregate (UUID)
                                      These three use allot's extension
                                      GET /allot/v1/allocation_candidates (docs/api.md).
  --explain                           instead of the candidates, what the search removed:
                                      per request group and stage, per tree, and the
                                      nearest misses (allot's extension, docs/api.md)

Each option needs the microversion in brackets; the default, "latest", has
them all.`,
		Example: `  # 4 VCPUs and 2 GiB of memory with AVX2, in an aggregate and in compute-1's
  # tree, whose root is not disabled, plus one dedicated VCPU (group _A) and
  # one SR-IOV VF (group _B) from the same NUMA node's subtree:
  allot placement allocation-candidate list --resources VCPU:4,MEMORY_MB:2048 \
    --required HW_CPU_X86_AVX2 --member-of 6f1a5c1e-8a52-4bd4-9f2a-1b1e6c0a9d11 \
    --in-tree compute-1 --root-required '!COMPUTE_STATUS_DISABLED' \
    --resources-group _A=VCPU:1 --resources-group _B=SRIOV_NET_VF:1 \
    --same-subtree _A,_B --group-policy isolate --limit 10

  # osc-placement's form:
  allot placement allocation-candidate list --resource VCPU=1 --resource MEMORY_MB=512 --forbidden CUSTOM_SLOW

  # the API document, for scripts:
  allot placement allocation-candidate list --resources VCPU:1 -f json`,
		Args: argsExactly(),
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		policySet := c.Flags().Changed("group-policy")
		return o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
			q, err := f.query(ctx, p, policySet)
			if err != nil {
				return nil, err
			}
			if explain {
				return explainCandidates(ctx, p, q)
			}
			return listCandidates(ctx, p, q, o.out)
		})(c, args)
	}
	fl := cmd.Flags()
	fl.Var(&groupedValue{f, optResources}, "resource", "an amount `RC=N` of the current group (osc-placement's form); repeatable")
	fl.Var(&groupedValue{f, optResources}, "resources", "amounts `RC:N,...` of the current group (the API's form); repeatable")
	fl.Var(&groupedValue{f, optRequired}, "required", "a required `TRAIT` (!TRAIT forbidden, in:A,B or A,B any of); repeatable")
	fl.Var(&groupedValue{f, optForbidden}, "forbidden", "a forbidden `TRAIT`; repeatable")
	fl.Var(&groupedValue{f, optMemberOf}, "member-of", "an `AGGREGATE` the providers must be in (in:A,B or A,B any of, !A or !in:A,B none of); repeatable")
	fl.Var(&groupedValue{f, optAggregate}, "aggregate-uuid", "deprecated form of --member-of")
	fl.Var(&groupedValue{f, optInTree}, "in-tree", "only providers in the tree of this `PROVIDER` (UUID or name)")
	fl.Var(&groupSelector{f}, "group", "apply the group options after this to the request group `SUFFIX` (osc-placement's form)")
	fl.Var(&suffixedValue{f, optResources}, "resources-group", "amounts of a granular group: `SUFFIX=RC:N,...`; repeatable")
	fl.Var(&suffixedValue{f, optRequired}, "required-group", "a required trait of a granular group: `SUFFIX=TRAIT` (same forms as --required); repeatable")
	fl.Var(&suffixedValue{f, optForbidden}, "forbidden-group", "a forbidden trait of a granular group: `SUFFIX=TRAIT`; repeatable")
	fl.Var(&suffixedValue{f, optMemberOf}, "member-of-group", "an aggregate of a granular group: `SUFFIX=AGGREGATE` (same forms as --member-of); repeatable")
	fl.Var(&suffixedValue{f, optInTree}, "in-tree-group", "the tree of a granular group: `SUFFIX=PROVIDER`")
	fl.StringArrayVar(&f.rootRequired, "root-required", nil, "trait(s) `T1,!T2` the root provider of each tree must have (!T: must not have); repeatable")
	fl.StringArrayVar(&f.sameSubtree, "same-subtree", nil, "granular groups `SUFFIX,SUFFIX` whose providers must share a subtree; repeatable")
	fl.StringVar(&f.groupPolicy, "group-policy", "none", "`POLICY` of the granular groups: none, or isolate (each group on its own provider)")
	fl.IntVar(&f.limit, "limit", 0, "at most `N` candidates")
	fl.StringVar(&f.strategy, "strategy", "", "order of the candidates, which decides what --limit keeps: `ORDER` default, pack, spread or random (allot's extension)")
	fl.StringArrayVar(&f.preferTraits, "prefer-trait", nil, "rank trees having a trait higher: `TRAIT[:W]`, W a weight (1 by default); repeatable (allot's extension)")
	fl.StringArrayVar(&f.preferMemberOf, "prefer-member-of", nil, "rank trees in an aggregate higher: `AGG[:W]`, AGG its UUID, W a weight (1 by default); repeatable (allot's extension)")
	fl.BoolVar(&explain, "explain", false, "explain the search (per group and stage, trees, nearest misses) instead of listing candidates")
	_ = fl.MarkHidden("aggregate-uuid")
	return cmd, f
}

// listCandidates runs the query and builds the view: the API document for
// json and yaml, tables with provider names otherwise.
func listCandidates(ctx context.Context, p *client.Placement, q client.CandidateQuery, out outputOptions) (*view, error) {
	c, err := p.AllocationCandidates(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("allocation candidates: %w", err)
	}
	raw, err := decodeDocument(c.Raw)
	if err != nil {
		return nil, err
	}
	names, err := tableProviderNames(ctx, p, out)
	if err != nil {
		return nil, err
	}
	v := candidatesView(c, names)
	v.raw = raw
	return v, nil
}

// tableProviderNames maps provider uuids to names when the output is a
// table (or picks columns); json and yaml print the API's document as
// sent, and need none.
func tableProviderNames(ctx context.Context, p *client.Placement, out outputOptions) (map[string]string, error) {
	if (out.format == formatJSON || out.format == formatYAML) && len(out.columns) == 0 {
		return nil, nil
	}
	names, err := providerNames(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("resolve provider names: %w", err)
	}
	return names, nil
}

// unsuffixedLabel names the unsuffixed group in mappings ("" in the API);
// parentheses cannot appear in a suffix.
const unsuffixedLabel = "(unsuffixed)"

// candidatesView shows one row per allocation request and a provider
// summary table.
func candidatesView(c *client.Candidates, names map[string]string) *view {
	requests := grid{title: "allocation requests", columns: []string{"#", "allocations", "mappings"}}
	for i, ar := range c.AllocationRequests {
		rps := make([]string, 0, len(ar.Allocations))
		for rp := range ar.Allocations {
			rps = append(rps, rp)
		}
		sort.Slice(rps, func(a, b int) bool { return lessByName(names, rps[a], rps[b]) })
		var allocs lines
		for _, rp := range rps {
			var parts []string
			for _, class := range sortedKeys(ar.Allocations[rp]) {
				parts = append(parts, class+"="+strconv.FormatInt(ar.Allocations[rp][class], 10))
			}
			allocs = append(allocs, nameOf(names, rp)+": "+strings.Join(parts, ", "))
		}
		var maps lines
		for _, suffix := range sortedKeys(ar.Mappings) {
			rpNames := make([]string, 0, len(ar.Mappings[suffix]))
			for _, rp := range ar.Mappings[suffix] {
				rpNames = append(rpNames, nameOf(names, rp))
			}
			sort.Strings(rpNames)
			label := suffix
			if label == "" {
				label = unsuffixedLabel
			}
			maps = append(maps, label+": "+strings.Join(rpNames, ", "))
		}
		requests.rows = append(requests.rows, []any{i + 1, allocs, maps})
	}
	summaries := grid{title: "provider summaries", columns: []string{"provider", "uuid", "parent", "used/capacity", "traits"}}
	for _, rp := range treeOrder(c.ProviderSummaries, names) {
		s := c.ProviderSummaries[rp]
		var res lines
		for _, class := range sortedKeys(s.Resources) {
			u := s.Resources[class]
			res = append(res, fmt.Sprintf("%s=%d/%d", class, u.Used, u.Capacity))
		}
		var parent any
		if s.ParentProviderUUID != "" {
			parent = nameOf(names, s.ParentProviderUUID)
		}
		summaries.rows = append(summaries.rows, []any{nameOf(names, rp), rp, parent, res, sortedStrings(s.Traits)})
	}
	return &view{tables: []grid{requests, summaries}}
}

// lessByName orders providers by name, then UUID.
func lessByName(names map[string]string, a, b string) bool {
	na, nb := nameOf(names, a), nameOf(names, b)
	if na != nb {
		return na < nb
	}
	return a < b
}

// treeOrder lists the summarized providers tree by tree: roots by name,
// each followed by its descendants depth first, siblings by name.
func treeOrder(sums map[string]client.ProviderSummary, names map[string]string) []string {
	children := map[string][]string{}
	var roots []string
	for rp, s := range sums {
		if _, ok := sums[s.ParentProviderUUID]; s.ParentProviderUUID != "" && ok {
			children[s.ParentProviderUUID] = append(children[s.ParentProviderUUID], rp)
		} else {
			roots = append(roots, rp)
		}
	}
	byName := func(list []string) {
		sort.Slice(list, func(a, b int) bool { return lessByName(names, list[a], list[b]) })
	}
	byName(roots)
	out := make([]string, 0, len(sums))
	var walk func(rp string)
	walk = func(rp string) {
		out = append(out, rp)
		kids := children[rp]
		byName(kids)
		for _, k := range kids {
			walk(k)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}
