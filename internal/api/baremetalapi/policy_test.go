package baremetalapi_test

import (
	"strings"
	"testing"

	"allot/internal/api/baremetalapi"
	"allot/internal/auth"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// TestEveryRouteNamesARule: every route of the table names one of
// Ironic's default rules (api.Service.CheckRoutes; Handler refuses a table
// that does not).
func TestEveryRouteNamesARule(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	svc := baremetal.New(placement.New(st, placement.Options{Logger: testserver.Quiet}), baremetal.Options{Logger: testserver.Quiet})
	api := baremetalapi.New(svc, baremetalapi.Options{Logger: testserver.Quiet, Auth: auth.NoAuth2Credentials})
	if err := api.CheckRoutes(); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyDefaultsLoad: the defaults load with every combination of
// oslo.policy's switches, each rule once, every operation rule (and the
// deprecated rules) referring only to registered rules.
func TestPolicyDefaultsLoad(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range baremetalapi.PolicyDefaults() {
		if seen[r.Name] {
			t.Errorf("rule %s registered twice", r.Name)
		}
		seen[r.Name] = true
		if r.Description == "" {
			t.Errorf("rule %s has no description", r.Name)
		}
	}
	for _, r := range baremetalapi.PolicyDefaults() {
		checks := []string{r.Check}
		if r.Deprecated != nil {
			checks = append(checks, r.Deprecated.Check)
		}
		for _, c := range checks {
			for _, part := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(c)) {
				if name, ok := strings.CutPrefix(part, "rule:"); ok && !seen[name] {
					t.Errorf("rule %s refers to %s, which is not registered", r.Name, name)
				}
			}
		}
	}
	for _, opts := range []policy.Options{{}, {EnforceScope: true}, {EnforceNewDefaults: true}, {EnforceScope: true, EnforceNewDefaults: true}} {
		if _, err := policy.New(baremetalapi.PolicyDefaults(), opts); err != nil {
			t.Errorf("%+v: %v", opts, err)
		}
	}
}
