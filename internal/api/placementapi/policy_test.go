package placementapi_test

import (
	"testing"

	"allot/internal/api/placementapi"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// TestEveryRouteNamesARule walks the route table: a route that is not
// public must name a rule of Placement's defaults, so that no route can be
// added without one.
func TestEveryRouteNamesARule(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	svc := placementapi.New(placement.New(st, placement.Options{Logger: testserver.Quiet}), placementapi.Options{Logger: testserver.Quiet})
	enf := placementapi.DefaultPolicy()
	used := map[string]bool{}
	for _, rt := range svc.Routes {
		switch {
		case rt.Public && rt.Policy != "":
			t.Errorf("%s %s is public but names rule %q", rt.Method, rt.Pattern, rt.Policy)
		case rt.Public:
		case rt.Policy == "":
			t.Errorf("%s %s names no policy rule", rt.Method, rt.Pattern)
		case !enf.Has(rt.Policy):
			t.Errorf("%s %s names %q, which is not a default rule", rt.Method, rt.Pattern, rt.Policy)
		default:
			used[rt.Policy] = true
		}
	}
	// Every operation rule of the defaults is used by some route (the base
	// rules are referred to by the others).
	for _, r := range placementapi.PolicyDefaults() {
		if len(r.Name) > len("placement:") && r.Name[:len("placement:")] == "placement:" && !used[r.Name] {
			t.Errorf("default rule %s governs no route", r.Name)
		}
	}
}
