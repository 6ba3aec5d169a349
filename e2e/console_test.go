package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"allot/internal/auth"
	"allot/internal/cli"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// The web console (internal/console) in real headless Chromium: each page
// on a seeded cloud, the numbers it shows against the API's, the request
// builder's candidates against GET /allocation_candidates, and a reader
// without write controls. ALLOT_CONSOLE_SCREENSHOTS=1 writes the pages'
// screenshots to docs/console/; ALLOT_CONSOLE_SCALE=N times the pages on
// N providers (reported, never asserted).

// consoleServer is "allot serve" run in-process (the real wiring of
// internal/cli/serve.go) on SQLite, Placement only, noauth2.
type consoleServer struct {
	url string
}

func startConsoleServer(t testing.TB, policyFile string) *consoleServer {
	t.Helper()
	cfg := cli.ServeConfig{PlacementListen: "127.0.0.1:0", DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"),
		SQLiteSynchronous: "normal", PlacementAuth: auth.NoAuth2, AllocationWorkers: -1,
		Policy: policy.Options{PolicyFile: policyFile}}
	l := serveInProcess(t, cfg, slog.New(slog.DiscardHandler))
	return &consoleServer{url: "http://" + l.Placement}
}

// serveInProcess runs cli.Serve (allot serve) with cfg in this process
// until the test ends, and returns the addresses it listens on.
func serveInProcess(t testing.TB, cfg cli.ServeConfig, logger *slog.Logger) cli.Listening {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan cli.Listening, 1)
	done := make(chan error, 1)
	go func() {
		done <- cli.Serve(ctx, cfg, logger, func(l cli.Listening) { bound <- l })
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case l := <-bound:
		return l
	case err := <-done:
		t.Fatalf("allot serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("allot serve did not start")
	}
	return cli.Listening{}
}

// api sends one request as token at microversion 1.39 and decodes the
// answer into out (when not nil), failing unless the status is 2xx.
func (s *consoleServer) api(t testing.TB, token, method, path string, body, out any) {
	t.Helper()
	r := testserver.Send(t, method, s.url+path, http.Header{"X-Auth-Token": {token}, "Openstack-Api-Version": {"placement 1.39"}}, body)
	data := r.Body
	if r.Status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// seedCloud builds, through the API, the CLI scenario's NUMA host (with
// SR-IOV PFs, a trait and an aggregate) and two flat hosts, one partly
// used. It returns the NUMA host's uuid and the aggregate.
func (s *consoleServer) seedCloud(t *testing.T) (host, agg string) {
	t.Helper()
	provider := func(name, parent string) string {
		id := uuid.NewString()
		body := map[string]any{"name": name, "uuid": id}
		if parent != "" {
			body["parent_provider_uuid"] = parent
		}
		s.api(t, "admin", "POST", "/resource_providers", body, nil)
		return id
	}
	inventory := func(rp string, invs map[string]any) {
		s.api(t, "admin", "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{"resource_provider_generation": 0, "inventories": invs}, nil)
	}
	host = provider("compute-1", "")
	numa0, numa1 := provider("compute-1-numa0", host), provider("compute-1-numa1", host)
	pf0, pf1 := provider("compute-1-pf0", numa0), provider("compute-1-pf1", numa1)
	inventory(host, map[string]any{"MEMORY_MB": map[string]any{"total": 16384, "reserved": 512}, "DISK_GB": map[string]any{"total": 100}})
	inventory(numa0, map[string]any{"VCPU": map[string]any{"total": 8, "allocation_ratio": 4.0}})
	inventory(numa1, map[string]any{"VCPU": map[string]any{"total": 8}})
	inventory(pf0, map[string]any{"SRIOV_NET_VF": map[string]any{"total": 8}})
	inventory(pf1, map[string]any{"SRIOV_NET_VF": map[string]any{"total": 8}})
	s.api(t, "admin", "PUT", "/resource_providers/"+host+"/traits", map[string]any{"resource_provider_generation": 1, "traits": []string{"HW_CPU_X86_AVX2"}}, nil)
	agg = uuid.NewString()
	s.api(t, "admin", "PUT", "/resource_providers/"+host+"/aggregates", map[string]any{"resource_provider_generation": 2, "aggregates": []string{agg}}, nil)
	c2 := provider("compute-2", "")
	inventory(c2, map[string]any{"VCPU": map[string]any{"total": 16}, "MEMORY_MB": map[string]any{"total": 32768}})
	c3 := provider("compute-3", "")
	inventory(c3, map[string]any{"VCPU": map[string]any{"total": 4}, "MEMORY_MB": map[string]any{"total": 4096}})
	s.api(t, "admin", "PUT", "/allocations/"+uuid.NewString(), map[string]any{
		"allocations": map[string]any{c3: map[string]any{"resources": map[string]int{"VCPU": 3, "MEMORY_MB": 2048}}},
		"project_id":  "p1", "user_id": "u1", "consumer_generation": nil, "consumer_type": "INSTANCE"}, nil)
	s.api(t, "admin", "PUT", "/allocations/"+uuid.NewString(), map[string]any{
		"allocations": map[string]any{c2: map[string]any{"resources": map[string]int{"VCPU": 2}}},
		"project_id":  "p1", "user_id": "u1", "consumer_generation": nil, "consumer_type": "MIGRATION"}, nil)
	return host, agg
}

// classSums adds up, from the standard endpoints, every provider's
// inventory total and usage of class.
func (s *consoleServer) classSums(t *testing.T, class string) (total, used int64) {
	t.Helper()
	var list struct {
		Providers []struct{ UUID string } `json:"resource_providers"`
	}
	s.api(t, "admin", "GET", "/resource_providers", nil, &list)
	for _, p := range list.Providers {
		var invs struct {
			Inventories map[string]struct{ Total int64 } `json:"inventories"`
		}
		var usages struct {
			Usages map[string]int64 `json:"usages"`
		}
		s.api(t, "admin", "GET", "/resource_providers/"+p.UUID+"/inventories", nil, &invs)
		s.api(t, "admin", "GET", "/resource_providers/"+p.UUID+"/usages", nil, &usages)
		total += invs.Inventories[class].Total
		used += usages.Usages[class]
	}
	return total, used
}

// candidateKeys are the candidates of GET /allocation_candidates?q as the
// console keys them (request.js candidateKey): "rp:CLASS=n" of every
// allocation, sorted; the keys sorted.
func (s *consoleServer) candidateKeys(t *testing.T, q url.Values) []string {
	t.Helper()
	var doc json.RawMessage
	s.api(t, "admin", "GET", "/allocation_candidates?"+q.Encode(), nil, &doc)
	return keysOf(t, doc)
}

// keysOf keys the candidates of an allocation-candidates document.
func keysOf(t *testing.T, data []byte) []string {
	t.Helper()
	var doc struct {
		Requests []struct {
			Allocations map[string]struct {
				Resources map[string]int64 `json:"resources"`
			} `json:"allocations"`
		} `json:"allocation_requests"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	keys := []string{}
	for _, ar := range doc.Requests {
		var parts []string
		for rp, a := range ar.Allocations {
			for rc, n := range a.Resources {
				parts = append(parts, fmt.Sprintf("%s:%s=%d", rp, rc, n))
			}
		}
		sort.Strings(parts)
		keys = append(keys, strings.Join(parts, " "))
	}
	sort.Strings(keys)
	return keys
}

// browser is one headless Chromium tab that records every console error,
// uncaught exception and browser-log error the pages cause.
type browser struct {
	t      testing.TB
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// chromiumPath finds Debian's chromium (or another Chrome), or skips
// (fails under ALLOT_REQUIRE_CLIENTS=1, where scripts/test-deps installs it).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "chromium is not installed (Debian package chromium; scripts/test-deps installs it)"
	if tt, ok := t.(*testing.T); ok {
		skipOrFail(tt, why)
	}
	t.Skip(why) // a benchmark: measures only
	return ""
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser and its tab
		t.Fatalf("start %s: %v", exe, err)
	}
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A network entry is an answer the page asked for and handled
			// (the sign-in form's 401 probe, a 400 it shows): not an error
			// of the page.
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError && m.Source != "network" {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s %s:%d", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs actions, failing the test with the step's name.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// page opens a console page by its hash and waits until it has drawn.
func (b *browser) page(name string) time.Duration {
	b.t.Helper()
	start := time.Now()
	b.do("open "+name, chromedp.Evaluate[chromedp.Void](`location.hash = '#/`+name+`'`),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="`+name+`"]`)))
	return time.Since(start)
}

// noErrors fails the test on any console error so far.
func (b *browser) noErrors() {
	b.t.Helper()
	b.do("settle", chromedp.Sleep(100*time.Millisecond)) // let the last messages arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		b.t.Errorf("console errors:\n%s", strings.Join(b.errors, "\n"))
		b.errors = nil
	}
	if status := eval[string](b, `document.getElementById('status').className === 'error' ? document.getElementById('status').textContent : ''`); status != "" {
		b.t.Errorf("the page shows an error: %s", status)
	}
}

// screenshot writes docs/console/NAME.png when ALLOT_CONSOLE_SCREENSHOTS=1.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("ALLOT_CONSOLE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn opens the console and signs in with token; wantPrefill is what
// the sign-in form offers (noauth2: admin).
func (b *browser) signIn(base, token, wantPrefill string) {
	b.t.Helper()
	b.do("open the console", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	b.do("wait for the prefill", chromedp.Poll[chromedp.Void](`document.getElementById('token').value === '`+wantPrefill+`'`))
	b.screenshot("sign-in")
	b.do("sign in", setField("token", token), chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="capacity"]`)))
}

// setField sets the value of the form field with that id, as typing
// would (chromedp.SetValue insists on reading back what it wrote, which a
// number input's normalisation defeats).
func setField(id, value string) chromedp.Action[chromedp.Void] {
	v, _ := json.Marshal(value)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.getElementById(%q); el.value = %s; el.dispatchEvent(new Event('input', {bubbles: true})); })()`, id, v))
}

// requestForm is one query of the request builder: form fields by name.
type requestForm map[string]string

// ask fills the request builder with f (every other field empty), submits
// it and returns the candidates' keys, sorted.
func (b *browser) ask(f requestForm) []string {
	b.t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for _, name := range []string{"resources", "required", "member_of", "in_tree", "groups", "group_required", "root_required", "same_subtree", "group_policy", "limit"} {
		actions = append(actions, setField("rq-"+name, f[name]))
	}
	actions = append(actions, chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.answered`),
		chromedp.Click(chromedp.CSS(`#rq-submit`)), chromedp.WaitReady(chromedp.CSS(`body[data-answered="yes"]`)))
	b.do(fmt.Sprintf("ask %v", f), actions...)
	if msg := eval[string](b, `(document.getElementById('request-error') || {}).textContent || ''`); msg != "" {
		b.t.Fatalf("the request builder refused %v: %s", f, msg)
	}
	keys := eval[[]string](b, `[...document.querySelectorAll('#candidates .candidate')].map(e => e.dataset.key)`)
	sort.Strings(keys)
	return keys
}

// query is the API's query string for a form, as request.js builds it.
func (f requestForm) query() url.Values {
	q := url.Values{}
	lines := func(s string) (out []string) {
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	for name, v := range f {
		switch name {
		case "groups", "group_required":
			param := map[string]string{"groups": "resources", "group_required": "required"}[name]
			for _, l := range lines(v) {
				suffix, value, _ := strings.Cut(l, "=")
				q.Add(param+suffix, value)
			}
		default:
			for _, l := range lines(v) {
				q.Add(name, l)
			}
		}
	}
	return q
}

// shellWords splits a command the way a POSIX shell splits words made of
// plain characters and single-quoted strings (what request.js writes).
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case r == ' ' && !in:
			if any {
				words = append(words, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if in {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if any {
		words = append(words, cur.String())
	}
	return words
}

func TestConsole(t *testing.T) {
	b := newBrowser(t)
	srv := startConsoleServer(t, "")
	host, agg := srv.seedCloud(t)
	b.signIn(srv.url, "admin", "admin")

	// Capacity: the VCPU and MEMORY_MB rows are the sums of every
	// provider's inventory and usage.
	for _, class := range []string{"VCPU", "MEMORY_MB"} {
		total, used := srv.classSums(t, class)
		for field, want := range map[string]int64{"total": total, "used": used} {
			got := eval[string](b, `document.querySelector('#capacity-classes tr[data-class="`+class+`"] td[data-field="`+field+`"]').dataset.value`)
			if got != strconv.FormatInt(want, 10) {
				t.Errorf("capacity page: %s %s %s, the API's sum is %d", class, field, got, want)
			}
		}
	}
	// Every seeded consumer is in project p1: the page's usage per
	// consumer type is what GET /usages says of p1.
	var p1 struct {
		Usages map[string]map[string]int64 `json:"usages"`
	}
	srv.api(t, "admin", "GET", "/usages?project_id=p1", nil, &p1)
	for typ, usage := range p1.Usages {
		for class, n := range usage {
			sel := `#capacity-consumers tr[data-type="` + typ + `"] .tag[data-class="` + class + `"]`
			if class == "consumer_count" {
				sel = `#capacity-consumers tr[data-type="` + typ + `"] td[data-field="consumers"]`
			}
			if got := eval[string](b, `(document.querySelector('`+sel+`') || {dataset: {}}).dataset.value || 'none'`); got != strconv.FormatInt(n, 10) {
				t.Errorf("capacity page: %s %s %s, GET /usages says %d", typ, class, got, n)
			}
		}
	}
	if fullest := eval[string](b, `document.querySelector('#capacity-fullest a').textContent`); fullest != "compute-3" {
		t.Errorf("the fullest VCPU tree is %q, want compute-3 (3 of 4 used)", fullest)
	}
	b.screenshot("capacity")
	b.noErrors()

	// Live: a new host written through the API shows without a reload.
	extra := uuid.NewString()
	srv.api(t, "admin", "POST", "/resource_providers", map[string]any{"name": "compute-4", "uuid": extra}, nil)
	srv.api(t, "admin", "PUT", "/resource_providers/"+extra+"/inventories", map[string]any{"resource_provider_generation": 0,
		"inventories": map[string]any{"VCPU": map[string]any{"total": 24}}}, nil)
	total, _ := srv.classSums(t, "VCPU")
	b.do("the capacity page follows a write", chromedp.Poll[chromedp.Void](
		`(document.querySelector('#capacity-classes tr[data-class="VCPU"] td[data-field="total"]') || {dataset: {}}).dataset.value === '`+strconv.FormatInt(total, 10)+`'`,
		chromedp.WithPollingTimeout(30*time.Second)))

	// Request builder: three of the seed command's option sets give the
	// API's candidates; the command shown gives them too.
	b.page("request")
	if n := eval[int](b, `document.querySelectorAll('[data-write]').length`); n != 0 {
		t.Errorf("%d write controls before any candidate", n)
	}
	forms := []requestForm{
		{"resources": "VCPU:2,MEMORY_MB:1024"},
		{"resources": "VCPU:1", "required": "!HW_CPU_X86_AVX2", "limit": "5"},
		{"resources": "VCPU:4,MEMORY_MB:2048", "required": "HW_CPU_X86_AVX2", "member_of": agg, "in_tree": host,
			"root_required": "!COMPUTE_STATUS_DISABLED", "groups": "_A=VCPU:1\n_B=SRIOV_NET_VF:1", "same_subtree": "_A,_B",
			"group_policy": "isolate", "limit": "10"},
	}
	for i, f := range forms {
		got := b.ask(f)
		want := srv.candidateKeys(t, f.query())
		if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("query %d %v: the console shows\n%s\nthe API answers\n%s", i, f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if i == 2 {
			b.screenshot("request")
			// The command shown, run by allot's CLI, gives the same.
			words := shellWords(t, eval[string](b, `document.getElementById('request-command').textContent`))
			if len(words) < 4 || words[0] != "allot" {
				t.Fatalf("command %q", words)
			}
			out := allotCLI(t, srv.url, append(words[1:], "-f", "json")...)
			if shown := keysOf(t, []byte(out)); strings.Join(shown, "\n") != strings.Join(want, "\n") {
				t.Errorf("the shown command %q gives\n%s\nthe API\n%s", words, strings.Join(shown, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	// An admin may claim; claiming writes the allocation.
	if n := eval[int](b, `document.querySelectorAll('#candidates button[data-write="claim"]').length`); n == 0 {
		t.Fatal("the admin sees no claim buttons")
	}
	b.do("claim", chromedp.Click(chromedp.CSS(`#candidates button[data-write="claim"]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#candidates span')].some(s => s.textContent.startsWith('Claimed for consumer'))`))
	consumer := strings.TrimSuffix(strings.TrimPrefix(eval[string](b,
		`[...document.querySelectorAll('#candidates span')].find(s => s.textContent.startsWith('Claimed')).textContent`), "Claimed for consumer "), ".")
	var claimed struct {
		Allocations map[string]any `json:"allocations"`
	}
	srv.api(t, "admin", "GET", "/allocations/"+consumer, nil, &claimed)
	if len(claimed.Allocations) == 0 {
		t.Errorf("the console's claim for %s wrote no allocation", consumer)
	}

	// An impossible request: no candidates, and the explanation.
	if got := b.ask(requestForm{"resources": "VCPU:1000"}); len(got) != 0 {
		t.Errorf("VCPU:1000 gave %d candidates", len(got))
	}
	if stage := eval[string](b, `(document.querySelector('#explanation li[data-stage="capacity"]') || {}).textContent || ''`); !strings.Contains(stage, "removed") {
		t.Errorf("no capacity stage in the explanation: %q", eval[string](b, `(document.getElementById('explanation') || {}).textContent || 'none'`))
	}
	if n := eval[int](b, `document.querySelectorAll('#nearest-misses li').length`); n == 0 {
		t.Error("the explanation names no nearest miss")
	}
	b.screenshot("explanation")
	b.noErrors()

	// Explorer: compute-1's tree, every provider with its inventories.
	b.page("explorer")
	b.do("search", setField("ex-text", "compute-1"), chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.answered`),
		chromedp.Click(chromedp.CSS(`#explorer-form button`)), chromedp.WaitReady(chromedp.CSS(`body[data-answered="yes"]`)))
	var tree struct {
		Providers []struct{ UUID string } `json:"resource_providers"`
	}
	srv.api(t, "admin", "GET", "/resource_providers?in_tree="+host, nil, &tree)
	if n := eval[int](b, `document.querySelectorAll('#explorer-tree li.node').length`); n != len(tree.Providers) {
		t.Errorf("the tree shows %d providers, the API %d", n, len(tree.Providers))
	}
	if got := eval[string](b, `document.querySelector('#explorer-tree li.node[data-uuid="`+host+`"] .tag').textContent`); got != "HW_CPU_X86_AVX2" {
		t.Errorf("compute-1's first tag is %q", got)
	}
	// The consumer the console claimed for is listed on each provider of
	// compute-1's tree that it uses.
	for rp := range claimed.Allocations {
		if !eval[bool](b, `!!document.querySelector('#explorer-tree li.node[data-uuid="`+rp+`"] > details tr[data-consumer="`+consumer+`"]')`) {
			t.Errorf("the explorer does not list consumer %s on provider %s", consumer, rp)
		}
	}
	b.screenshot("explorer")
	b.noErrors()
}

// TestConsoleReader: a caller whom policy lets read and not write sees the
// pages and no write control. The policy file lets the noauth2 user
// "reader" pass Placement's reader rules.
func TestConsoleReader(t *testing.T) {
	b := newBrowser(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(`"system_reader_api": "role:admin or user_id:reader"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startConsoleServer(t, file)
	srv.seedCloud(t)
	b.signIn(srv.url, "reader", "admin")
	if who := eval[string](b, `document.getElementById('who').textContent`); !strings.Contains(who, "read-only") {
		t.Errorf("the header says %q, not read-only", who)
	}
	b.page("request")
	if got := b.ask(requestForm{"resources": "VCPU:2"}); len(got) == 0 {
		t.Fatal("the reader finds no candidates")
	}
	for _, page := range []string{"request", "capacity", "explorer"} {
		if page != "request" {
			b.page(page)
		}
		if n := eval[int](b, `document.querySelectorAll('[data-write], button.write').length`); n != 0 {
			t.Errorf("the reader sees %d write controls on %s", n, page)
		}
	}
	b.noErrors()

	// A token that may not list providers is sent back to the sign-in form.
	b.do("sign out", chromedp.Click(chromedp.CSS(`#sign-out`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	b.do("sign in as nobody", setField("token", "nobody"), chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('login-why').textContent.includes('may not list')`))
	b.noErrors()
}

// seedScale creates n root providers through the API (8 at a time), each
// with VCPU and MEMORY_MB, every third partly used; it returns the name of
// the last one.
func (s *consoleServer) seedScale(t testing.TB, n int) string {
	t.Helper()
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				id := uuid.NewString()
				s.api(t, "admin", "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("host-%05d", i), "uuid": id}, nil)
				s.api(t, "admin", "PUT", "/resource_providers/"+id+"/inventories", map[string]any{"resource_provider_generation": 0,
					"inventories": map[string]any{"VCPU": map[string]any{"total": 32 + i%32}, "MEMORY_MB": map[string]any{"total": 131072}}}, nil)
				if i%3 == 0 {
					s.api(t, "admin", "PUT", "/allocations/"+uuid.NewString(), map[string]any{
						"allocations": map[string]any{id: map[string]any{"resources": map[string]int{"VCPU": 1 + i%31, "MEMORY_MB": 4096}}},
						"project_id":  "p1", "user_id": "u1", "consumer_generation": nil, "consumer_type": "INSTANCE"}, nil)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return fmt.Sprintf("host-%05d", n-1)
}

// BenchmarkConsolePages times the console's pages on a cloud of
// ALLOT_CONSOLE_SCALE providers (default 10,000) in headless Chromium: from
// opening the page (or submitting its form) until it has drawn. A
// measurement for docs/performance.md, never an assertion:
//
//	go test -run '^$' -bench BenchmarkConsolePages -benchtime 5x ./e2e/
func BenchmarkConsolePages(b *testing.B) {
	n := 10000
	if v := os.Getenv("ALLOT_CONSOLE_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ALLOT_CONSOLE_SCALE=%q: a number of providers", v)
		}
	}
	br := newBrowser(b)
	srv := startConsoleServer(b, "")
	start := time.Now()
	last := srv.seedScale(b, n)
	b.Logf("seeded %d providers through the API in %s", n, time.Since(start).Round(time.Millisecond))
	br.signIn(srv.url, "admin", "admin")
	b.Run("capacity", func(b *testing.B) {
		i := 0
		for b.Loop() { // a fresh load of the console each time (the token stays in the tab)
			i++
			br.do("load the capacity page", chromedp.Navigate(fmt.Sprintf("%s/ui/?load=%d#/capacity", srv.url, i)),
				chromedp.WaitReady(chromedp.CSS(`body[data-ready="capacity"]`)))
		}
	})
	for _, limit := range []string{"100", ""} {
		name := "request/limit=" + limit
		if limit == "" {
			name = "request/unlimited"
		}
		b.Run(name, func(b *testing.B) {
			br.page("request")
			var shown int
			for b.Loop() {
				shown = len(br.ask(requestForm{"resources": "VCPU:1", "limit": limit}))
			}
			b.ReportMetric(float64(shown), "candidates")
		})
	}
	b.Run("request/unlimited-api-only", func(b *testing.B) {
		for b.Loop() {
			var doc json.RawMessage
			srv.api(b, "admin", "GET", "/allocation_candidates?resources=VCPU:1", nil, &doc)
		}
	})
	b.Run("explorer/tree", func(b *testing.B) {
		br.page("explorer")
		for b.Loop() {
			br.do("search", setField("ex-text", last), chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.answered`),
				chromedp.Click(chromedp.CSS(`#explorer-form button`)), chromedp.WaitReady(chromedp.CSS(`body[data-answered="yes"]`)))
		}
	})
	br.noErrors()
}
