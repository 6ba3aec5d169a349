package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"allot/internal/auth"
	"allot/internal/cli"
	"allot/internal/testserver"
)

// The web console under Keystone (issue 20): a real Keystone
// (scripts/keystone-server, as TestKeystone starts it) and allot serve in
// keystone mode, driven in headless Chromium. An admin signs in with a
// password and may claim; a system reader signs in with a password and
// sees every page and no write control; a project reader, whom the
// default policy does not let list providers, is sent back; a wrong
// password shows Keystone's reason on the form; a pasted token works, and
// once Keystone revokes it the console returns to the sign-in form.

// startKeystoneConsoleServer is "allot serve" in process (the real wiring
// of internal/cli/serve.go) on SQLite with both APIs in keystone mode
// against ks. Validations are cached for a second, so that a revoked
// token is refused soon.
func startKeystoneConsoleServer(t *testing.T, ks *keystoneServer, log *lockedBuffer) *consoleServer {
	t.Helper()
	cfg := cli.ServeConfig{PlacementListen: "127.0.0.1:0", BaremetalListen: "127.0.0.1:0",
		DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"), SQLiteSynchronous: "normal",
		PlacementAuth: auth.Keystone, BaremetalAuth: auth.Keystone, AllocationWorkers: -1,
		Keystone: auth.KeystoneConfig{AuthURL: ks.url, Username: "allot", Password: keystoneTestPassword, ProjectName: "service",
			UserDomainName: "Default", ProjectDomainName: "Default", ServiceTokenRolesRequired: true, TokenCacheTime: 3 * time.Second}}
	l := serveInProcess(t, cfg, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return &consoleServer{url: "http://" + l.Placement}
}

// lockedBuffer is a log that goroutines may write at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// signInAnswer is what POST /allot/v1/tokens answers.
type signInAnswer struct {
	Token struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
		UserID    string    `json:"user_id"`
		ProjectID string    `json:"project_id"`
		System    bool      `json:"system"`
		Roles     []string  `json:"roles"`
	} `json:"token"`
}

// passwordSignIn fills the console's password form and submits it.
func (b *browser) passwordSignIn(user, password, scope, project string) {
	b.t.Helper()
	b.do("sign in as "+user, chromedp.WaitVisible(chromedp.CSS(`#password-form`)),
		setField("ks-user", user), setField("ks-password", password), setField("ks-scope", scope), setField("ks-project", project),
		setField("ks-domain", "Default"), chromedp.Click(chromedp.CSS(`#ks-submit`)))
}

// drawn waits until the console has drawn a page after signing in (the
// page the address names), failing with what the form or the status line
// says otherwise.
func (b *browser) drawn(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`body[data-ready]`))); err != nil {
		b.t.Fatalf("%s: %v; the sign-in form says %q, the status line %q", step, err,
			eval[string](b, `document.getElementById('login').hidden ? '' : document.getElementById('login-why').textContent`),
			eval[string](b, `document.getElementById('status').textContent`))
	}
}

// signOut clicks "Sign out" and waits for the sign-in form.
func (b *browser) signOut() {
	b.t.Helper()
	b.do("sign out", chromedp.Click(chromedp.CSS(`#sign-out`)), chromedp.WaitVisible(chromedp.CSS(`#password-form`)))
}

func TestConsoleKeystone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Keystone: not in -short")
	}
	for _, tool := range []string{"keystone-manage", "keystone-wsgi-public", "uwsgi", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (apt-get install keystone curl): skipping the console's Keystone scenario")
		}
	}
	if _, err := os.Stat("/usr/lib/uwsgi/plugins/python3_plugin.so"); err != nil {
		skipOrFail(t, "uWSGI's python3 plugin is not installed (apt-get install uwsgi-plugin-python3): skipping the console's Keystone scenario")
	}
	chromiumPath(t) // before the minute Keystone takes to start
	ks := startKeystone(t)
	var log lockedBuffer
	srv := startKeystoneConsoleServer(t, ks, &log)
	b := newBrowser(t) // its three minutes start now
	admin := ks.token(t, "admin", "project:admin")

	// A small cloud, written by the admin: two hosts, one partly used.
	var hosts []string
	for i, vcpus := range []int{16, 8} {
		id := uuid.NewString()
		srv.api(t, admin.id, "POST", "/resource_providers", map[string]any{"name": "ks-compute-" + strconv.Itoa(i+1), "uuid": id}, nil)
		srv.api(t, admin.id, "PUT", "/resource_providers/"+id+"/inventories", map[string]any{"resource_provider_generation": 0,
			"inventories": map[string]any{"VCPU": map[string]any{"total": vcpus}, "MEMORY_MB": map[string]any{"total": 8192 * vcpus}}}, nil)
		hosts = append(hosts, id)
	}
	srv.api(t, admin.id, "PUT", "/allocations/"+uuid.NewString(), map[string]any{
		"allocations": map[string]any{hosts[1]: map[string]any{"resources": map[string]int{"VCPU": 3}}},
		"project_id":  admin.projectID, "user_id": admin.userID, "consumer_generation": nil, "consumer_type": "INSTANCE"}, nil)

	signIn := func(t *testing.T, body map[string]any) (int, []byte) {
		r := testserver.Send(t, "POST", srv.url+"/allot/v1/tokens", http.Header{"Accept": {"application/json"}}, body)
		return r.Status, r.Body
	}
	// detail is the detail of a Placement error document.
	detail := func(t *testing.T, body []byte) string {
		var doc struct {
			Errors []struct{ Detail string } `json:"errors"`
		}
		if json.Unmarshal(body, &doc) != nil || len(doc.Errors) != 1 {
			t.Fatalf("not a Placement error: %s", body)
		}
		return doc.Errors[0].Detail
	}

	t.Run("the endpoint", func(t *testing.T) {
		// A good password: Keystone's token, which the API accepts.
		st, body := signIn(t, map[string]any{"username": "system-reader", "password": keystoneTestPassword, "user_domain_name": "Default", "system_scope": "all"})
		var ans signInAnswer
		if st != 201 || json.Unmarshal(body, &ans) != nil || ans.Token.ID == "" || !ans.Token.System || ans.Token.ProjectID != "" {
			t.Fatalf("system-reader's sign-in: %d %s", st, body)
		}
		if !ans.Token.ExpiresAt.After(time.Now()) || !strings.Contains(strings.Join(ans.Token.Roles, ","), "reader") {
			t.Errorf("system-reader's token: expires %s, roles %v", ans.Token.ExpiresAt, ans.Token.Roles)
		}
		var perms struct {
			Rules    map[string]bool `json:"rules"`
			Identity struct {
				UserID      string `json:"user_id"`
				SystemScope string `json:"system_scope"`
			} `json:"identity"`
		}
		srv.api(t, ans.Token.ID, "GET", "/allot/v1/permissions", nil, &perms)
		if perms.Identity.UserID != ans.Token.UserID || perms.Identity.SystemScope != "all" ||
			!perms.Rules["placement:resource_providers:list"] || perms.Rules["placement:allocations:update"] {
			t.Errorf("system-reader's permissions: %+v", perms)
		}
		st, body = signIn(t, map[string]any{"username": "admin", "password": keystoneTestPassword, "project_name": "admin"})
		if st != 201 || json.Unmarshal(body, &ans) != nil || ans.Token.ProjectID != admin.projectID || ans.Token.UserID != admin.userID {
			t.Errorf("admin's sign-in: %d %s (admin is %s in %s)", st, body, admin.userID, admin.projectID)
		}

		// A wrong password: a 401 in Placement's format with Keystone's
		// reason and challenge.
		r := testserver.Send(t, "POST", srv.url+"/allot/v1/tokens", http.Header{"Accept": {"application/json"}},
			map[string]any{"username": "admin", "password": "not-" + keystoneTestPassword, "project_name": "admin"})
		if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Keystone uri=") ||
			!strings.Contains(detail(t, r.Body), `Keystone refused the sign-in of user "admin"`) || strings.Contains(string(r.Body), "not-"+keystoneTestPassword) {
			t.Errorf("a wrong password: %d %q %s", r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
		// A project the user has no role on is refused by Keystone too.
		if st, body := signIn(t, map[string]any{"username": "alpha-reader", "password": keystoneTestPassword, "project_name": "beta"}); st != 401 {
			t.Errorf("alpha-reader in project beta: %d %s", st, body)
		}
	})

	// The sign-in form under Keystone: a password form and a token field.
	b.do("open the console", chromedp.Navigate(srv.url+"/ui/"), chromedp.WaitReady(chromedp.CSS(`body[data-login="keystone"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#password-form`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	if v := eval[string](b, `document.getElementById('ks-domain').value`); v != "Default" {
		t.Errorf("the domain field offers %q, want Default", v)
	}

	// A wrong password: Keystone's reason, as the API words it, on the form.
	wrong := map[string]any{"username": "admin", "password": "wrong-password", "project_name": "admin", "project_domain_name": "Default", "user_domain_name": "Default"}
	st, body := signIn(t, wrong)
	if st != 401 {
		t.Fatalf("a wrong password: %d %s", st, body)
	}
	reason := detail(t, body)
	b.passwordSignIn("admin", "wrong-password", "project", "admin")
	b.do("the form says why", chromedp.Poll[chromedp.Void](`document.getElementById('login-why').textContent.includes(`+jsString(reason)+`)`))
	if shown := eval[string](b, `document.getElementById('login-why').textContent`); !strings.Contains(shown, "Keystone refused") {
		t.Errorf("the form says %q", shown)
	}
	b.do("fill the form for the screenshot", setField("ks-user", "admin"), setField("ks-password", ""), setField("ks-project", "admin"))
	b.screenshot("sign-in-keystone")
	b.noErrors()

	// The admin, with a password: the capacity page's numbers are the
	// API's, and the request builder offers to claim.
	start := time.Now()
	b.passwordSignIn("admin", keystoneTestPassword, "project", "admin")
	b.drawn("the admin's first page")
	b.page("capacity")
	t.Logf("password sign-in to the capacity page drawn: %s", time.Since(start).Round(time.Millisecond))
	total, used := srv.classSumsAs(t, admin.id, "VCPU")
	for field, want := range map[string]int64{"total": total, "used": used} {
		got := eval[string](b, `document.querySelector('#capacity-classes tr[data-class="VCPU"] td[data-field="`+field+`"]').dataset.value`)
		if got != strconv.FormatInt(want, 10) {
			t.Errorf("the admin's capacity page: VCPU %s %s, the API's sum is %d", field, got, want)
		}
	}
	if who := eval[string](b, `document.getElementById('who').textContent`); !strings.Contains(who, admin.userID) || strings.Contains(who, "read-only") {
		t.Errorf("the admin's header says %q", who)
	}
	b.page("request")
	if got := b.ask(requestForm{"resources": "VCPU:1"}); len(got) != 2 {
		t.Errorf("the admin finds %d candidates for VCPU:1, want 2", len(got))
	}
	if n := eval[int](b, `document.querySelectorAll('#candidates [data-write="claim"]').length`); n == 0 {
		t.Error("the admin sees no claim control")
	}
	b.noErrors()
	b.signOut()

	// A system reader, with a password: every page of the nav loads, with
	// no write control anywhere.
	b.passwordSignIn("system-reader", keystoneTestPassword, "system", "")
	b.drawn("the reader's first page")
	if who := eval[string](b, `document.getElementById('who').textContent`); !strings.Contains(who, "read-only") || !strings.Contains(who, "reader") {
		t.Errorf("the reader's header says %q", who)
	}
	pages := eval[[]string](b, `[...document.querySelectorAll('nav a[data-page]')].map(a => a.dataset.page)`)
	if len(pages) < 3 {
		t.Fatalf("the nav lists %v", pages)
	}
	for _, page := range pages {
		b.page(page)
		if page == "request" {
			if got := b.ask(requestForm{"resources": "VCPU:1"}); len(got) != 2 {
				t.Errorf("the reader finds %d candidates for VCPU:1, want 2", len(got))
			}
		}
		if n := eval[int](b, `document.querySelectorAll('[data-write]').length`); n != 0 {
			t.Errorf("the reader sees %d write controls on %s", n, page)
		}
		b.noErrors()
	}
	b.signOut()

	// A project reader may not list providers under the default policy:
	// back to the form, with the API's reason.
	b.passwordSignIn("alpha-reader", keystoneTestPassword, "project", "alpha")
	b.do("the project reader is sent back", chromedp.Poll[chromedp.Void](`document.getElementById('login-why').textContent.includes('may not list')`))
	b.noErrors()

	// A pasted token works too; revoked, it sends the console back to the
	// sign-in form saying why.
	pasted := ks.token(t, "system-reader", "system")
	b.do("sign in with a token", setField("token", pasted.id), chromedp.Click(chromedp.CSS(`#login-form button`)))
	b.drawn("the first page with a pasted token")
	if who := eval[string](b, `document.getElementById('who').textContent`); !strings.Contains(who, pasted.userID) {
		t.Errorf("the header after a pasted token says %q", who)
	}
	b.noErrors()
	ks.revoke(t, pasted.id)
	b.do("a revoked token ends the session", chromedp.Poll[chromedp.Void](
		`!document.getElementById('login').hidden && document.getElementById('login-why').textContent.includes('session has ended')`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if tok := eval[string](b, `sessionStorage.getItem('allot.console.token') || ''`); tok != "" {
		t.Error("the revoked token is still in session storage")
	}

	// allot's debug log names the sign-ins and never a password.
	text := log.String()
	if !strings.Contains(text, "a user signed in through allot") || !strings.Contains(text, "a sign-in was refused") {
		t.Errorf("allot's log names no sign-in:\n%s", tail(text, 3000))
	}
	for _, pw := range []string{"wrong-password", "not-" + keystoneTestPassword} {
		if strings.Contains(text, pw) {
			t.Errorf("allot's log holds the password %q", pw)
		}
	}
}

// classSumsAs is classSums with a token of the caller's choosing.
func (s *consoleServer) classSumsAs(t *testing.T, token, class string) (total, used int64) {
	t.Helper()
	var list struct {
		Providers []struct{ UUID string } `json:"resource_providers"`
	}
	s.api(t, token, "GET", "/resource_providers", nil, &list)
	for _, p := range list.Providers {
		var invs struct {
			Inventories map[string]struct{ Total int64 } `json:"inventories"`
		}
		var usages struct {
			Usages map[string]int64 `json:"usages"`
		}
		s.api(t, token, "GET", "/resource_providers/"+p.UUID+"/inventories", nil, &invs)
		s.api(t, token, "GET", "/resource_providers/"+p.UUID+"/usages", nil, &usages)
		total += invs.Inventories[class].Total
		used += usages.Usages[class]
	}
	return total, used
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestConsoleSignInNoauth2: without Keystone the sign-in form offers only
// the token (no password form), and the password sign-in says why it is
// not there.
func TestConsoleSignInNoauth2(t *testing.T) {
	b := newBrowser(t)
	srv := startConsoleServer(t, "")
	b.do("open the console", chromedp.Navigate(srv.url+"/ui/"), chromedp.WaitReady(chromedp.CSS(`body[data-login="token"]`)))
	if shown := eval[bool](b, `document.getElementById('password-form').offsetParent !== null`); shown {
		t.Error("the password form shows under noauth2")
	}
	r := testserver.Send(t, "POST", srv.url+"/allot/v1/tokens", http.Header{"Accept": {"application/json"}},
		map[string]any{"username": "admin", "password": "x", "project_name": "admin"})
	if r.Status != 404 || !strings.Contains(string(r.Body), "does not use Keystone") {
		t.Errorf("POST /allot/v1/tokens under noauth2: %d %s", r.Status, r.Body)
	}
	b.noErrors()
}
