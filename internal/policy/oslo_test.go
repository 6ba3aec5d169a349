package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The differential tests compare this package with the real oslo.policy
// (testdata/oslo_diff.py run by /usr/bin/python3), when it is installed;
// they are skipped when it is not.

const python = "/usr/bin/python3"

// oslo runs the oracle on req and decodes its answer into resp.
func oslo(t *testing.T, req, resp any) {
	t.Helper()
	if err := exec.Command(python, "-c", "import oslo_policy, oslo_config").Run(); err != nil {
		skipOrFail(t, fmt.Sprintf("oslo.policy is not installed for %s (Debian's python3-oslo.policy): %v", python, err))
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("testdata/oslo_diff.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oslo oracle: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("oslo oracle output: %v", err)
	}
}

// parseCorpus are check strings worth comparing, beyond random ones.
var parseCorpus = []string{
	"", " ", "\t\n", "@", "!", "role:admin", "ROLE:admin", "Role:admin",
	"a:b or c:d and e:f", "a:b and c:d or e:f", "not a:b and c:d", "not (a:b and c:d)",
	"a:b or (c:d and e:f) and g:h", "a:b or c:d and e:f and g:h", "a:b or c:d or e:f and g:h or i:j",
	"(a:b)", "((a:b))", "(a:b and c:d) and e:f", "not not a:b", "(not a:b)", "a:b AND c:d Or NOT e:f",
	"(", ")", "()", "(a:b", "a:b)", "a:b c:d", "and", "or", "not", "a:b and", "and a:b", "a:b or or c:d",
	"not", "not not", "a:b not c:d", "'a:b'", `"a:b"`, "'a'", "'", "''", `'member':%(role.name)s`,
	`project_id:'xpto'`, "role:(foo)", "(role:(foo)", "role:foo)", "x", "a:b and x", "http://example.org",
	"https://x/%(a)s", "role:%(x)d", "role:%(x)s", "role:%(x", "role:100%", "role:%%", "k:%(a)s-%(b)s",
	"1a:b", "x-y:z", ":z", "class:z", "x.class:z", "True.x:y", "None:None", "0x1F:31", "1_000:1000",
	"01:1", "1e16:x", "-0.0:x", "'\\x41':A", "'a\\qb':x", `"it's":x`, "tenant:%(tenant_id)s",
	"is_admin:True", "a:b\u00a0and\u00a0c:d", "a:b\x1cand c:d", "a:b\u200band c:d", "(((a:b) or (c:d)) and not (e:f))",
	"rule:", "role:", "a::b", "a:b:c", "@ and !", "@ or @ and ! or not @", "not @:x", "!:x",
}

func TestOsloParse(t *testing.T) {
	inputs := slices.Clone(parseCorpus)
	r := rand.New(rand.NewPCG(1, 2))
	for range 4000 {
		inputs = append(inputs, randomRule(r))
	}
	var resp struct {
		Parse []struct {
			OK     bool     `json:"ok"`
			Str    string   `json:"str"`
			Issues []string `json:"issues"`
		} `json:"parse"`
	}
	oslo(t, map[string]any{"parse": inputs}, &resp)
	if len(resp.Parse) != len(inputs) {
		t.Fatalf("oracle answered %d of %d", len(resp.Parse), len(inputs))
	}
	for i, s := range inputs {
		py := resp.Parse[i]
		c, err := Parse(s)
		switch {
		case py.OK && len(py.Issues) == 0:
			if err != nil {
				t.Errorf("Parse(%q): %v; oslo.policy parses it as %q", s, err, py.Str)
			} else if c.String() != py.Str {
				t.Errorf("Parse(%q) = %q, oslo.policy %q", s, c.String(), py.Str)
			}
		case py.OK:
			if err == nil {
				t.Errorf("Parse(%q) = %q; oslo.policy parses it as %q but it %v at enforcement", s, c.String(), py.Str, py.Issues)
			}
		default:
			if err == nil {
				t.Errorf("Parse(%q) = %q; oslo.policy fails to parse it (%s)", s, c.String(), py.Str)
			}
		}
	}
}

// randomRule joins random tokens with random separators (or none).
func randomRule(r *rand.Rand) string {
	toks := []string{"(", ")", "((", "))", "and", "or", "not", "AND", "Or", "NOT", "role:admin", "role:A",
		"a:b", "@", "!", "'q'", `"q:r"`, "rule:x", "x", "(a:b", "a:b)", "%(p)s:v", "k:%(v)s", "k:%(v",
		"1:1", "True:%(t)s", "'m':%(n)s", "x.y:z", "http://h", "not(a:b)", "(not", "c:d))", "@:@"}
	seps := []string{" ", " ", " ", "  ", "\t", "", "\u00a0", "\x1d", "\n"}
	n := r.IntN(9)
	var b strings.Builder
	for i := range n {
		if i > 0 || r.IntN(4) == 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(toks[r.IntN(len(toks))])
	}
	if r.IntN(4) == 0 {
		b.WriteString(seps[r.IntN(len(seps))])
	}
	return b.String()
}

func TestOsloLiterals(t *testing.T) {
	kinds := []string{
		"1", "0", "00", "0_0", "01", "1_0", "1__0", "1_", "0x1f", "0X_1F", "0o17", "0b101", "0b2", "0x",
		"-1", "+1", "--1", "-0", "1.5", "-1.5", "1.", ".5", ".", "1e5", "1E-5", "1e16", "1e15", "1.5e300",
		"1e999", "-1e999", "1e-999", "0.0001", "0.00001", "123456789012345.6", "1_0.5", "1e1_0", "1e", "1j",
		"'m'", `"m"`, "'it''s'", `'a'"b"`, "''", "r'x'", "'''x'''", `'a\'b'`, `'\x41'`, `'\u00e9'`, `'\101'`, `'\q'`, `'\N{DASH}'`, "'",
		"True", "False", "None", "true", "a", "a.b", "a.b.c", "_x", "é", "a-b", "a..b", "a.", ".a", "1a",
		"class", "a.class", "True.x", "x.True", "-x", "$x", "a[0]", "f(x)",
	}
	// Literals oslo.policy understands that allot refuses (no policy uses
	// them): complex numbers, prefixed or triple-quoted strings.
	strict := map[string]bool{"1j": true, "r'x'": true}
	var resp struct {
		Literals []struct {
			Class string `json:"class"`
			Str   string `json:"str"`
		} `json:"literals"`
	}
	oslo(t, map[string]any{"literals": kinds}, &resp)
	for i, k := range kinds {
		py := resp.Literals[i]
		n := &node{kind: k}
		err := n.compileAttribute()
		if strict[k] {
			if err == nil {
				t.Errorf("attribute %q: accepted, want the error of an unsupported literal", k)
			}
			continue
		}
		switch {
		case err != nil:
			if py.Class == "literal" || py.Class == "path" {
				t.Errorf("attribute %q: %v; Python: %s %q", k, err, py.Class, py.Str)
			}
		case n.lit:
			if py.Class != "literal" || py.Str != n.litStr {
				t.Errorf("attribute %q: literal %q; Python: %s %q", k, n.litStr, py.Class, py.Str)
			}
		default:
			if py.Class != "path" {
				t.Errorf("attribute %q: a dotted name; Python: %s %q", k, py.Class, py.Str)
			}
		}
	}
}

// scenario is a random policy (defaults, file) and cases to enforce.
type scenario struct {
	Defaults           []map[string]any `json:"defaults"`
	File               *string          `json:"file"`
	EnforceScope       bool             `json:"enforce_scope"`
	EnforceNewDefaults bool             `json:"enforce_new_defaults"`
	Describe           []string         `json:"describe"`
	Cases              []map[string]any `json:"cases"`

	rules []Rule
	creds []Credentials
}

// The names of a random scenario, in an order that "rule:" references
// follow (each rule only references later names), so there is no cycle.
var scenarioNames = []string{"h0", "h1", "r0", "old_r0", "r1", "old_r1", "r2", "old_r2", "r3", "r4", "old_r4", "default", "leaf"}

var leafChecks = []string{
	"role:admin", "role:ADMIN", "role:reader", "role:%(role)s", "role:%(missing)s", "role:σ",
	"project_id:%(project_id)s", "project_id:%(node.owner)s", "user_id:%(user_id)s", "user_id:None",
	"project_id:None", "system_scope:all", "system:all", "system:None", "system_scope:None", "domain_id:d1",
	"is_admin_project:True", "is_admin_project:False", "True:%(flag)s", "False:%(flag)s", "None:%(flag)s",
	"'member':%(name)s", "1:%(num)s", "1.0:%(num)s", "roles:admin", "roles:Admin", "service_roles:service",
	"is_public_api:True", "project_name:%(project_id)s", "project_name.x:y", "tenant:%(project_id)s",
	"project_id:p%(num)s", "project_id:%(project_id)s%%", "@", "!", "rule:nope", "user_id:%(list)s",
	"extra_list:a", "extra_map.k:v", "extra_map.k.z:v", "extra_list.k:v",
}

func randomCheck(r *rand.Rand, after int, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		if after < len(scenarioNames)-1 && r.IntN(5) == 0 {
			return "rule:" + scenarioNames[after+1+r.IntN(len(scenarioNames)-after-1)]
		}
		return leafChecks[r.IntN(len(leafChecks))]
	}
	a, b := randomCheck(r, after, depth-1), randomCheck(r, after, depth-1)
	switch r.IntN(5) {
	case 0:
		return "not " + a
	case 1:
		return a + " and " + b
	case 2:
		return a + " or " + b
	case 3:
		return "(" + a + " or " + b + ") and " + randomCheck(r, after, depth-1)
	}
	return "not (" + a + " and " + b + ")"
}

func randomScenario(r *rand.Rand) *scenario {
	sc := &scenario{EnforceScope: r.IntN(2) == 0, EnforceNewDefaults: r.IntN(2) == 0}
	idx := func(name string) int { return slices.Index(scenarioNames, name) }
	scopes := [][]string{nil, {"system"}, {"project"}, {"system", "project"}, {"domain"}}
	for _, name := range []string{"r0", "r1", "r2", "r3", "r4", "leaf"} {
		rule := Rule{Name: name, Check: randomCheck(r, idx(name), 2), ScopeTypes: scopes[r.IntN(len(scopes))]}
		if old := "old_" + name; idx(old) >= 0 && r.IntN(4) > 0 {
			d := &DeprecatedRule{Name: old, Check: randomCheck(r, idx(name), 2)}
			switch r.IntN(4) {
			case 0:
				d.Name = name // same name, new check string
			case 1:
				d.Check = rule.Check // renamed only
			}
			rule.Deprecated = d
		}
		if name == "leaf" {
			rule.Check = leafChecks[r.IntN(len(leafChecks))]
			for strings.HasPrefix(rule.Check, "rule:") {
				rule.Check = "@"
			}
		}
		sc.rules = append(sc.rules, rule)
		m := map[string]any{"name": rule.Name, "check": rule.Check, "scope_types": rule.ScopeTypes}
		if d := rule.Deprecated; d != nil {
			m["deprecated"] = map[string]any{"name": d.Name, "check": d.Check}
		}
		sc.Defaults = append(sc.Defaults, m)
	}
	if r.IntN(5) > 0 {
		var b strings.Builder
		b.WriteString("# a policy file\n")
		for _, name := range scenarioNames {
			if name == "leaf" || r.IntN(3) > 0 {
				continue
			}
			check := randomCheck(r, idx(name), 2)
			if name == "default" {
				check = leafChecks[r.IntN(len(leafChecks))]
				for strings.HasPrefix(check, "rule:") {
					check = "!"
				}
			}
			if newName, ok := strings.CutPrefix(name, "old_"); ok && r.IntN(3) == 0 {
				// oslo's sample-file case: the deprecated name points at
				// the new one, whose override it then is not. A backward
				// reference: only when the new rule does not reference
				// the old name, which would be a cycle.
				rule := sc.rules[slices.IndexFunc(sc.rules, func(r Rule) bool { return r.Name == newName })]
				texts := []string{rule.Check, b.String()}
				if rule.Deprecated != nil {
					texts = append(texts, rule.Deprecated.Check)
				}
				if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "rule:"+name) }) {
					check = "rule:" + newName
				}
			}
			fmt.Fprintf(&b, "%q: %q\n", name, check)
		}
		s := b.String()
		sc.File = &s
	}
	for range 40 {
		c := randomCreds(r)
		sc.creds = append(sc.creds, c)
		name := "nope"
		if r.IntN(10) > 0 {
			name = scenarioNames[r.IntN(len(scenarioNames))]
		}
		sc.Cases = append(sc.Cases, map[string]any{"rule": name, "target": randomTarget(r), "creds": pyCreds(c)})
	}
	sc.Describe = append(slices.Clone(scenarioNames), "nope")
	return sc
}

func pick[T any](r *rand.Rand, vs ...T) T { return vs[r.IntN(len(vs))] }

func randomCreds(r *rand.Rand) Credentials {
	c := Credentials{
		UserID:         pick(r, "", "u1", "U1"),
		ProjectID:      pick(r, "", "p1", "p2"),
		DomainID:       pick(r, "", "", "d1"),
		SystemScope:    pick(r, "", "", "all"),
		IsAdminProject: r.IntN(2) == 0,
	}
	for _, role := range []string{"admin", "Admin", "reader", "member", "Σ"} {
		if r.IntN(3) == 0 {
			c.Roles = append(c.Roles, role)
		}
	}
	if r.IntN(3) == 0 {
		c.ServiceRoles = []string{"service"}
	}
	if r.IntN(2) == 0 {
		c.Extra = map[string]any{
			"is_public_api": r.IntN(2) == 0,
			"project_name":  pick[any](r, "p1", nil, "pn"),
			"extra_list":    pick[any](r, []any{"a", "b"}, []any{}, []string{"b"}, []any{map[string]any{"k": "v"}}),
			"extra_map":     pick[any](r, map[string]any{"k": "v"}, map[string]any{"k": map[string]any{"z": "v"}}, "s", map[string]any{}),
		}
	}
	return c
}

// pyCreds is what oslo.context's to_policy_values (plus a service's
// extra values) gives for c.
func pyCreds(c Credentials) map[string]any {
	none := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	roles := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	m := map[string]any{
		"user_id": none(c.UserID), "user_domain_id": none(c.UserDomainID), "system_scope": none(c.SystemScope),
		"domain_id": none(c.DomainID), "project_id": none(c.ProjectID), "project_domain_id": none(c.ProjectDomainID),
		"roles": roles(c.Roles), "is_admin_project": c.IsAdminProject,
		"service_user_id": none(c.ServiceUserID), "service_user_domain_id": none(c.ServiceUserDomainID),
		"service_project_id": none(c.ServiceProjectID), "service_project_domain_id": none(c.ServiceProjectDomainID),
		"service_roles": roles(c.ServiceRoles),
	}
	for k, v := range c.Extra {
		m[k] = v
	}
	return m
}

func randomTarget(r *rand.Rand) map[string]any {
	t := map[string]any{}
	maybe := func(key string, vs ...any) {
		if r.IntN(4) > 0 {
			t[key] = vs[r.IntN(len(vs))]
		}
	}
	maybe("project_id", "p1", "p2", nil, "None")
	maybe("node.owner", "p1", nil)
	maybe("user_id", "u1", "None", nil)
	maybe("role", "admin", "READER", "ς")
	maybe("flag", true, false, "True", nil, "None")
	maybe("num", 1, "1", 2.5, 2) // no 1.0: JSON would carry it as 1
	maybe("name", "member", "'member'")
	maybe("list", []any{"u1"}, []any{})
	return t
}

func TestOsloEnforce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var scs []*scenario
	for range 300 {
		scs = append(scs, randomScenario(r))
	}
	var resp struct {
		Scenarios []struct {
			Describe map[string]string `json:"describe"`
			Results  []string          `json:"results"`
		} `json:"scenarios"`
	}
	oslo(t, map[string]any{"scenarios": scs}, &resp)
	dir := t.TempDir()
	checked := map[string]int{}
	for i, sc := range scs {
		py := resp.Scenarios[i]
		opts := Options{EnforceScope: sc.EnforceScope, EnforceNewDefaults: sc.EnforceNewDefaults, DefaultRule: "default"}
		if sc.File != nil {
			opts.PolicyFile = filepath.Join(dir, fmt.Sprintf("policy%d.yaml", i))
			if err := os.WriteFile(opts.PolicyFile, []byte(*sc.File), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e, err := New(sc.rules, opts)
		if err != nil {
			t.Errorf("scenario %d: New: %v", i, err)
			continue
		}
		ctx := func() string {
			file := "none"
			if sc.File != nil {
				file = *sc.File
			}
			js, _ := json.Marshal(sc.Defaults)
			return fmt.Sprintf("scenario %d (scope %v, new defaults %v)\ndefaults: %s\nfile:\n%s", i, sc.EnforceScope, sc.EnforceNewDefaults, js, file)
		}
		for _, name := range sc.Describe {
			if got, want := e.Describe(name), py.Describe[name]; got != want {
				t.Errorf("%s\nDescribe(%q) = %q, oslo.policy %q", ctx(), name, got, want)
			}
		}
		for j, c := range sc.Cases {
			rule := c["rule"].(string)
			target := Target(c["target"].(map[string]any))
			_, res := e.decide(rule, target, &sc.creds[j])
			got := map[decision]string{allowed: "allow", refused: "deny", outOfScope: "scope", undefinedRule: "deny", raised: "error:TypeError"}[res]
			checked[got]++
			if want := py.Results[j]; got != want {
				js, _ := json.Marshal(c)
				t.Errorf("%s\ncase %s: %s, oslo.policy %s (effective check %q)", ctx(), js, got, want, e.Describe(rule))
			}
			if allowedErr := e.Enforce(rule, target, sc.creds[j]) == nil; allowedErr != (res == allowed) {
				t.Errorf("Enforce and decide disagree on %q", rule)
			}
		}
	}
	t.Logf("outcomes compared: %v", checked)
	for _, o := range []string{"allow", "deny", "scope", "error:TypeError"} {
		if checked[o] == 0 {
			t.Errorf("no case ended %s: the random scenarios miss it", o)
		}
	}
}

// skipOrFail skips a test whose reference implementation is not installed,
// unless ALLOT_REQUIRE_CLIENTS is set (CI sets it, having installed it):
// then its absence is a failure, never a silent skip.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("ALLOT_REQUIRE_CLIENTS") == "1" {
		t.Fatal(why + " (ALLOT_REQUIRE_CLIENTS is set)")
	}
	t.Skip(why)
}
