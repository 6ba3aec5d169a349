package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKeystone runs allot with auth_strategy = keystone on both APIs against
// a real Keystone (Debian's keystone package, started on loopback with
// SQLite by scripts/keystone-server): the real openstack and baremetal
// clients with password authentication and allot's catalog entries; 401s
// (no token, garbage, expired, revoked) with Keystone's WWW-Authenticate;
// a project reader's 403s that forged identity headers do not change;
// Keystone stopped (503) and back (served again, allot not restarted); and
// one validation for 50 concurrent requests with one token, counted from
// allot's debug log.
func TestKeystone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Keystone: not in -short")
	}
	for _, tool := range []string{"keystone-manage", "keystone-wsgi-public", "uwsgi", "openstack", "baremetal", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (apt-get install keystone python3-openstackclient python3-osc-placement python3-ironicclient curl): skipping the Keystone scenario")
		}
	}
	if _, err := os.Stat("/usr/lib/uwsgi/plugins/python3_plugin.so"); err != nil {
		skipOrFail(t, "uWSGI's python3 plugin is not installed (apt-get install uwsgi-plugin-python3): skipping the Keystone scenario")
	}
	start := time.Now()

	// Keystone and the allot binary, side by side.
	bin := filepath.Join(t.TempDir(), "allot")
	var buildErr error
	built := make(chan struct{})
	go func() {
		defer close(built)
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/allot")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	}()
	ks := startKeystone(t)
	<-built
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	t.Logf("keystone at %s and allot built: %s", ks.url, time.Since(start).Round(time.Millisecond))

	a := startKeystoneAllot(t, bin, ks)
	ks.script(t, "endpoints", ks.dir, a.placement, a.baremetal)

	admin := ks.token(t, "admin", "project:admin")
	reader := ks.token(t, "alpha-reader", "project:alpha")
	alphaID, betaID := reader.projectID, ks.token(t, "beta-member", "project:beta").projectID
	// Tokens allot will see for the first time later on.
	revoked := ks.token(t, "alpha-member", "project:alpha")
	unseen := ks.token(t, "admin", "project:admin")
	cachedBeforeOutage := ks.token(t, "system-reader", "system")

	// Some data for the clients to list, written by the admin over REST.
	const rp = "4e5f0000-0000-0000-0000-000000000001"
	a.expect(t, 200, "POST", a.placement+"/resource_providers", admin.id, "1.39", map[string]any{"name": "ks-host", "uuid": rp})
	a.expect(t, 200, "PUT", a.placement+"/resource_providers/"+rp+"/inventories", admin.id, "1.39",
		map[string]any{"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}}})
	var node map[string]any
	node = a.expect(t, 201, "POST", a.baremetal+"/v1/nodes", admin.id, "bm:1.79",
		map[string]any{"name": "ks-node", "driver": "fake-hardware", "resource_class": "KS"})
	for _, step := range []struct{ target, state string }{{"manage", "manageable"}, {"provide", "available"}} {
		a.expect(t, 202, "PUT", a.baremetal+"/v1/nodes/ks-node/states/provision", admin.id, "bm:1.79", map[string]any{"target": step.target})
		a.waitNode(t, admin.id, "provision_state", step.state)
	}
	a.expect(t, 202, "PUT", a.baremetal+"/v1/nodes/ks-node/states/power", admin.id, "bm:1.79", map[string]any{"target": "power on"})
	a.waitNode(t, admin.id, "power_state", "power on")

	t.Run("openstack CLI with password auth", func(t *testing.T) {
		osc := newPythonCLI(t, "openstack", "apt-get install python3-openstackclient python3-osc-placement",
			append(ks.passwordArgs("admin", "admin"), "--os-placement-api-version", "1.39")...)
		var rows []map[string]any
		osc.runJSON(&rows, "resource", "provider", "list", "--name", "ks-host")
		if len(rows) != 1 || rows[0]["uuid"] != rp {
			t.Errorf("resource provider list --name ks-host: %v", rows)
		}
		osc.runJSON(&rows, "allocation", "candidate", "list", "--resource", "VCPU=1")
		if len(rows) != 1 || rows[0]["resource provider"] != rp || rows[0]["allocation"] != "VCPU=1" {
			t.Errorf("allocation candidate list --resource VCPU=1: %v", rows)
		}
	})

	t.Run("baremetal CLI with password auth", func(t *testing.T) {
		bm := newPythonCLI(t, "baremetal", "apt-get install python3-ironicclient", ks.passwordArgs("admin", "admin")...)
		var rows []map[string]any
		bm.runJSON(&rows, "node", "list")
		if len(rows) != 1 || rows[0]["UUID"] != node["uuid"] || rows[0]["Provisioning State"] != "available" {
			t.Errorf("node list: %v", rows)
		}
		var alloc map[string]any
		bm.runJSON(&alloc, "allocation", "create", "--resource-class", "KS", "--name", "ks-alloc", "--wait", "30")
		if alloc["state"] != "active" || alloc["node_uuid"] != node["uuid"] {
			t.Errorf("allocation create --resource-class KS --wait: %v", alloc)
		}
	})

	t.Run("allot CLI with password auth", func(t *testing.T) {
		// allot's own client: the same options, the catalog finds allot.
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"placement", "resource-provider", "list", "--name", "ks-host", "-f", "value", "-c", "uuid"}, rp},
			{[]string{"baremetal", "node", "list", "-f", "value", "-c", "UUID"}, node["uuid"].(string)},
		} {
			out, err := exec.Command(bin, append(c.args, ks.passwordArgs("admin", "admin")...)...).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != c.want {
				t.Errorf("allot %v: %v\n%s\nwant %s", c.args, err, out, c.want)
			}
		}
	})

	t.Run("refused tokens are 401 with Keystone's challenge", func(t *testing.T) {
		// The revoked token is revoked before allot ever sees it.
		ks.revoke(t, revoked.id)
		challenge := fmt.Sprintf("Keystone uri=%q", ks.url)
		for _, tc := range []struct{ name, token string }{{"no token", ""}, {"garbage", "gAAAAABgarbage-token"}, {"revoked", revoked.id}} {
			for _, u := range []string{a.placement + "/resource_providers", a.baremetal + "/v1/nodes"} {
				st, h, body := a.do(t, "GET", u, tc.token, "", nil)
				if st != 401 || h.Get("WWW-Authenticate") != challenge {
					t.Errorf("%s: GET %s: %d, WWW-Authenticate %q, want 401 and %q\n%s", tc.name, u, st, h.Get("WWW-Authenticate"), challenge, body)
				}
			}
		}
		// The roots stay open.
		for _, u := range []string{a.placement + "/", a.baremetal + "/"} {
			if st, _, body := a.do(t, "GET", u, "", "", nil); st != 200 {
				t.Errorf("GET %s without a token: %d\n%s", u, st, body)
			}
		}
	})

	t.Run("a project reader reads and cannot write", func(t *testing.T) {
		const consumer = "4e5fc000-0000-0000-0000-000000000001"
		writes := []struct {
			method, url string
			body        any
		}{
			{"POST", a.placement + "/resource_providers", map[string]any{"name": "reader-rp"}},
			{"PUT", a.placement + "/resource_providers/" + rp + "/inventories", map[string]any{"resource_provider_generation": 1,
				"inventories": map[string]any{"VCPU": map[string]any{"total": 64}}}},
			{"PUT", a.placement + "/allocations/" + consumer, map[string]any{"allocations": map[string]any{rp: map[string]any{"resources": map[string]any{"VCPU": 1}}},
				"project_id": alphaID, "user_id": reader.userID, "consumer_generation": nil}},
			{"DELETE", a.placement + "/resource_providers/" + rp, nil},
		}
		forged := [][]string{nil, {"X-Roles", "admin"}, {"X-Roles", "admin", "X-Project-Id", betaID, "X-Tenant-Id", betaID},
			{"OpenStack-System-Scope", "all", "X-Roles", "admin,reader,member"}, {"X-Identity-Status", "Confirmed", "X-Is-Admin-Project", "True", "X-Service-Roles", "service"}}
		for _, headers := range forged {
			for _, w := range writes {
				if st, _, body := a.do(t, w.method, w.url, reader.id, "1.39", w.body, headers...); st != 403 {
					t.Errorf("reader %s %s with %v: %d, want 403\n%s", w.method, w.url, headers, st, body)
				}
			}
			// Its own project's usages, not another's.
			if st, _, body := a.do(t, "GET", a.placement+"/usages?project_id="+alphaID, reader.id, "1.9", nil, headers...); st != 200 {
				t.Errorf("reader GET /usages of its project with %v: %d\n%s", headers, st, body)
			}
			if st, _, body := a.do(t, "GET", a.placement+"/usages?project_id="+betaID, reader.id, "1.9", nil, headers...); st != 403 {
				t.Errorf("reader GET /usages of another project with %v: %d, want 403\n%s", headers, st, body)
			}
			if st, _, body := a.do(t, "POST", a.baremetal+"/v1/allocations", reader.id, "bm:1.79", map[string]any{"resource_class": "KS"}, headers...); st != 403 {
				t.Errorf("reader POST /v1/allocations with %v: %d, want 403\n%s", headers, st, body)
			}
		}
		// The admin wrote nothing through the reader: the provider is as it was.
		doc := a.expect(t, 200, "GET", a.placement+"/resource_providers/"+rp+"/inventories", admin.id, "1.39", nil)
		if inv, _ := doc["inventories"].(map[string]any); fmt.Sprint(inv["VCPU"].(map[string]any)["total"]) != "8" {
			t.Errorf("inventories after the reader's attempts: %v", doc)
		}
	})

	t.Run("one validation for concurrent requests with one token", func(t *testing.T) {
		tok := ks.token(t, "system-reader", "system")
		const n = 50
		var wg sync.WaitGroup
		statuses := make([]int, n)
		took := make([]time.Duration, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				statuses[i], _, _ = a.do(t, "GET", a.placement+"/resource_providers", tok.id, "1.39", nil)
				took[i] = time.Since(t0)
			}()
		}
		wg.Wait()
		for i, st := range statuses {
			if st != 200 {
				t.Fatalf("request %d: %d", i, st)
			}
		}
		if got := a.validations(t, tok.id); got != 1 {
			t.Errorf("%d concurrent requests with one token: %d validations, want 1", n, got)
		}
		// Latency, for the record: a request whose token is cached, and one
		// that waits for Keystone.
		cached := make([]time.Duration, 20)
		for i := range cached {
			t0 := time.Now()
			a.expect(t, 200, "GET", a.placement+"/resource_providers", tok.id, "1.39", nil)
			cached[i] = time.Since(t0)
		}
		fresh := ks.token(t, "system-reader", "system")
		t0 := time.Now()
		a.expect(t, 200, "GET", a.placement+"/resource_providers", fresh.id, "1.39", nil)
		uncached := time.Since(t0)
		sort.Slice(cached, func(i, j int) bool { return cached[i] < cached[j] })
		t.Logf("GET /resource_providers: uncached token %s, cached token median %s", uncached.Round(time.Microsecond), cached[len(cached)/2].Round(time.Microsecond))
		if got := a.validations(t, tok.id); got != 1 {
			t.Errorf("after %d more requests: %d validations, want 1", len(cached), got)
		}
	})

	t.Run("Keystone stopped and back", func(t *testing.T) {
		a.expect(t, 200, "GET", a.placement+"/resource_providers", cachedBeforeOutage.id, "1.39", nil)
		ks.script(t, "stop", ks.dir)
		st, _, body := a.do(t, "GET", a.placement+"/resource_providers", unseen.id, "1.39", nil)
		if st != 503 || !strings.Contains(string(body), "Keystone at "+ks.url+" is unreachable") {
			t.Errorf("uncached token, Keystone down: %d, want 503 saying Keystone at %s is unreachable\n%s", st, ks.url, body)
		}
		st, _, body = a.do(t, "GET", a.baremetal+"/v1/nodes", unseen.id, "bm:1.79", nil)
		if st != 503 || !strings.Contains(string(body), "is unreachable") {
			t.Errorf("Bare Metal, uncached token, Keystone down: %d, want 503\n%s", st, body)
		}
		// A token validated before the outage is still served from the
		// cache (keystonemiddleware's behaviour too).
		a.expect(t, 200, "GET", a.placement+"/resource_providers", cachedBeforeOutage.id, "1.39", nil)

		// Back, with short-lived tokens from now on (for the expiry check
		// below); allot is not restarted.
		ks.restart(t, 5)
		a.expect(t, 200, "GET", a.placement+"/resource_providers", unseen.id, "1.39", nil)
		a.expect(t, 200, "GET", a.baremetal+"/v1/nodes", unseen.id, "bm:1.79", nil)
	})

	t.Run("an expired token is 401", func(t *testing.T) {
		short := ks.token(t, "system-reader", "system") // lives a few seconds
		// While it is valid, it is served (and cached, until its expiry);
		// on a slow machine it may expire before Keystone has validated it.
		if st, _, body := a.do(t, "GET", a.placement+"/resource_providers", short.id, "1.39", nil); st != 200 && time.Now().Before(short.expires) {
			t.Errorf("short-lived token before its expiry: %d\n%s", st, body)
		}
		time.Sleep(time.Until(short.expires) + 300*time.Millisecond)
		challenge := fmt.Sprintf("Keystone uri=%q", ks.url)
		for _, u := range []string{a.placement + "/resource_providers", a.baremetal + "/v1/nodes"} {
			if st, h, body := a.do(t, "GET", u, short.id, "", nil); st != 401 || h.Get("WWW-Authenticate") != challenge {
				t.Errorf("expired token: GET %s: %d %q\n%s", u, st, h.Get("WWW-Authenticate"), body)
			}
		}
	})
	t.Logf("wall time %s", time.Since(start).Round(time.Millisecond))
}

// keystoneServer is a Keystone started by scripts/keystone-server.
type keystoneServer struct {
	dir, url string
}

const keystoneTestPassword = "secret"

func startKeystone(t *testing.T) *keystoneServer {
	t.Helper()
	ks := &keystoneServer{dir: filepath.Join(t.TempDir(), "keystone")}
	t.Cleanup(func() {
		exec.Command("../scripts/keystone-server", "stop", ks.dir).Run()
		if t.Failed() {
			for _, f := range []string{"setup.log", "uwsgi.log", "keystone.log"} {
				text, _ := os.ReadFile(filepath.Join(ks.dir, f))
				t.Logf("keystone %s (tail):\n%s", f, tail(string(text), 2000))
			}
		}
	})
	ks.url = strings.TrimSpace(ks.script(t, "start", ks.dir))
	return ks
}

// script runs scripts/keystone-server and returns its output.
func (ks *keystoneServer) script(t *testing.T, args ...string) string {
	t.Helper()
	return ks.scriptEnv(t, nil, args...)
}

func (ks *keystoneServer) scriptEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("../scripts/keystone-server", args...)
	cmd.Env = append(append(os.Environ(), "KEYSTONE_TEST_PASSWORD="+keystoneTestPassword), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/keystone-server %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	t.Logf("scripts/keystone-server %s: %s", args[0], time.Since(t0).Round(time.Millisecond))
	return out.String()
}

// restart starts the stopped Keystone again on the same port and data, its
// new tokens living the given seconds.
func (ks *keystoneServer) restart(t *testing.T, tokenSeconds int) {
	t.Helper()
	conf := filepath.Join(ks.dir, "keystone.conf")
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(l, "expiration = ") {
			l = fmt.Sprintf("expiration = %d", tokenSeconds)
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if url := strings.TrimSpace(ks.script(t, "start", ks.dir)); url != ks.url {
		t.Fatalf("Keystone came back at %s, not %s", url, ks.url)
	}
}

// passwordArgs are an OpenStack client's options for password
// authentication as user, scoped to project, finding allot in the catalog.
func (ks *keystoneServer) passwordArgs(user, project string) []string {
	return []string{"--os-auth-type", "password", "--os-auth-url", ks.url, "--os-username", user, "--os-password", keystoneTestPassword,
		"--os-project-name", project, "--os-user-domain-name", "Default", "--os-project-domain-name", "Default",
		"--os-region-name", "RegionOne", "--os-interface", "public"}
}

// keystoneToken is a token Keystone issued.
type keystoneToken struct {
	id, userID, projectID string
	expires               time.Time
}

// token asks Keystone for a token of user, scoped "project:NAME" or
// "system".
func (ks *keystoneServer) token(t *testing.T, user, scope string) keystoneToken {
	t.Helper()
	sc := any(map[string]any{"system": map[string]any{"all": true}})
	if name, ok := strings.CutPrefix(scope, "project:"); ok {
		sc = map[string]any{"project": map[string]any{"name": name, "domain": map[string]any{"id": "default"}}}
	}
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": keystoneTestPassword}}},
		"scope": sc}})
	resp, err := httpClient.Post(ks.url+"/auth/tokens?nocatalog", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("token of %s: %v", user, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			User      struct{ ID string }
			Project   struct{ ID string }
		}
	}
	if resp.StatusCode != 201 || json.Unmarshal(raw, &doc) != nil {
		t.Fatalf("token of %s (%s): %d\n%s", user, scope, resp.StatusCode, raw)
	}
	return keystoneToken{id: resp.Header.Get("X-Subject-Token"), userID: doc.Token.User.ID, projectID: doc.Token.Project.ID, expires: doc.Token.ExpiresAt}
}

// revoke revokes a token (its owner may).
func (ks *keystoneServer) revoke(t *testing.T, token string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", ks.url+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := httpClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
}

// keystoneAllot is an allot serve process in keystone mode.
type keystoneAllot struct {
	placement, baremetal, logf string
}

func startKeystoneAllot(t *testing.T, bin string, ks *keystoneServer) *keystoneAllot {
	t.Helper()
	dir := t.TempDir()
	a := &keystoneAllot{placement: "http://" + freeAddr(t), baremetal: "http://" + freeAddr(t), logf: filepath.Join(dir, "allot.log")}
	conf := filepath.Join(dir, "placement.conf")
	text := fmt.Sprintf(`[api]
auth_strategy = keystone

[placement_database]
connection = sqlite:///%s/placement.db

[keystone_authtoken]
auth_type = password
auth_url = %s
www_authenticate_uri = %s
username = allot
password = %s
project_name = service
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = true
`, dir, ks.url, ks.url, keystoneTestPassword)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(a.logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config-file", conf, "--baremetal-auth-strategy", "keystone",
		"--placement-listen", strings.TrimPrefix(a.placement, "http://"), "--baremetal-listen", strings.TrimPrefix(a.baremetal, "http://"),
		"--log-level", "debug", "--admin-listen", "")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			text, _ := os.ReadFile(a.logf)
			t.Logf("allot log (tail):\n%s", tail(string(text), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := httpClient.Get(a.placement + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a
			}
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			text, _ := os.ReadFile(a.logf)
			t.Fatalf("allot not serving after 30 s:\n%s", tail(string(text), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one request with a token (none when empty) and a Placement
// microversion, or Ironic's when version starts with "bm:", plus headers
// as name, value pairs.
func (a *keystoneAllot) do(t *testing.T, method, url, token, version string, body any, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := strings.CutPrefix(version, "bm:"); ok {
		req.Header.Set("X-OpenStack-Ironic-API-Version", v)
	} else if version != "" {
		req.Header.Set("OpenStack-API-Version", "placement "+version)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// expect sends a request that must answer status, and decodes its body.
func (a *keystoneAllot) expect(t *testing.T, status int, method, url, token, version string, body any) map[string]any {
	t.Helper()
	st, _, raw := a.do(t, method, url, token, version, body)
	if st != status {
		t.Fatalf("%s %s: %d, want %d\n%s", method, url, st, status, raw)
	}
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	return doc
}

// waitNode waits until the node ks-node's field (provision_state or
// power_state) is state, with no transition under way.
func (a *keystoneAllot) waitNode(t *testing.T, token, field, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		doc := a.expect(t, 200, "GET", a.baremetal+"/v1/nodes/ks-node", token, "bm:1.79", nil)
		if doc[field] == state && doc["target_"+field] == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node ks-node's %s did not become %s: %v", field, state, doc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// validations counts allot's debug lines that record a validation of token
// by Keystone (the log names a token by the first 8 hex digits of its
// SHA-256, never by itself).
func (a *keystoneAllot) validations(t *testing.T, token string) int {
	t.Helper()
	text, err := os.ReadFile(a.logf)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	mark := "token=" + hex.EncodeToString(sum[:4])
	n := 0
	for _, line := range strings.Split(string(text), "\n") {
		if strings.Contains(line, `msg="keystone: token validated"`) && strings.Contains(line, mark) {
			n++
		}
	}
	if strings.Contains(string(text), token) {
		t.Error("allot's log shows a token")
	}
	return n
}
