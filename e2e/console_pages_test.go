package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// The console's capacity per aggregate and heat map, the explorer's
// search, sharing relations, consumers and live tree, and the request
// builder's funnel and ranking, in real headless Chromium against the
// API's own answers. ALLOT_CONSOLE_SCREENSHOTS=1 writes the screenshots;
// TestConsolePagesAtScale logs the pages' times on ALLOT_CONSOLE_SCALE
// providers (default 10,000).

// pagesCloud is seedCloud's cloud plus a sharing provider of DISK_GB in
// compute-1's aggregate, a second aggregate on compute-2 and compute-3,
// and a consumer with its own project and user on compute-1's NUMA node.
type pagesCloud struct {
	host, agg, agg2, shared, numa0, consumer string
}

func (s *consoleServer) seedPagesCloud(t *testing.T) pagesCloud {
	t.Helper()
	var c pagesCloud
	c.host, c.agg = s.seedCloud(t)
	byName := map[string]string{}
	for _, p := range s.providers(t, "") {
		byName[p.Name] = p.UUID
	}
	c.numa0 = byName["compute-1-numa0"]
	generation := func(rp string) int {
		var p struct{ Generation int }
		s.api(t, "admin", "GET", "/resource_providers/"+rp, nil, &p)
		return p.Generation
	}
	c.shared = uuid.NewString()
	s.api(t, "admin", "POST", "/resource_providers", map[string]any{"name": "shared-disk", "uuid": c.shared}, nil)
	s.api(t, "admin", "PUT", "/resource_providers/"+c.shared+"/inventories", map[string]any{"resource_provider_generation": 0,
		"inventories": map[string]any{"DISK_GB": map[string]any{"total": 2000, "reserved": 100}}}, nil)
	s.api(t, "admin", "PUT", "/resource_providers/"+c.shared+"/traits", map[string]any{"resource_provider_generation": generation(c.shared),
		"traits": []string{"MISC_SHARES_VIA_AGGREGATE"}}, nil)
	s.api(t, "admin", "PUT", "/resource_providers/"+c.shared+"/aggregates", map[string]any{"resource_provider_generation": generation(c.shared),
		"aggregates": []string{c.agg}}, nil)
	c.agg2 = uuid.NewString()
	for _, name := range []string{"compute-2", "compute-3"} {
		rp := byName[name]
		s.api(t, "admin", "PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{"resource_provider_generation": generation(rp),
			"aggregates": []string{c.agg2}}, nil)
	}
	c.consumer = uuid.NewString()
	s.api(t, "admin", "PUT", "/allocations/"+c.consumer, map[string]any{
		"allocations": map[string]any{c.numa0: map[string]any{"resources": map[string]int{"VCPU": 5}}},
		"project_id":  "p-pages", "user_id": "u-pages", "consumer_generation": nil, "consumer_type": "INSTANCE"}, nil)
	return c
}

// listedProvider is a provider as GET /resource_providers lists it.
type listedProvider struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
	Root string `json:"root_provider_uuid"`
}

// providers lists the providers of GET /resource_providers?q.
func (s *consoleServer) providers(t *testing.T, q string) []listedProvider {
	t.Helper()
	var list struct {
		Providers []listedProvider `json:"resource_providers"`
	}
	s.api(t, "admin", "GET", "/resource_providers?"+q, nil, &list)
	return list.Providers
}

// classSum is one class summed over providers, as the standard endpoints
// give each provider's inventory and usage.
type classSum struct{ total, reserved, capacity, used, free int64 }

// sumsOf adds up, per class, the inventories and usages of the providers.
func (s *consoleServer) sumsOf(t *testing.T, providers []string) map[string]*classSum {
	t.Helper()
	out := map[string]*classSum{}
	for _, rp := range providers {
		var invs struct {
			Inventories map[string]struct {
				Total    int64   `json:"total"`
				Reserved int64   `json:"reserved"`
				Ratio    float64 `json:"allocation_ratio"`
			} `json:"inventories"`
		}
		var usages struct {
			Usages map[string]int64 `json:"usages"`
		}
		s.api(t, "admin", "GET", "/resource_providers/"+rp+"/inventories", nil, &invs)
		s.api(t, "admin", "GET", "/resource_providers/"+rp+"/usages", nil, &usages)
		for class, inv := range invs.Inventories {
			c := out[class]
			if c == nil {
				c = &classSum{}
				out[class] = c
			}
			capacity := int64(float64(inv.Total-inv.Reserved) * inv.Ratio)
			c.total += inv.Total
			c.reserved += inv.Reserved
			c.capacity += capacity
			c.used += usages.Usages[class]
			c.free += max(capacity-usages.Usages[class], 0)
		}
	}
	return out
}

// aggregateMembers are the providers that count in an aggregate: those in
// it and those whose root is in it.
func (s *consoleServer) aggregateMembers(t *testing.T, agg string) []string {
	t.Helper()
	direct := map[string]bool{}
	for _, p := range s.providers(t, "member_of="+agg) {
		direct[p.UUID] = true
	}
	var out []string
	for _, p := range s.providers(t, "") {
		if direct[p.UUID] || direct[p.Root] {
			out = append(out, p.UUID)
		}
	}
	return out
}

// explore submits the explorer's form with by and text and waits
// for its answer.
func (b *browser) explore(by, text string) {
	b.t.Helper()
	b.do("search by "+by, setField("ex-by", by), setField("ex-text", text), chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.answered`),
		chromedp.Click(chromedp.CSS(`#explorer-form button`)), chromedp.WaitReady(chromedp.CSS(`body[data-answered="yes"]`)))
}

func TestConsolePages(t *testing.T) {
	b := newBrowser(t)
	srv := startConsoleServer(t, "")
	c := srv.seedPagesCloud(t)
	b.signIn(srv.url, "admin", "admin")

	// Capacity per aggregate: every class's numbers are the sums over the
	// providers in the aggregate or under a root in it.
	for _, agg := range []string{c.agg, c.agg2} {
		members := srv.aggregateMembers(t, agg)
		want := srv.sumsOf(t, members)
		if got := eval[string](b, `(document.querySelector('#capacity-aggregates-table tr[data-aggregate="`+agg+`"] td[data-field="members"]') || {dataset: {}}).dataset.value || 'none'`); got != strconv.Itoa(len(members)) {
			t.Errorf("aggregate %s: %s providers, the API says %d", agg, got, len(members))
		}
		if n := eval[int](b, `document.querySelectorAll('#capacity-aggregates-table tr[data-aggregate="`+agg+`"][data-class]').length`); n != len(want) {
			t.Errorf("aggregate %s: %d classes shown, the API has %d", agg, n, len(want))
		}
		for class, w := range want {
			for field, v := range map[string]int64{"total": w.total, "reserved": w.reserved, "capacity": w.capacity, "used": w.used, "free": w.free} {
				sel := `#capacity-aggregates-table tr[data-aggregate="` + agg + `"][data-class="` + class + `"] td[data-field="` + field + `"]`
				if got := eval[string](b, `(document.querySelector('`+sel+`') || {dataset: {}}).dataset.value || 'none'`); got != strconv.FormatInt(v, 10) {
					t.Errorf("aggregate %s %s %s: the page shows %s, the API's sum is %d", agg, class, field, got, v)
				}
			}
		}
	}
	// The heat map: one cell per tree with VCPU, and the listed trees'
	// shares are the API's used / capacity.
	var trees []string
	shares := map[string]int64{}
	for _, p := range srv.providers(t, "") {
		if p.Root == p.UUID {
			var tree []string
			for _, m := range srv.providers(t, "in_tree="+p.UUID) {
				tree = append(tree, m.UUID)
			}
			if v := srv.sumsOf(t, tree)["VCPU"]; v != nil {
				trees = append(trees, p.UUID)
				shares[p.UUID] = v.used * 1000 / v.capacity
			}
		}
	}
	if n := eval[int](b, `document.querySelectorAll('#capacity-roots tr[data-uuid]').length`); n != len(trees) {
		t.Errorf("the heat map lists %d trees, %d have VCPU", n, len(trees))
	}
	for _, root := range trees {
		if got := eval[string](b, `(document.querySelector('#capacity-roots tr[data-uuid="`+root+`"]') || {dataset: {}}).dataset.permille || 'none'`); got != strconv.FormatInt(shares[root], 10) {
			t.Errorf("tree %s: %s‰ in use on the page, the API's numbers give %d", root, got, shares[root])
		}
	}
	if cells := eval[string](b, `document.getElementById('capacity-heatmap').dataset.cells`); cells != strconv.Itoa(len(trees)) {
		t.Errorf("the heat map draws %s cells, %d trees have VCPU", cells, len(trees))
	}
	for _, typ := range []string{"INSTANCE", "MIGRATION", "BAREMETAL", "unknown"} {
		if !eval[bool](b, `!!document.querySelector('#capacity-consumers tr[data-type="`+typ+`"]')`) {
			t.Errorf("the consumer types leave out %s", typ)
		}
	}
	b.screenshot("capacity-aggregates")
	b.noErrors()

	// An aggregate's link lists its providers in the explorer.
	b.do("open an aggregate", chromedp.Click(chromedp.CSS(`#capacity-aggregates-table tr[data-aggregate="`+c.agg2+`"] a`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="explorer"]`)))
	var inAgg2 []string
	for _, p := range srv.providers(t, "member_of="+c.agg2) {
		inAgg2 = append(inAgg2, p.UUID)
	}
	listed := eval[[]string](b, `[...document.querySelectorAll('#explorer-found tr[data-uuid]')].map(r => r.dataset.uuid)`)
	slices.Sort(inAgg2)
	slices.Sort(listed)
	if len(inAgg2) == 0 || !slices.Equal(listed, inAgg2) {
		t.Errorf("aggregate %s: the explorer lists %v, the API %v", c.agg2, listed, inAgg2)
	}

	// Explorer: a part of a name in another case finds the providers whose
	// names hold it, and only them.
	b.page("explorer")
	b.explore("name", "NUMA")
	var want []string
	for _, p := range srv.providers(t, "") {
		if strings.Contains(strings.ToLower(p.Name), "numa") {
			want = append(want, p.UUID)
		}
	}
	got := eval[[]string](b, `[...document.querySelectorAll('#explorer-found tr[data-uuid]')].map(r => r.dataset.uuid)`)
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("searching NUMA found %v, the names holding it are %v", got, want)
	}
	b.explore("uuid", strings.ToUpper(c.shared[:8]))
	if got := eval[[]string](b, `[...document.querySelectorAll('#explorer-found tr[data-uuid]')].map(r => r.dataset.uuid)`); !slices.Equal(got, []string{c.shared}) {
		t.Errorf("the UUID prefix %s found %v", c.shared[:8], got)
	}
	// The sharing provider's tree says which trees it serves.
	if !eval[bool](b, `!!document.querySelector('#explorer-tree .sharing a[data-uuid="`+c.host+`"]')`) {
		t.Errorf("shared-disk does not show that it serves compute-1: %s", eval[string](b, `document.getElementById('explorer-tree').textContent`))
	}

	// compute-1's tree: served by the sharing provider; the consumer on
	// its NUMA node with its project, user, type and amounts.
	b.explore("name", "compute-1")
	if !eval[bool](b, `!!document.querySelector('#explorer-shared-by a[data-uuid="`+c.shared+`"]')`) {
		t.Errorf("compute-1's tree does not show shared-disk serving it: %s", eval[string](b, `document.getElementById('explorer-tree').textContent`))
	}
	var held struct {
		Allocations map[string]struct {
			Resources map[string]int64 `json:"resources"`
		} `json:"allocations"`
		Project string `json:"project_id"`
		User    string `json:"user_id"`
		Type    string `json:"consumer_type"`
	}
	srv.api(t, "admin", "GET", "/allocations/"+c.consumer, nil, &held)
	row := `#explorer-tree li.node[data-uuid="` + c.numa0 + `"] > details tr[data-consumer="` + c.consumer + `"]`
	for field, w := range map[string]string{"project": held.Project, "user": held.User, "type": held.Type,
		"resources": fmt.Sprintf("VCPU=%d", held.Allocations[c.numa0].Resources["VCPU"])} {
		if got := eval[string](b, `(document.querySelector('`+row+` td[data-field="`+field+`"]') || {}).textContent || 'none'`); got != w {
			t.Errorf("consumer %s on compute-1-numa0: %s %q, the API says %q", c.consumer, field, got, w)
		}
	}
	b.do("unfold the consumers", chromedp.Evaluate[chromedp.Void](`document.querySelector('#explorer-tree li.node[data-uuid="`+c.numa0+`"] > details').open = true`))
	b.screenshot("explorer-sharing")
	b.noErrors()

	// Live: a provider added to the tree through the API shows without a
	// search, and the consumers unfolded stay unfolded.
	before := len(srv.providers(t, "in_tree="+c.host))
	added := uuid.NewString()
	srv.api(t, "admin", "POST", "/resource_providers", map[string]any{"name": "compute-1-numa2", "uuid": added, "parent_provider_uuid": c.host}, nil)
	b.do("the explorer follows a write", chromedp.Poll[chromedp.Void](
		`document.querySelectorAll('#explorer-tree li.node').length === `+strconv.Itoa(before+1)+
			` && !!document.querySelector('#explorer-tree li.node[data-uuid="`+added+`"]')`, chromedp.WithPollingTimeout(30*time.Second)))
	if !eval[bool](b, `document.querySelector('#explorer-tree li.node[data-uuid="`+c.numa0+`"] > details').open`) {
		t.Error("the redraw folded the consumers the reader had unfolded")
	}
	b.noErrors()

	// Request builder: an impossible request's funnel, stage by stage, is
	// the explain API's.
	b.page("request")
	impossible := requestForm{"resources": "VCPU:40", "required": "HW_CPU_X86_AVX2"}
	if got := b.ask(impossible); len(got) != 0 {
		t.Fatalf("%v gave %d candidates", impossible, len(got))
	}
	var ex struct {
		Trees      int `json:"trees"`
		WithCands  int `json:"trees_with_candidates"`
		TreeStages []struct {
			Stage   string `json:"stage"`
			Removed int    `json:"removed"`
		} `json:"tree_stages"`
		Groups []struct {
			Suffix      string `json:"suffix"`
			Providers   int    `json:"providers"`
			InCands     int    `json:"in_candidates"`
			NotExamined int    `json:"not_examined"`
			Stages      []struct {
				Stage   string `json:"stage"`
				Removed int    `json:"removed"`
			} `json:"stages"`
			TreeStages []struct {
				Stage   string `json:"stage"`
				Removed int    `json:"removed"`
			} `json:"tree_stages"`
		} `json:"groups"`
	}
	srv.api(t, "admin", "GET", "/allot/v1/allocation_candidates/explain?"+impossible.query().Encode(), nil, &ex)
	type funnelRow struct {
		Stage   string `json:"stage"`
		Removed int    `json:"removed"`
	}
	shown := func(group string) []funnelRow {
		return eval[[]funnelRow](b, `[...document.querySelectorAll('ul.funnel[data-group="`+group+`"] li[data-stage]')].map(li => ({stage: li.dataset.stage, removed: Number(li.dataset.removed)}))`)
	}
	for _, g := range ex.Groups {
		var wantRows []funnelRow
		for _, s := range append(g.Stages, g.TreeStages...) {
			if s.Removed > 0 {
				wantRows = append(wantRows, funnelRow{s.Stage, s.Removed})
			}
		}
		if g.NotExamined > 0 {
			wantRows = append(wantRows, funnelRow{"not_examined", g.NotExamined})
		}
		name := g.Suffix
		if name == "" {
			name = "(unsuffixed)"
		}
		if got := shown(name); len(wantRows) == 0 || !slices.Equal(got, wantRows) {
			t.Errorf("group %s: the funnel shows %v, the explain API %v", name, got, wantRows)
		}
		if start, end := eval[string](b, `document.querySelector('ul.funnel[data-group="`+name+`"] li.start').dataset.left`),
			eval[string](b, `document.querySelector('ul.funnel[data-group="`+name+`"] li.end').dataset.left`); start != strconv.Itoa(g.Providers) || end != strconv.Itoa(g.InCands) {
			t.Errorf("group %s: the funnel goes from %s to %s, the explain API from %d to %d", name, start, end, g.Providers, g.InCands)
		}
	}
	var treeRows []funnelRow
	for _, s := range ex.TreeStages {
		if s.Removed > 0 {
			treeRows = append(treeRows, funnelRow{s.Stage, s.Removed})
		}
	}
	if got := shown("(trees)"); !slices.Equal(got, treeRows) {
		t.Errorf("trees: the funnel shows %v, the explain API %v", got, treeRows)
	}
	b.screenshot("request-funnel")
	b.noErrors()

	// Ranking: pack with a limit of one gives the extension's candidate,
	// and the command shown, run by allot's CLI, the same.
	ranked := requestForm{"resources": "VCPU:1", "limit": "1"}
	b.do("choose pack", setField("rq-strategy", "pack"), setField("rq-prefer_trait", "HW_CPU_X86_AVX2:-5"))
	got = b.ask(ranked)
	q := ranked.query()
	q.Set("strategy", "pack")
	q.Set("prefer_trait", "HW_CPU_X86_AVX2:-5")
	var doc json.RawMessage
	srv.api(t, "admin", "GET", "/allot/v1/allocation_candidates?"+q.Encode(), nil, &doc)
	wantKeys := keysOf(t, doc)
	if len(wantKeys) != 1 || !slices.Equal(got, wantKeys) {
		t.Errorf("pack, preferring no AVX2: the console shows %v, the API %v", got, wantKeys)
	}
	words := shellWords(t, eval[string](b, `document.getElementById('request-command').textContent`))
	if !slices.Contains(words, "--strategy") || !slices.Contains(words, "--prefer-trait") {
		t.Errorf("the command %q leaves out the ranking", words)
	}
	if out := keysOf(t, []byte(allotCLI(t, srv.url, append(words[1:], "-f", "json")...))); !slices.Equal(out, wantKeys) {
		t.Errorf("the shown command %q gives %v, the API %v", words, out, wantKeys)
	}
	if u := eval[string](b, `document.getElementById('request-url').textContent`); !strings.Contains(u, "/allot/v1/allocation_candidates?") || !strings.Contains(u, "strategy=pack") {
		t.Errorf("the URL shown %q is not the extension's", u)
	}
	b.do("clear the ranking", setField("rq-strategy", ""), setField("rq-prefer_trait", ""))
	b.noErrors()
}

// TestConsolePagesAtScale times the capacity page (heat map and
// aggregates included) and the explorer's search on ALLOT_CONSOLE_SCALE
// providers (default 10,000; 1,000 under the race detector): logged,
// never asserted; and checks that the
// pages show the whole cloud (a heat-map cell per tree, the count of
// matches) while drawing a page of it.
func TestConsolePagesAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 providers")
	}
	n := 10000
	if raceEnabled {
		// Times under the race detector say nothing; the pages' checks at
		// a thousand keep the suite's run within its timeout.
		n = 1000
	}
	if v := os.Getenv("ALLOT_CONSOLE_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("ALLOT_CONSOLE_SCALE=%q: a number of providers", v)
		}
	}
	b := newBrowser(t)
	srv := startConsoleServer(t, "")
	start := time.Now()
	last := srv.seedScale(t, n)
	t.Logf("seeded %d providers through the API in %s", n, time.Since(start).Round(time.Millisecond))
	b.signIn(srv.url, "admin", "admin")

	for i := range 3 {
		start := time.Now()
		b.do("load the capacity page", chromedp.Navigate(fmt.Sprintf("%s/ui/?load=%d#/capacity", srv.url, i)),
			chromedp.WaitReady(chromedp.CSS(`body[data-ready="capacity"]`)))
		t.Logf("capacity page with its heat map at %d providers: %s; its API reads (ms from navigation start to end of answer): %s", n, time.Since(start).Round(time.Millisecond),
			eval[string](b, `performance.getEntriesByType('resource').filter(e => e.name.includes('/allot/v1/')).map(e => e.name.replace(/^.*\/allot\/v1\//, '') + ' ' + Math.round(e.startTime) + '-' + Math.round(e.responseEnd)).join(', ')`))
	}
	if cells := eval[string](b, `document.getElementById('capacity-heatmap').dataset.cells`); cells != strconv.Itoa(n) {
		t.Errorf("the heat map draws %s cells, the cloud has %d trees", cells, n)
	}
	if rows := eval[int](b, `document.querySelectorAll('#capacity-roots tr[data-uuid]').length`); rows == 0 || rows > 100 {
		t.Errorf("%d trees listed under the heat map, want a page", rows)
	}
	b.screenshot("capacity-heatmap-10k")
	start = time.Now()
	b.do("the heat map's next page", chromedp.Evaluate[chromedp.Void](`document.querySelector('#capacity-roots-pager .next').click()`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#capacity-roots tr[data-uuid] td').textContent === '21'`))
	t.Logf("heat map, next page of trees at %d providers: %s", n, time.Since(start).Round(time.Millisecond))

	b.page("explorer")
	prefix := last[:len(last)-1] // host-0999 of host-09999: ten matches
	for _, q := range []string{"HOST", prefix, last} {
		start := time.Now()
		b.explore("name", q)
		t.Logf("explorer, search %q at %d providers: %s (%s)", q, n, time.Since(start).Round(time.Millisecond),
			eval[string](b, `document.getElementById('explorer-count').textContent`))
	}
	var all []string
	for _, p := range srv.providers(t, "") {
		if strings.Contains(strings.ToLower(p.Name), "host") {
			all = append(all, p.UUID)
		}
	}
	b.explore("name", "HOST")
	if got := eval[string](b, `document.getElementById('explorer-count').dataset.count`); got != strconv.Itoa(len(all)) {
		t.Errorf("searching HOST counts %s matches, the API lists %d", got, len(all))
	}
	if rows := eval[int](b, `document.querySelectorAll('#explorer-found tr[data-uuid]').length`); rows > 100 {
		t.Errorf("%d search results drawn at once", rows)
	}
	// The server's part: the same reads from a Go client, no browser.
	for _, path := range []string{"/allot/v1/capacity?roots=10", "/allot/v1/capacity/roots?resource_class=VCPU&limit=20",
		"/allot/v1/capacity/aggregates?limit=20", "/allot/v1/resource_providers?name=HOST&limit=50"} {
		var times []time.Duration
		for range 5 {
			start := time.Now()
			srv.api(t, "admin", "GET", path, nil, nil)
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		t.Logf("API alone, GET %s at %d providers: median %s (%s to %s)", path, n, times[2].Round(time.Millisecond/10),
			times[0].Round(time.Millisecond/10), times[4].Round(time.Millisecond/10))
	}
	b.noErrors()
}
