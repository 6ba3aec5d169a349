package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/api/placementapi"
	"allot/internal/policy"
)

// TestPolicyDefaults: "allot policy defaults" prints every default rule;
// the YAML sample, uncommented, is a policy file that loads and changes
// nothing.
func TestPolicyDefaults(t *testing.T) {
	names := runCLI(t, "", "policy", "defaults", "--api", "placement", "--format", "names")
	if names.code != 0 {
		t.Fatalf("exit %d: %s", names.code, names.stderr)
	}
	want := placementapi.PolicyDefaults()
	got := strings.Fields(names.stdout)
	if len(got) != len(want) {
		t.Fatalf("%d names printed, %d rules", len(got), len(want))
	}
	for i, r := range want {
		if got[i] != r.Name {
			t.Errorf("name %d: %q, want %q", i, got[i], r.Name)
		}
	}

	sample := runCLI(t, "", "policy", "defaults")
	if sample.code != 0 {
		t.Fatalf("exit %d: %s", sample.code, sample.stderr)
	}
	var file strings.Builder
	for _, line := range strings.Split(sample.stdout, "\n") {
		if strings.HasPrefix(line, `#"`) { // a rule, commented out
			file.WriteString(line[1:] + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	enf, err := policy.New(want, policy.Options{PolicyFile: path, EnforceNewDefaults: true})
	if err != nil {
		t.Fatalf("the sample does not load: %v", err)
	}
	if u := enf.Unknown(); len(u) != 0 {
		t.Errorf("the sample names unknown rules %v", u)
	}

	for _, args := range [][]string{{"policy", "defaults", "--api", "nova"}, {"policy", "defaults", "--format", "xml"}} {
		if res := runCLI(t, "", args...); res.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, res.code, ExitUsage)
		}
	}
}

// TestServeRefusesMalformedPolicy: a policy file that does not parse stops
// "allot serve" at start, naming the file, the line and the reason, for
// either API; nothing is served.
func TestServeRefusesMalformedPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	db := "sqlite:" + filepath.Join(dir, "allot.db")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"placement", []string{"--policy-file", write("p.yaml", "\"placement:traits:list\": \"role:reader\"\n\"placement:usages\": \"role:reader and (system_scope:all\"\n")},
			[]string{"p.yaml:2:", "placement:usages", "never closed"}},
		{"baremetal", []string{"--baremetal-auth-strategy", "noauth2", "--baremetal-policy-file", write("b.json", "{\n  \"baremetal:node:get\": \"rule:is_admin or\"\n}\n")},
			[]string{"b.json:2:", "baremetal:node:get", "a check must follow"}},
		{"cycle", []string{"--policy-file", write("c.yaml", "a: rule:b\nb: rule:a\n")},
			[]string{"c.yaml:", "a -> b -> a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"serve", "--db", db, "--placement-listen", "127.0.0.1:0", "--baremetal-listen", "127.0.0.1:0"}, c.args...)
			res := runCLI(t, "", args...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, ExitUsage, res.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr %q lacks %q", res.stderr, w)
				}
			}
		})
	}
}
