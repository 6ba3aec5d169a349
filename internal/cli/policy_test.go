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
