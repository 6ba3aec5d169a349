package baremetalapi_test

import (
	"strings"
	"testing"

	"allot/internal/api/baremetalapi"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// TestEveryRouteNamesARule walks the route table: a route that is not
// public must name a rule of Ironic's defaults, so that no route can be
// added without one.
func TestEveryRouteNamesARule(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	svc := baremetal.New(placement.New(st, placement.Options{Logger: testserver.Quiet}), baremetal.Options{Logger: testserver.Quiet})
	api := baremetalapi.New(svc, baremetalapi.Options{Logger: testserver.Quiet})
	enf := baremetalapi.DefaultPolicy()
	for _, rt := range api.Routes {
		switch {
		case rt.Public && rt.Policy != "":
			t.Errorf("%s %s is public but names rule %q", rt.Method, rt.Pattern, rt.Policy)
		case rt.Public:
		case rt.Policy == "":
			t.Errorf("%s %s names no policy rule", rt.Method, rt.Pattern)
		case !enf.Has(rt.Policy):
			t.Errorf("%s %s names %q, which is not a default rule", rt.Method, rt.Pattern, rt.Policy)
		}
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
