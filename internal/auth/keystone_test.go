package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"allot/internal/model"
	"allot/internal/policy"
)

// fakeKeystone is the part of Keystone's v3 API that KeystoneAuth uses:
// password login (POST /v3/auth/tokens) and token validation
// (GET /v3/auth/tokens with X-Subject-Token), which needs the current
// service token.
type fakeKeystone struct {
	*httptest.Server
	mu       sync.Mutex
	password string
	service  string         // the service token in force
	tokens   map[string]any // subject token -> its "token" body
	expired  map[string]bool
	status   int           // when not 0, every validation answers it
	hold     chan struct{} // when not nil, validations wait on it
	logins   atomic.Int64
	gets     atomic.Int64
	arrived  chan struct{} // when not nil, receives each validation as it arrives
}

func newFakeKeystone(t *testing.T) *fakeKeystone {
	f := &fakeKeystone{password: "pw", tokens: map[string]any{}, expired: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKeystone) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/auth/tokens" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodPost:
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
			} `json:"auth"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if body.Auth.Identity.Password.User.Password != f.password {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`)
			return
		}
		n := f.logins.Add(1)
		f.service = fmt.Sprintf("svc-%d", n)
		w.Header().Set("X-Subject-Token", f.service)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":{"expires_at":%q,"user":{"id":"allot"},"catalog":[]}}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	case http.MethodGet:
		f.gets.Add(1)
		if f.arrived != nil {
			f.arrived <- struct{}{}
		}
		if f.hold != nil {
			<-f.hold
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.status != 0 {
			w.WriteHeader(f.status)
			return
		}
		if r.Header.Get("X-Auth-Token") != f.service {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		subject := r.Header.Get("X-Subject-Token")
		body, ok := f.tokens[subject]
		if !ok || (f.expired[subject] && r.URL.Query().Get("allow_expired") != "1") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":404,"message":"Could not recognize Fernet token","title":"Not Found"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token": body})
	}
}

// add registers a token: a project-scoped one unless body says otherwise.
func (f *fakeKeystone) add(token string, expires time.Time, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := map[string]any{
		"expires_at": expires.UTC().Format(time.RFC3339Nano),
		"user":       map[string]any{"id": "u-" + token, "name": token, "domain": map[string]any{"id": "default"}},
		"roles":      []any{map[string]any{"name": "member"}},
	}
	if _, scoped := body["system"]; !scoped {
		if _, scoped := body["domain"]; !scoped {
			b["project"] = map[string]any{"id": "p-" + token, "domain": map[string]any{"id": "default"}}
		}
	}
	for k, v := range body {
		b[k] = v
	}
	f.tokens[token] = b
}

func (f *fakeKeystone) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func newTestKeystone(t *testing.T, f *fakeKeystone, mod func(*KeystoneConfig)) *KeystoneAuth {
	t.Helper()
	cfg := KeystoneConfig{AuthURL: f.URL + "/v3", Username: "allot", Password: "pw", ProjectName: "service",
		UserDomainName: "Default", ProjectDomainName: "Default", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	k, err := NewKeystone(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func request(headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/resource_providers", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func mustAuth(t *testing.T, k *KeystoneAuth, r *http.Request) policy.Credentials {
	t.Helper()
	c, err := k.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return c
}

func wantKind(t *testing.T, err error, kind model.Kind, contains string) {
	t.Helper()
	if !model.IsKind(err, kind) {
		t.Fatalf("error %v: want kind %v", err, kind)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func TestKeystoneCredentials(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	hour := time.Now().Add(time.Hour)
	f.add("proj", hour, map[string]any{"roles": []any{map[string]any{"name": "reader"}, map[string]any{"name": "member"}}})
	f.add("sys", hour, map[string]any{"system": map[string]any{"all": true}, "roles": []any{map[string]any{"name": "admin"}}})
	f.add("dom", hour, map[string]any{"domain": map[string]any{"id": "d1", "name": "D1"}, "is_admin_project": false})

	c := mustAuth(t, k, request("X-Auth-Token", "proj"))
	want := policy.Credentials{UserID: "u-proj", UserDomainID: "default", ProjectID: "p-proj", ProjectDomainID: "default",
		Roles: []string{"reader", "member"}, IsAdminProject: true}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("project token: %+v, want %+v", c, want)
	}
	c = mustAuth(t, k, request("X-Auth-Token", " sys\t")) // surrounding spaces are not the token's
	if c.SystemScope != "all" || c.ProjectID != "" || fmt.Sprint(c.Roles) != "[admin]" {
		t.Errorf("system token: %+v", c)
	}
	c = mustAuth(t, k, request("X-Storage-Token", "dom"))
	if c.DomainID != "d1" || c.ProjectID != "" || c.SystemScope != "" || c.IsAdminProject {
		t.Errorf("domain token (X-Storage-Token): %+v", c)
	}
	if f.logins.Load() != 1 || k.Validations() != 3 {
		t.Errorf("logins %d, validations %d: want 1 and 3", f.logins.Load(), k.Validations())
	}
	if got := k.Challenge(); got != `Keystone uri="`+f.URL+`/v3"` {
		t.Errorf("Challenge() = %s", got)
	}
	k2 := newTestKeystone(t, f, func(c *KeystoneConfig) { c.WWWAuthenticateURI = "https://keystone.example/v3" })
	if got := k2.Challenge(); got != `Keystone uri="https://keystone.example/v3"` {
		t.Errorf("Challenge() with www_authenticate_uri = %s", got)
	}
}

func TestKeystoneStripsIdentityHeaders(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	f.add("reader", time.Now().Add(time.Hour), map[string]any{"roles": []any{map[string]any{"name": "reader"}}})
	forged := []string{"X-Roles", "admin", "X-Role", "admin", "X-Project-Id", "other", "X-Tenant-Id", "other",
		"X-User-Id", "root", "X-Domain-Id", "d", "OpenStack-System-Scope", "all", "X-Is-Admin-Project", "True",
		"X-Identity-Status", "Confirmed", "X-Service-Roles", "service", "X-Service-User-Id", "nova",
		"X-Service-Identity-Status", "Confirmed", "X-Service-Catalog", "[]", "X-User-Domain-Id", "x"}
	r := request(append([]string{"X-Auth-Token", "reader"}, forged...)...)
	c := mustAuth(t, k, r)
	if c.ProjectID != "p-reader" || c.UserID != "u-reader" || c.SystemScope != "" || c.DomainID != "" ||
		fmt.Sprint(c.Roles) != "[reader]" || c.ServiceUserID != "" || c.ServiceRoles != nil || c.UserDomainID != "default" {
		t.Errorf("forged headers changed the identity: %+v", c)
	}
	for i := 0; i < len(forged); i += 2 {
		if v := r.Header.Get(forged[i]); v != "" {
			t.Errorf("header %s: %q left on the request", forged[i], v)
		}
	}
	if r.Header.Get("X-Auth-Token") != "reader" {
		t.Error("X-Auth-Token was removed")
	}
	// Even a refused request leaves no forged header behind.
	r = request("X-Roles", "admin")
	if _, err := k.Authenticate(r); !model.IsKind(err, model.KindUnauthorized) || r.Header.Get("X-Roles") != "" {
		t.Errorf("no token: %v, X-Roles %q", err, r.Header.Get("X-Roles"))
	}
}

func TestKeystoneRefusedTokens(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	now := time.Now()
	k.now = func() time.Time { return now }
	f.add("old", now.Add(-time.Minute), nil)
	f.set(func() { f.expired["old"] = true })

	for _, r := range []*http.Request{request(), request("X-Auth-Token", ""), request("X-Auth-Token", "garbage"),
		request("X-Auth-Token", "old"), request("X-Auth-Token", "bad\x01token")} {
		_, err := k.Authenticate(r)
		wantKind(t, err, model.KindUnauthorized, "requires authentication")
	}
	// garbage and old were asked once each; the control character never.
	if k.Validations() != 2 {
		t.Errorf("validations %d, want 2", k.Validations())
	}
	// Refusals are remembered, briefly.
	k.Authenticate(request("X-Auth-Token", "garbage"))
	if k.Validations() != 2 {
		t.Errorf("a refused token was validated again at once: %d validations", k.Validations())
	}
	now = now.Add(NegativeCacheTime)
	k.Authenticate(request("X-Auth-Token", "garbage"))
	if k.Validations() != 3 {
		t.Errorf("after NegativeCacheTime: %d validations, want 3", k.Validations())
	}
}

func TestKeystoneCacheNeverPastExpiry(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, func(c *KeystoneConfig) { c.TokenCacheTime = 100 * time.Second })
	now := time.Now()
	k.now = func() time.Time { return now }
	f.add("short", now.Add(30*time.Second), nil)
	f.add("long", now.Add(time.Hour), nil)

	mustAuth(t, k, request("X-Auth-Token", "short"))
	mustAuth(t, k, request("X-Auth-Token", "long"))
	now = now.Add(29 * time.Second)
	mustAuth(t, k, request("X-Auth-Token", "short"))
	mustAuth(t, k, request("X-Auth-Token", "long"))
	if k.Validations() != 2 {
		t.Fatalf("cached tokens validated again: %d validations", k.Validations())
	}
	// The short token expires: its entry is gone (Keystone is asked, and
	// says it does not know it).
	now = now.Add(2 * time.Second)
	f.set(func() { f.expired["short"] = true })
	_, err := k.Authenticate(request("X-Auth-Token", "short"))
	wantKind(t, err, model.KindUnauthorized, "requires authentication")
	if k.Validations() != 3 {
		t.Fatalf("expired token: %d validations, want 3", k.Validations())
	}
	// Even if Keystone still vouched for an expired token, allot checks the
	// expiry it was given.
	f.add("liar", now.Add(time.Second), nil)
	mustAuth(t, k, request("X-Auth-Token", "liar"))
	now = now.Add(time.Second)
	if _, err := k.Authenticate(request("X-Auth-Token", "liar")); !model.IsKind(err, model.KindUnauthorized) {
		t.Fatalf("token past its expiry: %v", err)
	}
	// The long one lives token_cache_time.
	now = now.Add(100 * time.Second)
	before := k.Validations()
	mustAuth(t, k, request("X-Auth-Token", "long"))
	if k.Validations() != before+1 {
		t.Fatalf("after token_cache_time: %d validations, want %d", k.Validations(), before+1)
	}
}

func TestKeystoneCacheOff(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, func(c *KeystoneConfig) { c.TokenCacheTime = -1 })
	f.add("tok", time.Now().Add(time.Hour), nil)
	for range 3 {
		mustAuth(t, k, request("X-Auth-Token", "tok"))
	}
	if k.Validations() != 3 {
		t.Fatalf("token_cache_time -1: %d validations, want 3", k.Validations())
	}
}

// TestKeystoneOneValidationPerToken: concurrent requests with one uncached
// token wait for one validation.
func TestKeystoneOneValidationPerToken(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	f.add("tok", time.Now().Add(time.Hour), nil)
	f.hold = make(chan struct{})
	f.arrived = make(chan struct{}, 100)
	const n = 50
	var wg sync.WaitGroup
	var failed atomic.Int64
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			if _, err := k.Authenticate(request("X-Auth-Token", "tok")); err != nil {
				failed.Add(1)
			}
		}()
	}
	started.Wait()
	<-f.arrived // the one validation is at Keystone; release it
	close(f.hold)
	wg.Wait()
	if failed.Load() != 0 || k.Validations() != 1 || f.gets.Load() != 1 {
		t.Fatalf("%d requests: %d failed, %d validations, Keystone saw %d", n, failed.Load(), k.Validations(), f.gets.Load())
	}
}

func TestKeystoneUnavailable(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	f.add("cached", time.Now().Add(time.Hour), nil)
	f.add("new", time.Now().Add(time.Hour), nil)
	mustAuth(t, k, request("X-Auth-Token", "cached"))

	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway} {
		f.set(func() { f.status = status })
		_, err := k.Authenticate(request("X-Auth-Token", "new"))
		wantKind(t, err, model.KindUnavailable, fmt.Sprintf("Keystone at %s/v3 is unreachable (it answered HTTP %d)", f.URL, status))
	}
	f.set(func() { f.status = 0 })
	mustAuth(t, k, request("X-Auth-Token", "new"))

	// Keystone gone: a token validated before still passes (from the
	// cache); an unknown one is a 503, not a 401.
	f.add("unseen", time.Now().Add(time.Hour), nil)
	f.Close()
	mustAuth(t, k, request("X-Auth-Token", "cached"))
	_, err := k.Authenticate(request("X-Auth-Token", "unseen"))
	wantKind(t, err, model.KindUnavailable, "is unreachable (no answer)")
	if !strings.Contains(err.Error(), f.URL) {
		t.Errorf("%v does not name Keystone's URL", err)
	}
}

func TestKeystoneNeverReached(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	f.Close() // before allot ever logged in
	_, err := k.Authenticate(request("X-Auth-Token", "tok"))
	wantKind(t, err, model.KindUnavailable, "is unreachable")
	_, err = k.Authenticate(request())
	wantKind(t, err, model.KindUnauthorized, "requires authentication")
}

func TestKeystoneCredentialsRefused(t *testing.T) {
	f := newFakeKeystone(t)
	f.add("tok", time.Now().Add(time.Hour), nil)
	k := newTestKeystone(t, f, func(c *KeystoneConfig) { c.Password = "wrong" })
	_, err := k.Authenticate(request("X-Auth-Token", "tok"))
	wantKind(t, err, model.KindUnavailable, "refused allot's service credentials (user allot)")

	// The password changes while allot runs: its token expires (Keystone
	// answers 401) and logging in again fails.
	k = newTestKeystone(t, f, nil)
	mustAuth(t, k, request("X-Auth-Token", "tok"))
	f.add("tok2", time.Now().Add(time.Hour), nil)
	f.set(func() { f.password, f.service = "changed", "expired" })
	_, err = k.Authenticate(request("X-Auth-Token", "tok2"))
	wantKind(t, err, model.KindUnavailable, "refused allot's service credentials")

	// A service user without the right to validate tokens (403).
	f.set(func() { f.password, f.status = "pw", http.StatusForbidden })
	k = newTestKeystone(t, f, nil)
	_, err = k.Authenticate(request("X-Auth-Token", "tok2"))
	wantKind(t, err, model.KindUnavailable, "refused allot's service credentials")
}

// TestKeystoneReauthenticates: allot's own token expires; Keystone answers
// 401 and allot logs in again, once, and the validation goes on.
func TestKeystoneReauthenticates(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	f.add("a", time.Now().Add(time.Hour), nil)
	f.add("b", time.Now().Add(time.Hour), nil)
	mustAuth(t, k, request("X-Auth-Token", "a"))
	f.set(func() { f.service = "rotated" })
	mustAuth(t, k, request("X-Auth-Token", "b"))
	if f.logins.Load() != 2 {
		t.Fatalf("logins %d, want 2", f.logins.Load())
	}
}

func TestKeystoneServiceToken(t *testing.T) {
	f := newFakeKeystone(t)
	hour := time.Now().Add(time.Hour)
	f.add("user", hour, nil)
	f.add("nova", hour, map[string]any{"roles": []any{map[string]any{"name": "service"}, map[string]any{"name": "admin"}}})
	f.add("plain", hour, map[string]any{"roles": []any{map[string]any{"name": "member"}}})
	f.add("expired-user", time.Now().Add(-time.Hour), nil)
	f.set(func() { f.expired["expired-user"] = true })

	for _, required := range []bool{false, true} {
		k := newTestKeystone(t, f, func(c *KeystoneConfig) { c.ServiceTokenRolesRequired = required })
		c := mustAuth(t, k, request("X-Auth-Token", "user", "X-Service-Token", "nova"))
		if c.UserID != "u-user" || c.ServiceUserID != "u-nova" || c.ServiceProjectID != "p-nova" ||
			c.ServiceUserDomainID != "default" || c.ServiceProjectDomainID != "default" || fmt.Sprint(c.ServiceRoles) != "[service admin]" {
			t.Errorf("required=%v: service token: %+v", required, c)
		}
		// A service token with a service role lets an expired user token
		// through (allow_expired); alone, the expired token is refused.
		_, err := k.Authenticate(request("X-Auth-Token", "expired-user"))
		wantKind(t, err, model.KindUnauthorized, "requires authentication")
		c = mustAuth(t, k, request("X-Auth-Token", "expired-user", "X-Service-Token", "nova"))
		if c.UserID != "u-expired-user" {
			t.Errorf("required=%v: expired user token with a service token (after a refusal without it): %+v", required, c)
		}

		// An invalid service token refuses the request.
		_, err = k.Authenticate(request("X-Auth-Token", "user", "X-Service-Token", "garbage"))
		wantKind(t, err, model.KindUnauthorized, "requires authentication")

		// A valid token without a service role, as a service token.
		c, err = k.Authenticate(request("X-Auth-Token", "user", "X-Service-Token", "plain"))
		if required {
			wantKind(t, err, model.KindUnauthorized, "requires authentication")
		} else if err != nil || c.ServiceUserID != "u-plain" || fmt.Sprint(c.ServiceRoles) != "[member]" {
			t.Errorf("service token without a service role, not required: %+v, %v", c, err)
		}
		// ... does not let an expired user token through.
		if _, err := k.Authenticate(request("X-Auth-Token", "expired-user", "X-Service-Token", "plain")); !model.IsKind(err, model.KindUnauthorized) {
			t.Errorf("required=%v: expired user token with a non-service service token: %v", required, err)
		}
		// A service token alone is not a user.
		_, err = k.Authenticate(request("X-Service-Token", "nova"))
		wantKind(t, err, model.KindUnauthorized, "requires authentication")
	}
}

func TestKeystoneAccessRules(t *testing.T) {
	f := newFakeKeystone(t)
	k := newTestKeystone(t, f, nil)
	hour := time.Now().Add(time.Hour)
	rules := func(r ...map[string]any) map[string]any {
		list := []any{}
		for _, x := range r {
			list = append(list, x)
		}
		return map[string]any{
			"application_credential": map[string]any{"id": "ac", "access_rules": list},
			"catalog":                []any{map[string]any{"type": "placement"}, map[string]any{"type": "identity"}},
		}
	}
	f.add("ro", hour, rules(map[string]any{"method": "GET", "path": "/resource_providers/*/inventories", "service": "placement"}))
	f.add("none", hour, rules())
	f.add("free", hour, map[string]any{"application_credential": map[string]any{"id": "ac2"}})
	f.add("svc", hour, map[string]any{"roles": []any{map[string]any{"name": "service"}}})

	placement, baremetal := k.ForService("placement"), k.ForService("baremetal")
	get := func(path string, h ...string) *http.Request {
		r := request(h...)
		r.URL.Path = path
		return r
	}
	if _, err := placement(get("/resource_providers/abc/inventories", "X-Auth-Token", "ro")); err != nil {
		t.Errorf("allowed by its rule: %v", err)
	}
	for name, r := range map[string]*http.Request{
		"other path":         get("/resource_providers", "X-Auth-Token", "ro"),
		"two segments for *": get("/resource_providers/a/b/inventories", "X-Auth-Token", "ro"),
		"no rules":           get("/resource_providers", "X-Auth-Token", "none"),
	} {
		if _, err := placement(r); !model.IsKind(err, model.KindUnauthorized) {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}
	// baremetal is not in the token's catalog; an unknown service type
	// refuses every restricted token.
	if _, err := baremetal(get("/resource_providers/abc/inventories", "X-Auth-Token", "ro")); !model.IsKind(err, model.KindUnauthorized) {
		t.Errorf("service not in the catalog: %v", err)
	}
	if _, err := k.Authenticate(get("/resource_providers/abc/inventories", "X-Auth-Token", "ro")); !model.IsKind(err, model.KindUnauthorized) {
		t.Errorf("no service type: %v", err)
	}
	// An application credential without access rules is not restricted;
	// a restricted one in a chain of service calls passes.
	if _, err := baremetal(get("/v1/nodes", "X-Auth-Token", "free")); err != nil {
		t.Errorf("unrestricted application credential: %v", err)
	}
	if _, err := placement(get("/resource_providers", "X-Auth-Token", "none", "X-Service-Token", "svc")); err != nil {
		t.Errorf("restricted token with a service token: %v", err)
	}
}

func TestPathMatches(t *testing.T) {
	for _, c := range []struct {
		path, template string
		want           bool
	}{
		{"/v2.1/servers", "/v2.1/servers", true},
		{"/v2.1/servers/x", "/v2.1/servers", false},
		{"/v2.1/servers/abc", "/v2.1/servers/*", true},
		{"/v2.1/servers/abc/ips", "/v2.1/servers/*", false},
		{"/v2.1/servers/abc/ips", "/v2.1/servers/**", true},
		{"/v2.1/servers/abc/ips", "/v2.1/servers/{server_id}/ips", true},
		{"/v2.1/servers/a/b/ips", "/v2.1/servers/{server_id}/ips", false},
		{"/v2x1/servers", "/v2.1/servers", false}, // a dot is a dot
		{"/a/b/c", "/a/***", true},                // ** then *
	} {
		if got := pathMatches(c.path, c.template); got != c.want {
			t.Errorf("pathMatches(%q, %q) = %v, want %v", c.path, c.template, got, c.want)
		}
	}
}

func TestTokenCacheEvicts(t *testing.T) {
	c := newTokenCache(3)
	now := time.Now()
	for i := range 5 {
		c.put(keyOf(fmt.Sprint(i)), invalidToken, now.Add(time.Minute))
		if i == 2 {
			c.get(keyOf("0"), now) // 0 is used: 1 goes first
		}
	}
	if c.len() != 3 {
		t.Fatalf("%d entries, want 3", c.len())
	}
	for i, want := range []bool{true, false, false, true, true} {
		if _, ok := c.get(keyOf(fmt.Sprint(i)), now); ok != want {
			t.Errorf("entry %d present: %v, want %v", i, ok, want)
		}
	}
	if _, ok := c.get(keyOf("4"), now.Add(time.Minute)); ok {
		t.Error("entry served at its deadline")
	}
}

func TestNewKeystoneChecksConfig(t *testing.T) {
	for _, cfg := range []KeystoneConfig{
		{Username: "u", Password: "p"},
		{AuthURL: "http://127.0.0.1:1/v3", Password: "p"},
		{AuthURL: "http://127.0.0.1:1/v3", Username: "u", Password: "p", CAFile: "/nonexistent"},
	} {
		if _, err := NewKeystone(cfg, nil); err == nil {
			t.Errorf("NewKeystone(%+v) accepted", cfg)
		}
	}
}
