package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyFileFormats(t *testing.T) {
	defaults := []Rule{{Name: "a", Check: "role:a"}, {Name: "b", Check: "role:b"}}
	tests := []struct {
		name, file string
		describe   map[string]string
		json       bool
	}{
		{"yaml", "a: role:x or role:y\n'b': \"\"\n", map[string]string{"a": "(role:x or role:y)", "b": "@"}, false},
		{"yaml block scalar", "a: >\n  role:x\n  or role:y\n", map[string]string{"a": "(role:x or role:y)"}, false},
		{"yaml alias", "a: &r role:x\nb: *r\n", map[string]string{"a": "role:x", "b": "role:x"}, false},
		{"yaml flow", "{a: 'role:x', b: '!'}", map[string]string{"a": "role:x", "b": "!"}, false},
		{"json", `{"a": "role:x", "b": "rule:a"}`, map[string]string{"a": "role:x", "b": "rule:a"}, true},
		{"json with tabs", "{\n\t\"a\": \"role:x\"\n}\n", map[string]string{"a": "role:x"}, true},
		{"json legacy lists", `{"a": [["role:x"], ["role:y", "project_id:%(project_id)s"]], "b": []}`,
			map[string]string{"a": "(role:x or (role:y and project_id:%(project_id)s))", "b": "@"}, true},
		{"yaml legacy lists", "a:\n- [role:x]\n- role:y\n", map[string]string{"a": "(role:x or role:y)"}, false},
		{"empty", "", map[string]string{"a": "role:a"}, false},
		{"comments only", "# nothing\n", map[string]string{"a": "role:a"}, false},
		{"json null", "null", map[string]string{"a": "role:a"}, true},
		{"empty mapping", "{}", map[string]string{"a": "role:a"}, true},
	}
	for _, tt := range tests {
		path := writeFile(t, "policy.file", tt.file)
		e, err := New(defaults, Options{PolicyFile: path})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for name, want := range tt.describe {
			if got := e.Describe(name); got != want {
				t.Errorf("%s: Describe(%q) = %q, want %q", tt.name, name, got, want)
			}
		}
		isJSON := false
		for _, w := range e.Warnings() {
			isJSON = isJSON || strings.Contains(w, "JSON policy files are deprecated")
		}
		if isJSON != tt.json {
			t.Errorf("%s: JSON deprecation warning %v, want %v", tt.name, isJSON, tt.json)
		}
	}
}

func TestPolicyFileErrors(t *testing.T) {
	defaults := []Rule{{Name: "placement:traits:list", Check: "role:reader"}}
	tests := []struct {
		name, file string
		line       int
		want       string // the error, after the file's directory
	}{
		{"bad rule", "# overrides\n\n\"placement:traits:list\": \"(role:admin or role:reader\"\n", 3,
			`policy.yaml:3: rule "placement:traits:list": unbalanced parenthesis: "(" at column 1 is never closed`},
		{"bad rule json", "{\n  \"a\": \"@\",\n  \"placement:traits:list\": \"role:admin role:x\"\n}\n", 3,
			`policy.yaml:3: rule "placement:traits:list": "and" or "or" is missing before "role:x" at column 12`},
		{"bad list json", "{\"a\": [[\"admin\"]]}", 1, `policy.yaml:1: rule "a": item 1.1: check "admin": not a check`},
		{"http", "a: '@'\nb: http://x/%(y)s\n", 2, `policy.yaml:2: rule "b": check "http://x/%(y)s" at column 1: http checks`},
		{"yaml syntax", "a: role:x\nb: [role:y\n", 2, `policy.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		{"yaml indentation", "a: role:x\n  b: role:y\n", 2, "policy.yaml:2: invalid YAML: mapping values are not allowed in this context"},
		{"tabs", "a:\trole:x\n\tb: role:y\n", 2, "policy.yaml:2: invalid YAML"},
		{"unclosed mapping", "a: role:x\nb: {c: role:y\n\n", 2, "policy.yaml:2: invalid YAML: did not find expected ',' or '}'"},
		{"bad indentation", "a: role:x\n b: role:y\nc: d\n", 2, "policy.yaml:2: invalid YAML: mapping values are not allowed"},
		{"duplicate", "a: role:x\nb: '@'\na: role:y\n", 3, `policy.yaml:3: rule "a": defined twice (first at line 1)`},
		{"duplicate json", "{\"a\": \"@\",\n\"a\": \"!\"}", 2, `policy.yaml:2: rule "a": defined twice (first at line 1)`},
		{"null", "a: role:x\nb:\n", 2, `policy.yaml:2: rule "b": the rule has no value (oslo.policy would allow everyone)`},
		{"null json", `{"b": null}`, 1, `policy.yaml:1: rule "b": the rule has no value`},
		{"number", "a: 12\n", 1, `policy.yaml:1: rule "a": the check must be a string, not a number: quote it`},
		{"bool json", `{"a": true}`, 1, `policy.yaml:1: rule "a": the check must be a string, not a boolean`},
		{"mapping", "a:\n  b: c\n", 1, `policy.yaml:1: rule "a": the check must be a string, not a mapping`},
		{"number key", "12: role:x\n", 1, "policy.yaml:1: a rule name must be a string, not a number"},
		{"merge key", "a: '@'\n<<: {x: role:x}\n", 2, "policy.yaml:2: YAML merge keys (<<) are not supported"},
		{"not a mapping", "- role:x\n", 1, "policy.yaml:1: the policy file must be a mapping of rule names to check strings"},
		{"json list", `["role:x"]`, 1, "policy.yaml:1: the policy file must be a mapping"},
		{"two documents", "a: role:x\n---\nb: role:y\n", 2, "policy.yaml:2: the policy file has more than one YAML document"},
		{"cycle", "a: rule:b\nb: rule:a\n", 1, `policy.yaml:1: rule "a": cycle of rule references: a -> b -> a`},
	}
	for _, tt := range tests {
		path := writeFile(t, "policy.yaml", tt.file)
		_, err := New(defaults, Options{PolicyFile: path})
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		got := strings.TrimPrefix(err.Error(), filepath.Dir(path)+string(filepath.Separator))
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		var le *LoadError
		if !errors.As(err, &le) || le.File != path || le.Line != tt.line {
			t.Errorf("%s: %#v, want a *LoadError at %s:%d", tt.name, err, path, tt.line)
		}
	}
	_, err := New(defaults, Options{PolicyFile: filepath.Join(t.TempDir(), "absent.yaml")})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("absent file: %v", err)
	}
}

func TestPolicyFileWarnings(t *testing.T) {
	defaults := []Rule{{Name: "a", Check: "role:a or role:b"}, {Name: "b", Check: "rule:nope"}}
	path := writeFile(t, "policy.yaml", "a: '(role:a) or role:b'\n")
	e := mustNew(t, defaults, Options{PolicyFile: path})
	w := e.Warnings()
	want := []string{
		path + `:1: rule "a" is the same as the default: it can be removed from the policy file`,
		`default rule "b" references undefined rule "nope": that check fails`,
	}
	if len(w) != len(want) {
		t.Fatalf("Warnings() = %q, want %q", w, want)
	}
	for i := range want {
		if w[i] != want[i] {
			t.Errorf("warning %d: %q, want %q", i, w[i], want[i])
		}
	}
}
