package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Enforcer holds the effective rules (defaults, deprecated rules and the
// policy file's overrides) and decides. It is immutable once built and
// safe for concurrent use.
type Enforcer struct {
	opts     Options
	rules    map[string]*entry
	deflt    *entry // Options.DefaultRule's rule, when defined
	unknown  []string
	warnings []string
}

// Options returns the options the enforcer was built with (services that
// read [oslo_policy] switches directly, as Ironic reads
// enforce_new_defaults, ask here).
func (e *Enforcer) Options() Options { return e.opts }

// entry is an effective rule.
type entry struct {
	name       string
	check      *node
	registered bool
	scopes     []string // the registered rule's ScopeTypes
	scopeMask  uint8    // scopes as bits; 0: no scope check

	// Where the check comes from, for errors: the policy file's line, or
	// a default.
	file string
	line int
}

// Scope bits of a token or a rule.
const (
	bitSystem uint8 = 1 << iota
	bitDomain
	bitProject
)

var scopeBits = map[string]uint8{ScopeSystem: bitSystem, ScopeDomain: bitDomain, ScopeProject: bitProject}

// registration is a validated, parsed default.
type registration struct {
	rule  Rule
	check *node
	dep   *node // the deprecated rule's check
	mask  uint8
}

// New builds an Enforcer from the defaults and options, as oslo.policy's
// Enforcer builds its rules on first use (load_rules): every rule of the
// policy file, registered or not, then each registered default the file
// does not override, combined with its deprecated rule as
// _handle_deprecated_rule does. A malformed default or policy file, a
// rule registered twice and a cycle of "rule:" references are errors
// (a *LoadError naming the file, line and rule when there is one).
func New(defaults []Rule, opts Options) (*Enforcer, error) {
	regs, err := register(defaults)
	if err != nil {
		return nil, err
	}
	e := &Enforcer{opts: opts, rules: make(map[string]*entry, len(defaults))}
	var file []fileRule
	if opts.PolicyFile != "" {
		var isJSON bool
		file, isJSON, err = loadFile(opts.PolicyFile)
		if err != nil {
			return nil, err
		}
		if isJSON {
			e.warnf("%s: JSON policy files are deprecated by oslo.policy since Victoria: convert it to YAML (oslopolicy-convert-json-to-yaml)", opts.PolicyFile)
		}
	}
	fileRules := make(map[string]*fileRule, len(file))
	order := make([]*entry, 0, len(file)+len(regs)) // for deterministic errors
	for i := range file {
		fr := &file[i]
		fileRules[fr.name] = fr
		ent := &entry{name: fr.name, check: fr.check, file: opts.PolicyFile, line: fr.line}
		e.rules[fr.name] = ent
		order = append(order, ent)
	}
	deprecatedNames := map[string]bool{}
	for _, reg := range regs {
		r := reg.rule
		if r.Deprecated != nil {
			deprecatedNames[r.Deprecated.Name] = true
		}
		if ent := e.rules[r.Name]; ent != nil {
			ent.registered, ent.scopes, ent.scopeMask = true, r.ScopeTypes, reg.mask
			if ent.check.String() == reg.check.String() {
				e.warnf("%s:%d: rule %q is the same as the default: it can be removed from the policy file", ent.file, ent.line, r.Name)
			}
			continue
		}
		ent := &entry{name: r.Name, check: reg.check, registered: true, scopes: r.ScopeTypes, scopeMask: reg.mask}
		if r.Deprecated != nil {
			e.deprecated(ent, reg, fileRules)
		}
		e.rules[r.Name] = ent
		order = append(order, ent)
	}
	if opts.DefaultRule != "" {
		e.deflt = e.rules[opts.DefaultRule]
	}

	// Resolve "rule:" references once, so that evaluation follows pointers.
	referenced := map[string]bool{}
	undefined := map[string][]string{}
	for _, ent := range order {
		walk(ent.check, func(n *node) {
			if n.op != opRule {
				return
			}
			referenced[n.match] = true
			n.ref = e.rules[n.match]
			if n.ref == nil {
				n.ref = e.deflt
				if !slices.Contains(undefined[ent.name], n.match) {
					undefined[ent.name] = append(undefined[ent.name], n.match)
				}
			}
		})
	}
	if err := findCycle(order); err != nil {
		return nil, err
	}
	for _, ent := range order {
		if refs := undefined[ent.name]; refs != nil {
			what := "fails"
			if e.deflt != nil {
				what = "uses rule " + fmt.Sprintf("%q", e.deflt.name)
			}
			e.warnf("%srule %q references undefined rule %s: that check %s", ent.where(), ent.name, quoteAll(refs), what)
		}
	}
	for _, fr := range file {
		ent := e.rules[fr.name]
		if !ent.registered && !deprecatedNames[fr.name] && !referenced[fr.name] && fr.name != opts.DefaultRule {
			e.unknown = append(e.unknown, fr.name)
		}
	}
	slices.Sort(e.unknown)
	return e, nil
}

// register validates and parses the defaults, as oslo.policy's RuleDefault
// and register_default do.
func register(defaults []Rule) ([]registration, error) {
	regs := make([]registration, 0, len(defaults))
	seen := make(map[string]bool, len(defaults))
	for _, r := range defaults {
		fail := func(err error) ([]registration, error) {
			return nil, &LoadError{Rule: r.Name, Err: err}
		}
		if r.Name == "" {
			return nil, &LoadError{Err: errors.New("a default rule has no name")}
		}
		if seen[r.Name] {
			return fail(errors.New("registered twice"))
		}
		seen[r.Name] = true
		reg := registration{rule: r}
		for _, s := range r.ScopeTypes {
			bit, ok := scopeBits[s]
			if !ok {
				return fail(fmt.Errorf("unknown scope type %q (want %q, %q or %q)", s, ScopeSystem, ScopeDomain, ScopeProject))
			}
			if reg.mask&bit != 0 {
				return fail(fmt.Errorf("scope type %q is listed twice", s))
			}
			reg.mask |= bit
		}
		var err error
		if reg.check, err = parseText(r.Check); err != nil {
			return fail(err)
		}
		if d := r.Deprecated; d != nil {
			if d.Name == "" {
				return fail(errors.New("its deprecated rule has no name"))
			}
			if reg.dep, err = parseText(d.Check); err != nil {
				return fail(fmt.Errorf("deprecated rule %q: %w", d.Name, err))
			}
		}
		regs = append(regs, reg)
	}
	return regs, nil
}

// deprecated sets ent's check for a default with a deprecated rule that
// the policy file does not override, as oslo.policy 4.0.0's
// _handle_deprecated_rule: the file's rule for the deprecated name when
// it overrides that name (unless it only points at the new rule), else
// "new or deprecated" unless enforce_new_defaults is on or the two check
// strings are the same, else the new check.
func (e *Enforcer) deprecated(ent *entry, reg registration, fileRules map[string]*fileRule) {
	r, d := reg.rule, reg.rule.Deprecated
	if d.Name != r.Name {
		if fr := fileRules[d.Name]; fr != nil {
			if fr.check.String() != "rule:"+r.Name {
				ent.check, ent.file, ent.line = fr.check, e.opts.PolicyFile, fr.line
				e.warnf("%s:%d: rule %q was renamed %q: its override applies to %q; rename it in the policy file",
					e.opts.PolicyFile, fr.line, d.Name, r.Name, r.Name)
				return
			}
		}
	}
	if !e.opts.EnforceNewDefaults && d.Check != r.Check {
		ent.check = &node{op: opOr, kids: []*node{reg.check, reg.dep}}
	}
}

// findCycle reports a cycle of "rule:" references as an error: oslo.policy
// would recurse until Python's stack runs out.
func findCycle(order []*entry) error {
	const (
		unseen = iota
		active
		done
	)
	state := make(map[*entry]int, len(order))
	var path []*entry
	var visit func(*entry) error
	visit = func(ent *entry) error {
		state[ent] = active
		path = append(path, ent)
		var err error
		walk(ent.check, func(n *node) {
			if err != nil || n.op != opRule || n.ref == nil {
				return
			}
			switch state[n.ref] {
			case active:
				i := slices.Index(path, n.ref)
				names := make([]string, 0, len(path)-i+1)
				for _, p := range path[i:] {
					names = append(names, p.name)
				}
				names = append(names, n.ref.name)
				first := path[i]
				err = &LoadError{File: first.file, Line: first.line, Rule: first.name,
					Err: fmt.Errorf("cycle of rule references: %s", strings.Join(names, " -> "))}
			case unseen:
				err = visit(n.ref)
			}
		})
		path = path[:len(path)-1]
		state[ent] = done
		return err
	}
	for _, ent := range order {
		if state[ent] == unseen {
			if err := visit(ent); err != nil {
				return err
			}
		}
	}
	return nil
}

// walk calls f on every node of the tree n, once each.
func walk(n *node, f func(*node)) {
	f(n)
	for _, k := range n.kids {
		walk(k, f)
	}
}

func (ent *entry) where() string {
	if ent.file == "" {
		return "default "
	}
	return fmt.Sprintf("%s:%d: ", ent.file, ent.line)
}

func (e *Enforcer) warnf(format string, args ...any) {
	e.warnings = append(e.warnings, fmt.Sprintf(format, args...))
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Has reports whether a rule of that name is registered.
func (e *Enforcer) Has(name string) bool {
	ent := e.rules[name]
	return ent != nil && ent.registered
}

// Rules returns the names of the effective rules (registered or from the
// policy file), sorted.
func (e *Enforcer) Rules() []string {
	names := make([]string, 0, len(e.rules))
	for name := range e.rules {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Describe returns the effective check of a rule in the policy language
// (oslo.policy's str() of it, e.g. "(role:admin or role:reader)" for a
// default combined with its deprecated rule), or "" when no rule of that
// name is defined.
func (e *Enforcer) Describe(name string) string {
	ent := e.rules[name]
	if ent == nil {
		return ""
	}
	return ent.check.String()
}

// Unknown returns the rules of the policy file that are not registered,
// not the deprecated name of a registered rule, and not referenced by
// another rule (sorted): most likely misspelt, so worth a warning. They
// are kept and can be enforced by name.
func (e *Enforcer) Unknown() []string { return slices.Clone(e.unknown) }

// Warnings returns what oslo.policy would log as warnings when loading
// these rules: rules that reference an undefined rule, overrides of a
// deprecated rule name, file rules identical to their default, and a
// JSON policy file. Unknown rules are listed by Unknown, not here.
func (e *Enforcer) Warnings() []string { return slices.Clone(e.warnings) }

// Enforce returns nil when creds may perform rule on target, else a
// *Denied, as oslo.policy's Enforcer.enforce: with enforce_scope on, a
// registered rule refuses a token whose scope (system when system_scope
// is set, else domain when domain_id is set, else project) is not among
// its ScopeTypes; a rule that is not defined fails closed (or uses
// Options.DefaultRule). Where oslo.policy would raise while evaluating (a
// dotted name reaching a value of Credentials.Extra that is not a
// mapping), the action is refused.
func (e *Enforcer) Enforce(rule string, target Target, creds Credentials) error {
	ent, res := e.decide(rule, target, &creds)
	switch res {
	case allowed:
		return nil
	case outOfScope:
		return &Denied{Rule: rule, Scope: true, TokenScope: tokenScopeName(&creds), ScopeTypes: ent.scopes}
	case undefinedRule:
		return &Denied{Rule: rule, Undefined: true}
	}
	return &Denied{Rule: rule}
}

// Check is Enforce as a boolean.
func (e *Enforcer) Check(rule string, target Target, creds Credentials) bool {
	_, res := e.decide(rule, target, &creds)
	return res == allowed
}

// decision is the outcome of decide.
type decision uint8

const (
	allowed decision = iota
	refused
	outOfScope
	undefinedRule
	raised // the check raises in oslo.policy: refused
)

func (e *Enforcer) decide(rule string, target Target, c *Credentials) (*entry, decision) {
	ent := e.rules[rule]
	if ent == nil {
		if e.deflt == nil {
			return nil, undefinedRule
		}
		// No scope check: the rule is not registered.
		ent = e.deflt
	} else if ent.scopeMask != 0 && e.opts.EnforceScope && ent.scopeMask&tokenScope(c) == 0 {
		return ent, outOfScope
	}
	switch ent.check.eval(target, c) {
	case resTrue:
		return ent, allowed
	case resRaise:
		return ent, raised
	}
	return ent, refused
}

// tokenScope is oslo.policy's _enforce_scope's token scope.
func tokenScope(c *Credentials) uint8 {
	switch {
	case c.SystemScope != "":
		return bitSystem
	case c.DomainID != "":
		return bitDomain
	}
	return bitProject
}

func tokenScopeName(c *Credentials) string {
	switch tokenScope(c) {
	case bitSystem:
		return ScopeSystem
	case bitDomain:
		return ScopeDomain
	}
	return ScopeProject
}
