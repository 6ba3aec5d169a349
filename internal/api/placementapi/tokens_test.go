package placementapi_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"allot/internal/api/placementapi"
	"allot/internal/auth"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// signInServer is the Placement API in keystone mode against a Keystone
// that does not answer (a loopback port that closes every connection at
// once, kept open so that nothing else can take it): every sign-in that
// reaches Keystone is a 503, so that any other answer was decided by allot
// before asking it. (A real Keystone answers in
// e2e/console_keystone_test.go.)
func signInServer(t testing.TB) (*httptest.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	gone := "http://" + ln.Addr().String() + "/v3"
	k, err := auth.NewKeystone(auth.KeystoneConfig{AuthURL: gone, Username: "allot", Password: "pw", Timeout: 2 * time.Second}, testserver.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	svc := placement.New(testserver.OpenStore(t, "sqlite"), placement.Options{Logger: testserver.Quiet})
	srv := httptest.NewServer(placementapi.New(svc, placementapi.Options{Logger: testserver.Quiet,
		Auth: k.ForService("placement"), Challenge: k.Challenge(), SignIn: k.SignIn}).Handler())
	t.Cleanup(srv.Close)
	return srv, gone
}

// POST /allot/v1/tokens: bad requests are the Placement API's 4xx before
// Keystone is asked; a good one goes to Keystone (here unreachable: 503);
// without keystone the path says how this server authenticates.
func TestSignInEndpoint(t *testing.T) {
	srv, keystoneURL := signInServer(t)
	json := http.Header{"Accept": {"application/json"}}
	good := map[string]any{"username": "alice", "password": "s3cret-pw", "project_name": "alpha"}
	for _, tc := range []struct {
		name   string
		header http.Header
		query  string
		body   any
		status int
		says   string
	}{
		{"Keystone is asked", json, "", good, 503, "Keystone at " + keystoneURL + " is unreachable"},
		{"system scope is asked too", json, "", map[string]any{"username": "alice", "password": "s3cret-pw", "system_scope": "all"}, 503, "is unreachable"},
		{"no scope", json, "", map[string]any{"username": "alice", "password": "s3cret-pw"}, 400, "Give project_name"},
		{"both scopes", json, "", map[string]any{"username": "alice", "password": "s3cret-pw", "project_name": "a", "system_scope": "all"}, 400, "not both"},
		{"no password", json, "", map[string]any{"username": "alice", "project_name": "a"}, 400, "password"},
		{"empty password", json, "", map[string]any{"username": "alice", "password": "", "project_name": "a"}, 400, "password"},
		{"unknown field", json, "", map[string]any{"username": "alice", "password": "s3cret-pw", "project_name": "a", "domain": "x"}, 400, "domain"},
		{"system scope not all", json, "", map[string]any{"username": "alice", "password": "s3cret-pw", "system_scope": "some"}, 400, "system_scope"},
		{"a project domain without a project", json, "", map[string]any{"username": "alice", "password": "s3cret-pw", "system_scope": "all", "project_domain_name": "Default"}, 400, "no project"},
		{"malformed", json, "", `{"username": "alice", "password": "s3cret-pw"`, 400, "Malformed JSON"},
		{"a query", json, "?user=alice", good, 400, "takes no query parameters"},
		{"not JSON", http.Header{"Accept": {"text/plain"}}, "", good, 406, ""},
		{"password too long", json, "", map[string]any{"username": "alice", "password": strings.Repeat("x", 4097), "project_name": "a"}, 400, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testserver.Send(t, "POST", srv.URL+"/allot/v1/tokens"+tc.query, tc.header, tc.body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.says) {
				t.Fatalf("%d %s, want %d saying %q", r.Status, r.Body, tc.status, tc.says)
			}
			if errs, _ := r.JSON()["errors"].([]any); len(errs) != 1 && r.Status != 406 { // Placement's 406 is text
				t.Errorf("not Placement's error format: %s", r.Body)
			}
			if strings.Contains(string(r.Body), "s3cret-pw") {
				t.Errorf("the answer repeats the password: %s", r.Body)
			}
		})
	}
	// Without a content type a body is refused (Placement's rule).
	req, _ := http.NewRequest("POST", srv.URL+"/allot/v1/tokens", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 && resp.StatusCode != 415 {
		t.Errorf("a body without a content type: %d, want 400 or 415", resp.StatusCode)
	}
	// Only POST.
	if r := testserver.Send(t, "GET", srv.URL+"/allot/v1/tokens", json, nil); r.Status != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}
	// The rest of the API still wants a token.
	if r := testserver.Send(t, "GET", srv.URL+"/allot/v1/permissions", json, nil); r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Keystone uri=") {
		t.Errorf("GET /allot/v1/permissions without a token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}

	// noauth2: no Keystone to ask, and the 404 says so.
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		r := testserver.Send(t, "POST", p.URL+"/allot/v1/tokens", json, good)
		if r.Status != 404 || !strings.Contains(string(r.Body), "does not use Keystone") {
			t.Errorf("noauth2: %d %s", r.Status, r.Body)
		}
	})
}

// TestParseSignIn: what each accepted body asks Keystone for.
func TestParseSignIn(t *testing.T) {
	for _, tc := range []struct {
		body string
		want auth.PasswordSignIn
	}{
		{`{"username": "u", "password": "p", "project_name": "alpha"}`, auth.PasswordSignIn{Username: "u", Password: "p", Project: "alpha"}},
		{`{"username": "u", "password": "p", "user_domain_name": "Users", "project_name": "alpha", "project_domain_name": "Projects"}`,
			auth.PasswordSignIn{Username: "u", Password: "p", UserDomain: "Users", Project: "alpha", ProjectDomain: "Projects"}},
		{`{"username": "u", "password": "p", "user_domain_name": "Default", "system_scope": "all"}`,
			auth.PasswordSignIn{Username: "u", Password: "p", UserDomain: "Default", System: true}},
	} {
		got, err := placementapi.ParseSignIn([]byte(tc.body))
		if err != nil || got != tc.want {
			t.Errorf("ParseSignIn(%s) = %+v, %v; want %+v", tc.body, got, err, tc.want)
		}
	}
}

// FuzzSignInBody sends arbitrary bodies to POST /allot/v1/tokens: the
// parser accepts a sign-in or answers a 400 that does not repeat the
// password, and the endpoint never answers a 5xx other than Keystone's
// absence.
func FuzzSignInBody(f *testing.F) {
	srv, _ := signInServer(f)
	h := srv.Config.Handler
	for _, s := range []string{
		`{}`, `[]`, `null`, `""`, `{"username": "u", "password": "p", "project_name": "a"}`,
		`{"username": "u", "password": "p", "system_scope": "all"}`,
		`{"username": "u", "password": "p", "system_scope": "all", "project_name": "a"}`,
		`{"username": "", "password": "\u0000", "user_domain_name": "Default", "project_domain_name": "Default"}`,
		`{"username": "u", "password": "p", "project_name": "a", "extra": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := placementapi.ParseSignIn(body)
		if err != nil {
			if e, ok := model.AsError(err); !ok || e.Kind != model.KindBadRequest {
				t.Fatalf("ParseSignIn(%q): %v, want a 400", body, err)
			}
			return
		}
		if in.Username == "" || in.Password == "" || in.System == (in.Project != "") {
			t.Fatalf("ParseSignIn(%q) accepted %+v", body, in)
		}
		req := httptest.NewRequest("POST", "/allot/v1/tokens", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 503 { // accepted bodies go to Keystone, which is not there
			t.Fatalf("POST /allot/v1/tokens %q: %d %s", body, rec.Code, rec.Body)
		}
	})
}
