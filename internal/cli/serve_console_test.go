package cli

import (
	"bytes"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/auth"
	"allot/internal/testserver"
)

// The console's way to the Bare Metal API: under /baremetal on the
// Placement listener, the same API as on its own listener (its
// authentication, policy, error format and request ids), only when the
// console is on and the Bare Metal API is served.
func TestServeConsoleBaremetal(t *testing.T) {
	serve := func(baremetal bool, disableConsole bool) Listening {
		cfg := ServeConfig{PlacementListen: "127.0.0.1:0", DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"),
			PlacementAuth: auth.NoAuth2, BaremetalAuth: auth.NoAuth2, CandidateOrder: "default", DisableConsole: disableConsole,
			AllocationWorkers: -1}
		if baremetal {
			cfg.BaremetalListen = "127.0.0.1:0"
		}
		return serveForTest(t, cfg)
	}
	admin := http.Header{"X-Auth-Token": {"admin"}, "X-Openstack-Ironic-Api-Version": {"1.79"}}
	l := serve(true, false)
	via := "http://" + l.Placement + "/baremetal"
	direct := "http://" + l.Baremetal
	if status, body := call(t, "POST", direct+"/v1/nodes", admin, map[string]any{"driver": "fake-hardware", "name": "n1"}); status != 201 {
		t.Fatalf("create a node: %d %s", status, body)
	}
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		body               any
	}{
		{"a list", "GET", "/v1/nodes?fields=name,provision_state", admin, nil},
		{"the root", "GET", "/", nil, nil},
		{"no token: the API's own 401", "GET", "/v1/nodes", http.Header{}, nil},
		{"a caller policy refuses", "POST", "/v1/allocations", http.Header{"X-Auth-Token": {"nobody"}, "X-Openstack-Ironic-Api-Version": {"1.79"}},
			map[string]any{"resource_class": "gold"}},
		{"a bad body: Ironic's error", "POST", "/allot/v1/allocations/dry-run", admin, map[string]any{"resource_class": 7}},
		{"an unknown node", "GET", "/v1/nodes/nope", admin, nil},
		{"the summary", "GET", "/allot/v1/summary", admin, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := testserver.Send(t, tc.method, direct+tc.path, tc.header, tc.body)
			got := testserver.Send(t, tc.method, via+tc.path, tc.header, tc.body)
			// Links name the listener a request came to: compare without them.
			norm := func(b []byte) string { return strings.ReplaceAll(string(b), l.Placement+"/baremetal", l.Baremetal) }
			if got.Status != want.Status || norm(got.Body) != norm(want.Body) {
				t.Errorf("via the console: %d %s\non its own listener: %d %s", got.Status, got.Body, want.Status, want.Body)
			}
			if got.Header.Get("Openstack-Request-Id") == "" || got.Header.Get("X-Openstack-Ironic-Api-Maximum-Version") == "" {
				t.Errorf("via the console, the Bare Metal API's headers are missing: %v", got.Header)
			}
		})
	}
	if status, _ := call(t, "GET", "http://"+l.Placement+"/", nil, nil); status != 200 {
		t.Errorf("the Placement root beside it: %d", status)
	}

	// Without the console, or without the Bare Metal API, /baremetal is
	// Placement's 404 like any path it does not have.
	for name, l := range map[string]Listening{"console off": serve(true, true), "no bare metal": serve(false, false)} {
		status, body := call(t, "GET", "http://"+l.Placement+"/baremetal/v1/nodes", http.Header{"X-Auth-Token": {"admin"}}, nil)
		if status != 404 || !strings.Contains(string(body), `"errors"`) {
			t.Errorf("%s: GET /baremetal/v1/nodes: %d %s, want Placement's 404", name, status, body)
		}
	}
}

// A Bare Metal API that trusts every caller, served by the console on a
// Placement listener other hosts reach, is warned about; on loopback, or
// with authentication, it is not.
func TestServeWarnsNoauthOnPlacement(t *testing.T) {
	for _, tc := range []struct {
		listen string
		noauth bool
		warn   bool
	}{
		{"127.0.0.1:8778", true, false},
		{"localhost:8778", true, false},
		{"[::1]:8778", true, false},
		{":8778", true, true},
		{"10.0.0.1:8778", true, true},
		{"10.0.0.1:8778", false, false},
	} {
		var buf bytes.Buffer
		warnNoauthOnPlacement(ServeConfig{PlacementListen: tc.listen}, tc.noauth, slog.New(slog.NewTextHandler(&buf, nil)))
		if got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "--baremetal-auth-strategy"); got != tc.warn {
			t.Errorf("%s, noauth %v: warned %v, want %v: %s", tc.listen, tc.noauth, got, tc.warn, buf.String())
		}
	}
}
