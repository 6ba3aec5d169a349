package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// placementLike are defaults shaped like Placement 8.0's.
var placementLike = []Rule{
	{Name: "admin_api", Check: "role:admin"},
	{Name: "system_reader_api", Check: "role:reader and system_scope:all"},
	{Name: "project_reader_api", Check: "role:reader and project_id:%(project_id)s"},
	{
		Name:       "placement:resource_providers:list",
		Check:      "rule:system_reader_api",
		ScopeTypes: []string{ScopeSystem},
		Deprecated: &DeprecatedRule{Name: "placement:resource_providers:list", Check: "rule:admin_api"},
	},
	{
		Name:       "placement:usages",
		Check:      "rule:system_reader_api or rule:project_reader_api",
		ScopeTypes: []string{ScopeSystem, ScopeProject},
		Deprecated: &DeprecatedRule{Name: "placement:usages", Check: "rule:admin_api"},
	},
	{
		Name:       "placement:traits:list",
		Check:      "rule:system_reader_api",
		ScopeTypes: []string{ScopeSystem},
		Deprecated: &DeprecatedRule{Name: "placement:traits:list", Check: "rule:system_reader_api"},
	},
	{
		// Renamed and tightened.
		Name:       "placement:allocations:create",
		Check:      "role:admin and system_scope:all",
		ScopeTypes: []string{ScopeSystem},
		Deprecated: &DeprecatedRule{Name: "placement:allocations:old_create", Check: "rule:admin_api"},
	},
}

var (
	systemAdmin   = Credentials{UserID: "sa", SystemScope: "all", Roles: []string{"admin", "reader"}}
	systemReader  = Credentials{UserID: "sr", SystemScope: "all", Roles: []string{"reader"}}
	projectAdmin  = Credentials{UserID: "pa", ProjectID: "p1", Roles: []string{"admin", "member", "reader"}}
	projectReader = Credentials{UserID: "pr", ProjectID: "p1", Roles: []string{"reader"}}
	domainAdmin   = Credentials{UserID: "da", DomainID: "d1", Roles: []string{"admin"}}
)

// writeFile writes a policy file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustNew(t *testing.T, defaults []Rule, opts Options) *Enforcer {
	t.Helper()
	e, err := New(defaults, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

type enforceCase struct {
	rule   string
	target Target
	creds  Credentials
	want   bool
}

func checkCases(t *testing.T, e *Enforcer, cases []enforceCase) {
	t.Helper()
	for _, c := range cases {
		err := e.Enforce(c.rule, c.target, c.creds)
		if (err == nil) != c.want {
			t.Errorf("Enforce(%q, %v, user %q): %v, want allowed=%v (effective check %q)", c.rule, c.target, c.creds.UserID, err, c.want, e.Describe(c.rule))
		}
		if got := e.Check(c.rule, c.target, c.creds); got != c.want {
			t.Errorf("Check(%q, user %q) = %v, want %v", c.rule, c.creds.UserID, got, c.want)
		}
		var d *Denied
		if err != nil && (!errors.As(err, &d) || d.Rule != c.rule) {
			t.Errorf("Enforce(%q): %T %v, want a *Denied naming the rule", c.rule, err, err)
		}
	}
}

func TestEnforceDefaults(t *testing.T) {
	e := mustNew(t, placementLike, Options{})
	own := Target{"project_id": "p1"}
	other := Target{"project_id": "p2"}
	checkCases(t, e, []enforceCase{
		{"placement:resource_providers:list", nil, systemReader, true},
		{"placement:resource_providers:list", nil, projectAdmin, true},   // the deprecated rule: admin
		{"placement:resource_providers:list", nil, projectReader, false}, // neither
		{"placement:usages", own, projectReader, true},
		{"placement:usages", other, projectReader, false},
		{"placement:usages", own, systemReader, true},
		{"placement:traits:list", nil, systemReader, true},
		{"placement:traits:list", nil, projectAdmin, false}, // same check: no legacy or
		{"placement:allocations:create", nil, projectAdmin, true},
		{"admin_api", nil, domainAdmin, true},
		{"no:such:rule", nil, systemAdmin, false},
	})
	for name, want := range map[string]string{
		"placement:resource_providers:list": "(rule:system_reader_api or rule:admin_api)",
		"placement:traits:list":             "rule:system_reader_api",
		"placement:allocations:create":      "((role:admin and system_scope:all) or rule:admin_api)",
		"system_reader_api":                 "(role:reader and system_scope:all)",
		"no:such:rule":                      "",
	} {
		if got := e.Describe(name); got != want {
			t.Errorf("Describe(%q) = %q, want %q", name, got, want)
		}
	}
	if !e.Has("admin_api") || e.Has("no:such:rule") || e.Has("placement:allocations:old_create") {
		t.Error("Has: wrong")
	}
	if got := e.Rules(); len(got) != len(placementLike) || !slices.IsSorted(got) {
		t.Errorf("Rules() = %v", got)
	}
	if got := e.Unknown(); len(got) != 0 {
		t.Errorf("Unknown() = %v", got)
	}
	err := e.Enforce("no:such:rule", nil, systemAdmin)
	var d *Denied
	if !errors.As(err, &d) || !d.Undefined || d.Scope {
		t.Errorf("undefined rule: %#v", err)
	}
}

func TestEnforceNewDefaults(t *testing.T) {
	e := mustNew(t, placementLike, Options{EnforceNewDefaults: true})
	checkCases(t, e, []enforceCase{
		{"placement:resource_providers:list", nil, systemReader, true},
		{"placement:resource_providers:list", nil, projectAdmin, false},
		{"placement:allocations:create", nil, projectAdmin, false},
		{"placement:allocations:create", nil, systemAdmin, true},
	})
	if got, want := e.Describe("placement:resource_providers:list"), "rule:system_reader_api"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

func TestEnforceFileOverride(t *testing.T) {
	path := writeFile(t, "policy.yaml", `
# Operators' overrides.
"placement:resource_providers:list": "role:member and project_id:%(project_id)s"
"placement:usages": "rule:reader_or_owner"
"reader_or_owner": "role:reader or user_id:%(user_id)s"
`)
	e := mustNew(t, placementLike, Options{PolicyFile: path})
	checkCases(t, e, []enforceCase{
		// The override replaces the default and its deprecated rule.
		{"placement:resource_providers:list", Target{"project_id": "p1"}, projectAdmin, true},
		{"placement:resource_providers:list", Target{"project_id": "p1"}, systemAdmin, false},
		{"placement:usages", Target{"user_id": "x"}, projectReader, true},
		{"placement:usages", Target{"user_id": "da"}, domainAdmin, true},
		{"placement:usages", Target{"user_id": "x"}, domainAdmin, false},
		// An unregistered rule of the file can be enforced by name.
		{"reader_or_owner", Target{"user_id": "x"}, projectReader, true},
	})
	if got, want := e.Describe("placement:resource_providers:list"), "(role:member and project_id:%(project_id)s)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if !e.Has("placement:usages") || e.Has("reader_or_owner") {
		t.Error("Has: wrong")
	}
	// reader_or_owner is referenced, so not reported as unknown.
	if got := e.Unknown(); len(got) != 0 {
		t.Errorf("Unknown() = %v", got)
	}
}

func TestEnforceDeprecatedName(t *testing.T) {
	const old = "placement:allocations:old_create"
	const name = "placement:allocations:create"
	tests := []struct {
		file     string
		opts     Options
		describe string
	}{
		// The file overrides the old name: the new rule takes that check,
		// even with enforce_new_defaults (oslo.policy 4.0.0).
		{`"` + old + `": "role:member"`, Options{}, "role:member"},
		{`"` + old + `": "role:member"`, Options{EnforceNewDefaults: true}, "role:member"},
		// Unless the old name only points at the new one (sample files).
		{`"` + old + `": "rule:` + name + `"`, Options{}, "((role:admin and system_scope:all) or rule:admin_api)"},
		{`"` + old + `": "rule:` + name + `"`, Options{EnforceNewDefaults: true}, "(role:admin and system_scope:all)"},
		// Or the file overrides the new name too.
		{`{"` + old + `": "role:member", "` + name + `": "role:x"}`, Options{}, "role:x"},
	}
	for _, tt := range tests {
		tt.opts.PolicyFile = writeFile(t, "policy.yaml", tt.file)
		e := mustNew(t, placementLike, tt.opts)
		if got := e.Describe(name); got != tt.describe {
			t.Errorf("file %s, %+v: Describe = %q, want %q", tt.file, tt.opts, got, tt.describe)
		}
		if got := e.Describe(old); got == "" {
			t.Errorf("file %s: the old name is not kept as a rule", tt.file)
		}
		if got := e.Unknown(); len(got) != 0 {
			t.Errorf("file %s: Unknown() = %v; a deprecated name is known", tt.file, got)
		}
	}
	e := mustNew(t, placementLike, Options{PolicyFile: writeFile(t, "policy.yaml", `"`+old+`": "role:member"`)})
	checkCases(t, e, []enforceCase{
		{name, nil, projectReader, false},
		{name, nil, Credentials{ProjectID: "p", Roles: []string{"member"}}, true},
	})
	if w := e.Warnings(); len(w) != 1 || !strings.Contains(w[0], "policy.yaml:1: rule \""+old+"\" was renamed") {
		t.Errorf("Warnings() = %q", w)
	}
}

func TestEnforceScope(t *testing.T) {
	rules := []Rule{
		{Name: "sys", Check: "role:admin", ScopeTypes: []string{ScopeSystem}},
		{Name: "proj", Check: "role:admin", ScopeTypes: []string{ScopeProject}},
		{Name: "dom", Check: "role:admin", ScopeTypes: []string{ScopeDomain, ScopeSystem}},
		{Name: "any", Check: "role:admin"},
		{Name: "refs_sys", Check: "rule:sys"}, // a reference checks no scope
	}
	on := mustNew(t, rules, Options{EnforceScope: true})
	off := mustNew(t, rules, Options{})
	tests := []struct {
		rule         string
		creds        Credentials
		on, off      bool
		scopeRefused bool
	}{
		{"sys", systemAdmin, true, true, false},
		{"sys", projectAdmin, false, true, true},
		{"sys", domainAdmin, false, true, true},
		{"proj", projectAdmin, true, true, false},
		{"proj", systemAdmin, false, true, true},
		{"dom", domainAdmin, true, true, false},
		{"dom", systemAdmin, true, true, false},
		{"dom", projectAdmin, false, true, true},
		{"any", domainAdmin, true, true, false},
		{"refs_sys", projectAdmin, true, true, false},
		{"sys", systemReader, false, false, false}, // in scope, refused by the check
		// System scope wins over a domain or project in the token.
		{"sys", Credentials{SystemScope: "all", DomainID: "d", ProjectID: "p", Roles: []string{"admin"}}, true, true, false},
		{"dom", Credentials{DomainID: "d", ProjectID: "p", Roles: []string{"admin"}}, true, true, false},
	}
	for _, tt := range tests {
		err := on.Enforce(tt.rule, nil, tt.creds)
		if (err == nil) != tt.on {
			t.Errorf("enforce_scope on: %s by %s: %v, want allowed=%v", tt.rule, tt.creds.UserID, err, tt.on)
		}
		var d *Denied
		if errors.As(err, &d) && d.Scope != tt.scopeRefused {
			t.Errorf("enforce_scope on: %s by %s: Scope=%v, want %v", tt.rule, tt.creds.UserID, d.Scope, tt.scopeRefused)
		}
		if got := off.Check(tt.rule, nil, tt.creds); got != tt.off {
			t.Errorf("enforce_scope off: %s by %s: %v, want %v", tt.rule, tt.creds.UserID, got, tt.off)
		}
	}
	// A file override keeps the registered scope types; an unregistered
	// rule of the file has none.
	e := mustNew(t, rules, Options{EnforceScope: true, PolicyFile: writeFile(t, "p.yaml", "sys: '@'\nextra: '@'\n")})
	if e.Check("sys", nil, projectAdmin) || !e.Check("sys", nil, systemReader) || !e.Check("extra", nil, projectReader) {
		t.Error("file overrides and scope: wrong")
	}
	err := on.Enforce("sys", nil, projectAdmin)
	if got, want := err.Error(), "sys requires a scope of [system], request was made with project scope"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEnforceReferences(t *testing.T) {
	rules := []Rule{
		{Name: "admin", Check: "role:admin"},
		{Name: "owner", Check: "project_id:%(project_id)s"},
		{Name: "admin_or_owner", Check: "rule:admin or rule:owner"},
		{Name: "uses_missing", Check: "rule:missing or role:x"},
		{Name: "not_admin", Check: "not rule:admin"},
	}
	e := mustNew(t, rules, Options{})
	checkCases(t, e, []enforceCase{
		{"admin_or_owner", Target{"project_id": "p1"}, projectReader, true},
		{"admin_or_owner", Target{"project_id": "p2"}, projectReader, false},
		{"admin_or_owner", Target{"project_id": "p2"}, projectAdmin, true},
		{"uses_missing", nil, systemAdmin, false},
		{"uses_missing", nil, Credentials{Roles: []string{"x"}}, true},
		{"not_admin", nil, projectReader, true},
		{"not_admin", nil, projectAdmin, false},
	})
	if w := e.Warnings(); len(w) != 1 || w[0] != `default rule "uses_missing" references undefined rule "missing": that check fails` {
		t.Errorf("Warnings() = %q", w)
	}

	// Options.DefaultRule stands in for undefined rules, by name and in
	// references, when the file defines it (oslo's policy_default_rule).
	path := writeFile(t, "policy.yaml", "default: role:member\n")
	d := mustNew(t, rules, Options{PolicyFile: path, DefaultRule: "default"})
	member := Credentials{ProjectID: "p", Roles: []string{"member"}}
	checkCases(t, d, []enforceCase{
		{"uses_missing", nil, member, true},
		{"no:such:rule", nil, member, true},
		{"no:such:rule", nil, projectReader, false},
	})
	if got := d.Unknown(); len(got) != 0 {
		t.Errorf("Unknown() = %v; the default rule is known", got)
	}
	// Without DefaultRule, "default" is an ordinary rule.
	n := mustNew(t, rules, Options{PolicyFile: path})
	checkCases(t, n, []enforceCase{{"no:such:rule", nil, member, false}})
}

func TestEnforceCycles(t *testing.T) {
	tests := []struct {
		name     string
		defaults []Rule
		file     string
		want     string
	}{
		{"self", []Rule{{Name: "a", Check: "rule:a"}}, "",
			`default rule "a": cycle of rule references: a -> a`},
		{"defaults", []Rule{{Name: "a", Check: "role:x or rule:b"}, {Name: "b", Check: "not rule:c"}, {Name: "c", Check: "rule:a and @"}}, "",
			`default rule "a": cycle of rule references: a -> b -> c -> a`},
		{"file", []Rule{{Name: "a", Check: "role:x"}}, "b: role:y\na: rule:c\nc: rule:a\n",
			`policy.yaml:2: rule "a": cycle of rule references: a -> c -> a`},
		{"file and defaults", []Rule{{Name: "a", Check: "rule:b"}, {Name: "b", Check: "role:b"}}, "b: rule:a\n",
			`policy.yaml:1: rule "b": cycle of rule references: b -> a -> b`},
		{"deprecated", []Rule{{Name: "a", Check: "role:a", Deprecated: &DeprecatedRule{Name: "a", Check: "rule:b"}}, {Name: "b", Check: "rule:a"}}, "",
			`default rule "a": cycle of rule references: a -> b -> a`},
	}
	for _, tt := range tests {
		opts := Options{}
		if tt.file != "" {
			opts.PolicyFile = writeFile(t, "policy.yaml", tt.file)
		}
		_, err := New(tt.defaults, opts)
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.name, tt.want)
			continue
		}
		if got := strings.TrimPrefix(err.Error(), filepath.Dir(opts.PolicyFile)+"/"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	path := writeFile(t, "policy.yaml", `
"placement:resource_providers:lsit": "@"
"helper": "role:admin"
"admin_api": "rule:helper"
"placement:allocations:old_create": "role:member"
"zzz": "!"
`)
	e := mustNew(t, placementLike, Options{PolicyFile: path})
	if got, want := e.Unknown(), []string{"placement:resource_providers:lsit", "zzz"}; !slices.Equal(got, want) {
		t.Errorf("Unknown() = %q, want %q", got, want)
	}
	if e.Check("zzz", nil, projectReader) || !e.Check("placement:resource_providers:lsit", nil, projectReader) {
		t.Error("an unknown rule is not enforced as the file says")
	}
}

func TestDefaultsErrors(t *testing.T) {
	tests := []struct {
		rules []Rule
		want  string
	}{
		{[]Rule{{Name: "a", Check: "role:a"}, {Name: "a", Check: "role:b"}}, `default rule "a": registered twice`},
		{[]Rule{{Name: "", Check: "@"}}, "a default rule has no name"},
		{[]Rule{{Name: "a", Check: "role:a and"}}, `default rule "a": the rule ends after "and" at column 8: a check must follow`},
		{[]Rule{{Name: "a", Check: "(role:a"}}, `default rule "a": unbalanced parenthesis: "(" at column 1 is never closed`},
		{[]Rule{{Name: "a", Check: "@", ScopeTypes: []string{"projects"}}}, `default rule "a": unknown scope type "projects"`},
		{[]Rule{{Name: "a", Check: "@", ScopeTypes: []string{"system", "system"}}}, `scope type "system" is listed twice`},
		{[]Rule{{Name: "a", Check: "@", Deprecated: &DeprecatedRule{Name: "b", Check: "admin"}}}, `default rule "a": deprecated rule "b": check "admin" at column 1: not a check`},
		{[]Rule{{Name: "a", Check: "@", Deprecated: &DeprecatedRule{Check: "@"}}}, "its deprecated rule has no name"},
		{[]Rule{{Name: "a", Check: "http://policy.example/check"}}, "http checks (asking a remote server) are not supported"},
	}
	for _, tt := range tests {
		_, err := New(tt.rules, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): %v, want %q", tt.rules, err, tt.want)
		}
		var le *LoadError
		if err != nil && !errors.As(err, &le) {
			t.Errorf("New(%+v): %T, want a *LoadError", tt.rules, err)
		}
	}
}

func TestDeniedError(t *testing.T) {
	tests := []struct {
		d    Denied
		want string
	}{
		{Denied{Rule: "placement:usages"}, "placement:usages is disallowed by policy"},
		{Denied{Rule: "x", Undefined: true}, "x is disallowed by policy (no rule of that name is defined)"},
		{Denied{Rule: "x", Scope: true, TokenScope: "domain", ScopeTypes: []string{"system", "project"}},
			"x requires a scope of [system, project], request was made with domain scope"},
	}
	for _, tt := range tests {
		if got := tt.d.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestEnforceConcurrent(t *testing.T) {
	e := mustNew(t, placementLike, Options{EnforceScope: true})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds := []Credentials{systemReader, projectReader, projectAdmin}[i%3]
			for range 2000 {
				e.Check("placement:usages", Target{"project_id": "p1"}, creds)
				e.Enforce("placement:resource_providers:list", nil, creds)
			}
		}()
	}
	wg.Wait()
}

func TestEnforceAllocations(t *testing.T) {
	rules := append(slices.Clone(placementLike),
		Rule{Name: "role_check", Check: "role:reader and not role:%(role)s and project_id:%(project_id)s and is_admin_project:False"})
	e := mustNew(t, rules, Options{EnforceScope: true})
	target := Target{"project_id": "p1", "role": "observer"}
	allocs := testing.AllocsPerRun(200, func() {
		if e.Enforce("placement:usages", target, projectReader) != nil {
			t.Fatal("refused")
		}
		if e.Check("placement:resource_providers:list", nil, projectReader) {
			t.Fatal("allowed")
		}
		if !e.Check("role_check", target, Credentials{ProjectID: "p1", Roles: []string{"ADMIN", "Reader"}}) {
			t.Fatal("refused")
		}
	})
	if allocs != 0 {
		t.Errorf("Enforce allocates %v times per call", allocs)
	}
}

func BenchmarkEnforce(b *testing.B) {
	e, err := New(placementLike, Options{EnforceScope: true})
	if err != nil {
		b.Fatal(err)
	}
	target := Target{"project_id": "p1"}
	b.Run("allowed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if e.Enforce("placement:usages", target, projectReader) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("refused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if e.Enforce("placement:usages", Target{"project_id": "p2"}, projectReader) == nil {
				b.Fatal("allowed")
			}
		}
	})
}
