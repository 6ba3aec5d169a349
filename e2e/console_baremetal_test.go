package e2e

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"allot/internal/auth"
	"allot/internal/cli"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// The console's bare-metal page in real headless Chromium, on "allot
// serve" with both APIs: its counts against the Bare Metal API's lists,
// the failed allocation's last_error, the dry-run form's answer against
// the API's, an allocation created and deleted from the page, a reader
// without write controls, and a server without the Bare Metal API.

// bmConsole is "allot serve" run in-process (internal/cli/serve.go's
// wiring) on SQLite with the Placement and Bare Metal listeners, noauth2
// on both, and the allocation workers on.
type bmConsole struct {
	*consoleServer
	bm string // the Bare Metal listener's URL
}

func startBaremetalConsole(t testing.TB, placementPolicy, baremetalPolicy string) *bmConsole {
	t.Helper()
	cfg := cli.ServeConfig{PlacementListen: "127.0.0.1:0", BaremetalListen: "127.0.0.1:0",
		DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"), SQLiteSynchronous: "normal",
		PlacementAuth: auth.NoAuth2, BaremetalAuth: auth.NoAuth2,
		Policy: policy.Options{PolicyFile: placementPolicy}, BaremetalPolicyFile: baremetalPolicy}
	l := serveInProcess(t, cfg, slog.New(slog.DiscardHandler))
	return &bmConsole{consoleServer: &consoleServer{url: "http://" + l.Placement}, bm: "http://" + l.Baremetal}
}

// ironic sends one request to the Bare Metal listener as the noauth2
// admin at microversion 1.79 and decodes the answer into out (when not
// nil), failing unless the status is want.
func (s *bmConsole) ironic(t testing.TB, want int, method, path string, body, out any) {
	t.Helper()
	r := testserver.Send(t, method, s.bm+path, http.Header{"X-Auth-Token": {"admin"}, "X-Openstack-Ironic-Api-Version": {"1.79"}}, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, r.Body)
		}
	}
}

// node enrolls a fake-hardware node and takes it through the verbs
// (manage, provide), powered on unless off; it returns its UUID.
func (s *bmConsole) node(t testing.TB, name, class string, traits []string, powerOn bool, verbs ...string) string {
	t.Helper()
	var n struct{ UUID string }
	s.ironic(t, 201, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "name": name, "resource_class": class}, &n)
	for _, verb := range verbs {
		s.ironic(t, 202, "PUT", "/v1/nodes/"+n.UUID+"/states/provision", map[string]any{"target": verb}, nil)
	}
	if powerOn {
		s.ironic(t, 202, "PUT", "/v1/nodes/"+n.UUID+"/states/power", map[string]any{"target": "power on"}, nil)
	}
	if len(traits) > 0 {
		s.ironic(t, 204, "PUT", "/v1/nodes/"+n.UUID+"/traits", map[string]any{"traits": traits}, nil)
	}
	return n.UUID
}

// bmAllocation is an allocation as the test reads it.
type bmAllocation struct {
	UUID      string  `json:"uuid"`
	Name      *string `json:"name"`
	State     string  `json:"state"`
	LastError *string `json:"last_error"`
	NodeUUID  *string `json:"node_uuid"`
}

// allocate asks for an allocation and waits until a worker has decided it.
func (s *bmConsole) allocate(t testing.TB, body map[string]any) bmAllocation {
	t.Helper()
	var a bmAllocation
	s.ironic(t, 201, "POST", "/v1/allocations", body, &a)
	return s.settled(t, a.UUID)
}

// seedBaremetal builds nodes in several states (one in maintenance, one
// with no power state), an allocation of each class that finds a node and
// one that cannot (an unknown class), and returns the failed one.
func (s *bmConsole) seedBaremetal(t *testing.T) bmAllocation {
	t.Helper()
	s.node(t, "gpu-1", "gold", []string{"CUSTOM_GPU"}, true, "manage", "provide")
	s.node(t, "gold-2", "gold", nil, true, "manage", "provide")
	s.node(t, "gold-3", "gold", nil, true, "manage", "provide")
	held := s.node(t, "gold-4", "gold", []string{"CUSTOM_GPU"}, true, "manage", "provide")
	s.ironic(t, 202, "PUT", "/v1/nodes/"+held+"/maintenance", map[string]any{"reason": "fan replaced"}, nil)
	s.node(t, "gold-5", "gold", nil, false, "manage")
	s.node(t, "silver-1", "silver", nil, true, "manage", "provide")
	s.node(t, "new-1", "silver", nil, false)
	if a := s.allocate(t, map[string]any{"name": "web-gpu", "resource_class": "gold", "traits": []string{"CUSTOM_GPU"}}); a.State != "active" {
		t.Fatalf("the GPU allocation: %+v", a)
	}
	if a := s.allocate(t, map[string]any{"name": "db-silver", "resource_class": "silver"}); a.State != "active" {
		t.Fatalf("the silver allocation: %+v", a)
	}
	failed := s.allocate(t, map[string]any{"name": "no-bronze", "resource_class": "bronze"})
	if failed.State != "error" || failed.LastError == nil || *failed.LastError == "" {
		t.Fatalf("an allocation of a class no node has: %+v", failed)
	}
	return failed
}

// expectedCounts computes, from GET /v1/nodes and /v1/allocations on the
// Bare Metal listener, what the page's count tables should hold: table id
// -> value as shown -> count.
func (s *bmConsole) expectedCounts(t *testing.T) map[string]map[string]int {
	t.Helper()
	var nodes struct {
		Nodes []struct {
			ProvisionState string  `json:"provision_state"`
			PowerState     *string `json:"power_state"`
			Maintenance    bool    `json:"maintenance"`
			ResourceClass  *string `json:"resource_class"`
		} `json:"nodes"`
	}
	s.ironic(t, 200, "GET", "/v1/nodes?fields=provision_state,power_state,maintenance,resource_class", nil, &nodes)
	shown := func(p *string) string { // as the page keys them
		switch {
		case p == nil:
			return "none"
		case *p == "":
			return "(empty)"
		}
		return *p
	}
	want := map[string]map[string]int{"bm-provision": {}, "bm-power": {}, "bm-maintenance": {}, "bm-class": {}, "bm-alloc-states": {}}
	for _, n := range nodes.Nodes {
		want["bm-provision"][n.ProvisionState]++
		want["bm-power"][shown(n.PowerState)]++
		want["bm-maintenance"][strconv.FormatBool(n.Maintenance)]++
		want["bm-class"][shown(n.ResourceClass)]++
	}
	var allocs struct{ Allocations []bmAllocation }
	s.ironic(t, 200, "GET", "/v1/allocations", nil, &allocs)
	for _, a := range allocs.Allocations {
		want["bm-alloc-states"][a.State]++
	}
	return want
}

// shownCounts reads the page's count tables and allocation state buttons.
func shownCounts(b *browser) map[string]map[string]int {
	b.t.Helper()
	raw := eval[string](b, `JSON.stringify(Object.fromEntries(
	  ['bm-provision', 'bm-power', 'bm-maintenance', 'bm-class', 'bm-alloc-states'].map((id) => [id,
	    Object.fromEntries([...document.querySelectorAll('#' + id + ' [data-count]')].map((el) => [el.dataset.value || el.dataset.state, Number(el.dataset.count)]))])))`)
	var got map[string]map[string]int
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		b.t.Fatalf("%v in %s", err, raw)
	}
	return got
}

// dryRun fills the page's dry-run form, submits it and returns the pick
// it shows and its verdicts (node uuid -> "fits" or the reasons).
func (b *browser) dryRun(class, traits, candidates, name string) (pick []string, verdicts map[string]string) {
	b.t.Helper()
	b.do("dry run", setField("bm-dry-class", class), setField("bm-dry-traits", traits),
		setField("bm-dry-candidates", candidates), setField("bm-dry-name", name),
		chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.answered`),
		chromedp.Click(chromedp.CSS(`#bm-dry button[type=submit]`)), chromedp.WaitReady(chromedp.CSS(`body[data-answered="yes"]`)))
	raw := eval[string](b, `JSON.stringify({pick: document.getElementById('bm-dry-verdict').dataset.pick,
	  verdicts: Object.fromEntries([...document.querySelectorAll('#bm-dry-nodes tbody tr')].map((tr) =>
	    [tr.dataset.uuid, tr.dataset.fits === 'true' ? 'fits' : tr.cells[2].textContent]))})`)
	var doc struct {
		Pick     string            `json:"pick"`
		Verdicts map[string]string `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		b.t.Fatalf("%v in %s", err, raw)
	}
	pick = strings.Fields(doc.Pick)
	sort.Strings(pick)
	return pick, doc.Verdicts
}

// apiDryRun is the Bare Metal API's answer to the same dry run.
func (s *bmConsole) apiDryRun(t *testing.T, body map[string]any) (pick []string, verdicts map[string]string) {
	t.Helper()
	var d struct {
		Nodes []struct {
			UUID    string   `json:"uuid"`
			Fits    bool     `json:"fits"`
			Reasons []string `json:"reasons"`
		} `json:"nodes"`
		WouldPick []string `json:"would_pick"`
	}
	s.ironic(t, 200, "POST", "/allot/v1/allocations/dry-run", body, &d)
	verdicts = map[string]string{}
	for _, n := range d.Nodes {
		verdicts[n.UUID] = strings.Join(n.Reasons, "; ")
		if n.Fits {
			verdicts[n.UUID] = "fits"
		}
	}
	pick = append([]string{}, d.WouldPick...)
	sort.Strings(pick)
	return pick, verdicts
}

func TestConsoleBaremetal(t *testing.T) {
	b := newBrowser(t)
	srv := startBaremetalConsole(t, "", "")
	failed := srv.seedBaremetal(t)
	b.signIn(srv.url, "admin", "admin")
	b.page("baremetal")

	if got, want := shownCounts(b), srv.expectedCounts(t); !reflect.DeepEqual(got, want) {
		t.Errorf("the page's counts\n got %v\nwant %v (from the lists)", got, want)
	}
	var nodes struct{ Nodes []struct{ UUID string } }
	srv.ironic(t, 200, "GET", "/v1/nodes", nil, &nodes)
	if n := eval[int](b, `document.querySelectorAll('#bm-nodes tbody tr').length`); n != len(nodes.Nodes) {
		t.Errorf("the node list shows %d nodes, the API lists %d", n, len(nodes.Nodes))
	}
	// The failed allocation is shown first, with its last_error.
	shownError := eval[string](b, fmt.Sprintf(`(document.querySelector('#bm-allocations tr[data-uuid=%q] [data-field=last_error]') || {}).textContent || ''`, failed.UUID))
	if shownError != *failed.LastError {
		t.Errorf("the failed allocation's last_error on the page: %q, want %q", shownError, *failed.LastError)
	}
	// A state in the counts filters the node list as Ironic's list does,
	// and so does the filter form.
	for _, f := range []struct {
		step, action, query string
	}{
		{"a count's link", `document.querySelector('#bm-provision tr[data-value=manageable] a').click()`, "provision_state=manageable"},
		{"the form", `document.getElementById('bm-f-provision').value = ''; document.getElementById('bm-f-maintenance').value = 'true';
		  document.querySelector('#bm-filter button').click()`, "maintenance=true"},
	} {
		var want struct{ Nodes []struct{ UUID string } }
		srv.ironic(t, 200, "GET", "/v1/nodes?"+f.query, nil, &want)
		uuids := make([]string, 0, len(want.Nodes))
		for _, n := range want.Nodes {
			uuids = append(uuids, n.UUID)
		}
		wantJSON, _ := json.Marshal(uuids)
		b.do("filter by "+f.step, chromedp.Evaluate[chromedp.Void](f.action),
			chromedp.Poll[chromedp.Void](`JSON.stringify([...document.querySelectorAll('#bm-nodes tbody tr')].map((tr) => tr.dataset.uuid)) === `+"`"+string(wantJSON)+"`"))
	}

	// The dry-run form shows what the API answers: one that fits, one
	// that cannot, one among candidates.
	for _, q := range []struct{ class, traits, candidates string }{
		{"gold", "", ""},
		{"gold", "CUSTOM_GPU", ""},
		{"silver", "", "new-1, silver-1"},
	} {
		body := map[string]any{"resource_class": q.class}
		if q.traits != "" {
			body["traits"] = strings.Fields(q.traits)
		}
		if q.candidates != "" {
			body["candidate_nodes"] = strings.Split(strings.ReplaceAll(q.candidates, " ", ""), ",")
		}
		wantPick, wantVerdicts := srv.apiDryRun(t, body)
		pick, verdicts := b.dryRun(q.class, q.traits, q.candidates, "")
		if !reflect.DeepEqual(pick, wantPick) || !reflect.DeepEqual(verdicts, wantVerdicts) {
			t.Errorf("dry run %+v on the page: pick %v, verdicts %v\nthe API: pick %v, verdicts %v", q, pick, verdicts, wantPick, wantVerdicts)
		}
		if len(wantPick) == 0 && !strings.HasPrefix(eval[string](b, `document.getElementById('bm-dry-verdict').textContent`), "No node fits") {
			t.Errorf("dry run %+v: the page does not say that no node fits", q)
		}
	}
	b.dryRun("gold", "", "", "from-console")
	b.screenshot("baremetal")

	// An allocation created from the dry run's answer, then deleted from
	// the list of active ones.
	b.do("create", chromedp.Click(chromedp.CSS(`#bm-create`)), chromedp.WaitReady(chromedp.CSS(`#bm-notice`)))
	made := srv.settled(t, "from-console")
	if made.State != "active" || made.NodeUUID == nil {
		t.Fatalf("the allocation created from the page: %+v", made)
	}
	row := fmt.Sprintf(`#bm-allocations tr[data-uuid=%q]`, made.UUID)
	b.do("delete", chromedp.Click(chromedp.CSS(`#bm-alloc-states button[data-state=active]`)), chromedp.WaitReady(chromedp.CSS(row)),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('`+row+` button[data-write]'); b.click(); b.click(); })()`),
		chromedp.Poll[chromedp.Void](`(document.getElementById('bm-notice') || {}).textContent === 'Allocation from-console deleted.'`))
	srv.ironic(t, 404, "GET", "/v1/allocations/"+made.UUID, nil, nil)
	b.noErrors()
}

// settled waits until allocation ident has left state allocating.
func (s *bmConsole) settled(t testing.TB, ident string) bmAllocation {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var a bmAllocation
		s.ironic(t, 200, "GET", "/v1/allocations/"+ident, nil, &a)
		if a.State != "allocating" {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("allocation %s is still allocating", ident)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleBaremetalReader: a caller whom both APIs' policies let read
// and not write sees the bare-metal page's counts and lists and no write
// control; a server without the Bare Metal API says so on the page.
func TestConsoleBaremetalReader(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	placementPolicy, baremetalPolicy := filepath.Join(dir, "placement.yaml"), filepath.Join(dir, "baremetal.yaml")
	reader := `"role:admin or user_id:reader"`
	var rules strings.Builder
	for _, r := range []string{"node:list", "node:list_all", "node:get", "allocation:list", "allocation:list_all", "allocation:get"} {
		fmt.Fprintf(&rules, "\"baremetal:%s\": %s\n", r, reader)
	}
	for file, text := range map[string]string{placementPolicy: `"system_reader_api": ` + reader + "\n", baremetalPolicy: rules.String()} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := startBaremetalConsole(t, placementPolicy, baremetalPolicy)
	srv.seedBaremetal(t)
	b.signIn(srv.url, "reader", "admin")
	b.page("baremetal")
	if got, want := shownCounts(b), srv.expectedCounts(t); !reflect.DeepEqual(got, want) {
		t.Errorf("the reader's counts\n got %v\nwant %v (from the lists)", got, want)
	}
	if n := eval[int](b, `document.querySelectorAll('#bm-allocations tbody tr').length`); n == 0 {
		t.Error("the reader sees no allocations")
	}
	if n := eval[int](b, `document.querySelectorAll('[data-write], button.write').length`); n != 0 {
		t.Errorf("the reader sees %d write controls on the bare-metal page", n)
	}
	if eval[int](b, `document.querySelectorAll('#bm-dry-denied').length`) != 1 {
		t.Error("the page does not tell the reader why there is no dry-run form")
	}
	b.noErrors()

	// allot serving Placement only: the page says the Bare Metal API is
	// not there.
	only := startConsoleServer(t, "")
	b.signIn(only.url, "admin", "admin")
	b.page("baremetal")
	if text := eval[string](b, `(document.getElementById('bm-absent') || {}).textContent || ''`); !strings.Contains(text, "--baremetal-listen") {
		t.Errorf("without the Bare Metal API the page says %q", text)
	}
	b.noErrors()
}

// seedNodes enrolls n nodes through the Bare Metal API (8 at a time),
// every other one taken to available and powered on, every tenth of those
// in maintenance.
func (s *bmConsole) seedNodes(t testing.TB, n int) {
	t.Helper()
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				class := []string{"gold", "silver", "bronze"}[i%3]
				if i%2 == 0 {
					s.node(t, fmt.Sprintf("node-%05d", i), class, nil, false)
					continue
				}
				id := s.node(t, fmt.Sprintf("node-%05d", i), class, nil, true, "manage", "provide")
				if i%20 == 1 {
					s.ironic(t, 202, "PUT", "/v1/nodes/"+id+"/maintenance", map[string]any{"reason": "scale"}, nil)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// BenchmarkConsoleBaremetal times the bare-metal page on
// ALLOT_CONSOLE_SCALE nodes (default 10,000) in headless Chromium, from
// opening the console until the page has drawn, and a dry run over every
// node of a class. A measurement for docs/performance.md, never an
// assertion:
//
//	go test -run '^$' -bench BenchmarkConsoleBaremetal -benchtime 5x ./e2e/
func BenchmarkConsoleBaremetal(b *testing.B) {
	n := 10000
	if v := os.Getenv("ALLOT_CONSOLE_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ALLOT_CONSOLE_SCALE=%q: a number of nodes", v)
		}
	}
	srv := startBaremetalConsole(b, "", "")
	start := time.Now()
	srv.seedNodes(b, n)
	b.Logf("seeded %d nodes through the Bare Metal API in %s", n, time.Since(start).Round(time.Millisecond))
	br := newBrowser(b) // after the seeding, which can outlast the tab's deadline
	br.signIn(srv.url, "admin", "admin")
	b.Run("page", func(b *testing.B) {
		i := 0
		for b.Loop() { // a fresh load of the console each time (the token stays in the tab)
			i++
			br.do("load the bare-metal page", chromedp.Navigate(fmt.Sprintf("%s/ui/?load=%d#/baremetal", srv.url, i)),
				chromedp.WaitReady(chromedp.CSS(`body[data-ready="baremetal"]`)))
		}
		b.Logf("%d nodes: the bare-metal page drew in %s a load (mean of %d)", n, (b.Elapsed() / time.Duration(i)).Round(time.Millisecond), i)
	})
	b.Run("summary-api-only", func(b *testing.B) {
		for b.Loop() {
			srv.ironic(b, 200, "GET", "/allot/v1/summary", nil, nil)
		}
	})
	b.Run("dry-run", func(b *testing.B) {
		for b.Loop() {
			br.dryRun("gold", "", "", "")
		}
	})
	br.noErrors()
}
