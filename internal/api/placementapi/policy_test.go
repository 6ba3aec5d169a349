package placementapi_test

import (
	"strings"
	"testing"

	"allot/internal/api/placementapi"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// TestEveryRouteNamesARule: every route of the table names one of
// Placement's default rules (api.Service.CheckRoutes; Handler refuses a
// table that does not), and every operation rule of the defaults governs
// a route.
func TestEveryRouteNamesARule(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	svc := placementapi.New(placement.New(st, placement.Options{Logger: testserver.Quiet}), placementapi.Options{Logger: testserver.Quiet})
	if err := svc.CheckRoutes(); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, rt := range svc.Routes {
		used[rt.Policy] = true
	}
	for _, r := range placementapi.PolicyDefaults() {
		if strings.HasPrefix(r.Name, "placement:") && !used[r.Name] {
			t.Errorf("default rule %s governs no route", r.Name)
		}
	}
}
