package api

import (
	"strings"
	"testing"

	"allot/internal/policy"
)

// TestCheckRoutes: a route that is not public must name a rule the
// enforcer registers; a public route names none.
func TestCheckRoutes(t *testing.T) {
	enf, err := policy.New([]policy.Rule{{Name: "svc:thing:list", Check: "role:reader"}}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		route   Route
		enf     *policy.Enforcer
		problem string
	}{
		{"named and registered", Route{Method: "GET", Pattern: "/things", Policy: "svc:thing:list"}, enf, ""},
		{"public", Route{Method: "GET", Pattern: "/", Public: true}, enf, ""},
		{"no rule", Route{Method: "POST", Pattern: "/things"}, enf, "POST /things names no policy rule"},
		{"no rule, no enforcer", Route{Method: "POST", Pattern: "/things"}, nil, "names no policy rule"},
		{"unregistered", Route{Method: "GET", Pattern: "/things", Policy: "svc:thing:lsit"}, enf, `names "svc:thing:lsit", which is not a registered rule`},
		{"unregistered, no enforcer", Route{Method: "GET", Pattern: "/things", Policy: "svc:thing:lsit"}, nil, ""},
		{"public with a rule", Route{Method: "GET", Pattern: "/", Public: true, Policy: "svc:thing:list"}, enf, "is public but names rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{Name: "svc", Routes: []Route{c.route}, Policy: c.enf}
			err := s.CheckRoutes()
			switch {
			case c.problem == "" && err != nil:
				t.Errorf("unexpected problem: %v", err)
			case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
				t.Errorf("got %v, want a problem containing %q", err, c.problem)
			}
		})
	}
}
