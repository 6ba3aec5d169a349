package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"allot/internal/testserver"
)

// fakeKeystone answers password logins: the password "secret" gets a
// token ("admin", which the Placement API under test, on noauth2, takes
// for an admin) and a catalog naming placementURL; any other password is
// refused.
func fakeKeystone(t *testing.T, placementURL string, logins *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v3/auth/tokens" {
			http.NotFound(w, r)
			return
		}
		logins.Add(1)
		var body struct {
			Auth struct {
				Identity struct {
					Password struct {
						User struct {
							Name     string `json:"name"`
							Password string `json:"password"`
						} `json:"user"`
					} `json:"password"`
				} `json:"identity"`
				Scope json.RawMessage `json:"scope"`
			} `json:"auth"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Auth.Identity.Password.User.Password != "secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`))
			return
		}
		w.Header().Set("X-Subject-Token", "admin")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{
			"expires_at": "2999-01-01T00:00:00.000000Z",
			"catalog": []any{map[string]any{"type": "placement", "name": "placement", "endpoints": []any{
				map[string]any{"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": placementURL},
			}}},
		}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClientKeystoneLogin: with --os-auth-url the client commands log in
// with the password, send the token they got and find the API in the
// catalog; a refused login and a service missing from the catalog are
// errors that say so.
func TestClientKeystoneLogin(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	var logins atomic.Int64
	ks := fakeKeystone(t, p.URL, &logins)
	auth := []string{"--os-auth-url", ks.URL + "/v3", "--os-username", "ops", "--os-project-name", "admin"}

	// No --placement-url: the catalog's endpoint is the only way to reach
	// the server.
	runCLI := func(_ *testing.T, _ string, args ...string) cliResult {
		var out, errb strings.Builder
		code := Execute(args, &out, &errb)
		return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
	}
	res := runCLI(t, "", append([]string{"placement", "resource-provider", "create", "rp-1", "--os-password", "secret"}, auth...)...)
	if res.code != 0 {
		t.Fatalf("create through the catalog: exit %d: %s", res.code, res.stderr)
	}
	res = runCLI(t, "", append([]string{"placement", "resource-provider", "list", "-f", "value", "-c", "name", "--os-password", "secret"}, auth...)...)
	if res.code != 0 || strings.TrimSpace(res.stdout) != "rp-1" {
		t.Fatalf("list: exit %d, stdout %q, stderr %s", res.code, res.stdout, res.stderr)
	}
	if logins.Load() != 2 {
		t.Errorf("%d logins for two commands", logins.Load())
	}

	res = runCLI(t, "", append([]string{"placement", "resource-provider", "list", "--os-password", "wrong"}, auth...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "refused the login of ops") {
		t.Errorf("wrong password: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, "", append([]string{"baremetal", "node", "list", "--os-password", "secret"}, auth...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "no baremetal endpoint") {
		t.Errorf("no baremetal in the catalog: exit %d, stderr %q", res.code, res.stderr)
	}
}
