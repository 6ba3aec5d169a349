package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"allot/internal/auth"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

// serveForTest runs Serve with cfg until the test ends and returns the
// bound addresses.
func serveForTest(t *testing.T, cfg ServeConfig) Listening {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan Listening, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, slog.New(slog.DiscardHandler), func(l Listening) { bound <- l }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case l := <-bound:
		return l
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	return Listening{}
}

// call sends one request (testserver.Send) and returns the status and the
// body.
func call(t *testing.T, method, url string, header http.Header, body any) (int, []byte) {
	t.Helper()
	r := testserver.Send(t, method, url, header, body)
	return r.Status, r.Body
}

// scrape reads the admin listener's /metrics and parses it with
// Prometheus' own parser.
func scrape(t *testing.T, admin string) series {
	t.Helper()
	status, body := call(t, "GET", "http://"+admin+"/metrics", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return fams
}

// series are the parsed metric families of one scrape.
type series map[string]*dto.MetricFamily

// get sums the samples of name whose labels include labels: a counter's or
// a gauge's value, a histogram's count.
func (s series) get(name string, labels ...string) float64 {
	v, _ := s.values(name, labels...)
	return v
}

// sum is the sum of a histogram's observations.
func (s series) sum(name string, labels ...string) float64 {
	_, sum := s.values(name, labels...)
	return sum
}

func (s series) values(name string, labels ...string) (value, sum float64) {
	f := s[name]
	if f == nil {
		return 0, 0
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			value += m.Counter.GetValue()
		case m.Gauge != nil:
			value += m.Gauge.GetValue()
		case m.Histogram != nil:
			value += float64(m.Histogram.GetSampleCount())
			sum += m.Histogram.GetSampleSum()
		}
	}
	return value, sum
}

// labelValues lists every label value of every series.
func (s series) labelValues() []string {
	var out []string
	for _, f := range s {
		for _, m := range f.Metric {
			for _, lp := range m.Label {
				out = append(out, lp.GetValue())
			}
		}
	}
	return out
}

// A scripted workload moves the counters by exactly what it did: N claims
// are N writes, a stale consumer generation one concurrent_update
// conflict, an over-capacity claim one capacity conflict, one search one
// search with its candidates and its cap; the capacity series carry
// openstack-exporter's names and labels, nested children included; no
// label holds a raw path; the exposition parses. On both stores.
func TestServeMetrics(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "allot.db")
			if backend == "postgres" {
				db = testpg.DSN(t)
			}
			l := serveForTest(t, ServeConfig{
				PlacementListen: "127.0.0.1:0", BaremetalListen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", DB: db,
				PlacementAuth: auth.NoAuth2, BaremetalAuth: auth.NoAuth, AllocationWorkers: 1, AllocationLease: 30 * time.Second,
				MaxCandidates: 2, CandidateBudget: 10 * time.Second, CandidateOrder: "default", MetricsPerProvider: true, DBMaxConns: 5,
			})
			workload(t, l)
		})
	}
}

func workload(t *testing.T, l Listening) {
	p := "http://" + l.Placement
	ph := http.Header{"X-Auth-Token": {"admin"}, "Openstack-Api-Version": {"placement 1.39"}}
	must := func(want int, method, path string, body any) []byte {
		t.Helper()
		status, b := call(t, method, p+path, ph, body)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
		}
		return b
	}
	provider := func(name, parent string) string {
		id := uuid.NewString()
		body := map[string]any{"name": name, "uuid": id}
		if parent != "" {
			body["parent_provider_uuid"] = parent
		}
		must(200, "POST", "/resource_providers", body)
		return id
	}
	inventory := func(rp string, invs map[string]any) {
		var gen struct {
			Generation int `json:"generation"`
		}
		json.Unmarshal(must(200, "GET", "/resource_providers/"+rp, nil), &gen)
		must(200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{"resource_provider_generation": gen.Generation, "inventories": invs})
	}
	cn1 := provider("cn1", "")
	numa := provider("cn1-numa0", cn1)
	cn2 := provider("cn2", "")
	cn3 := provider("cn3", "")
	inventory(cn1, map[string]any{"MEMORY_MB": map[string]any{"total": 4096, "reserved": 512, "allocation_ratio": 1.5}})
	inventory(numa, map[string]any{"VCPU": map[string]any{"total": 4}})
	inventory(cn2, map[string]any{"VCPU": map[string]any{"total": 4}})
	inventory(cn3, map[string]any{"VCPU": map[string]any{"total": 4}})

	before := scrape(t, l.Admin)

	const claims = 3
	consumers := make([]string, claims)
	alloc := func(consumer string, vcpu int) map[string]any {
		return map[string]any{"allocations": map[string]any{numa: map[string]any{"resources": map[string]any{"VCPU": vcpu}}},
			"project_id": "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}
	}
	for i := range consumers {
		consumers[i] = uuid.NewString()
		must(204, "PUT", "/allocations/"+consumers[i], alloc(consumers[i], 1))
	}
	must(409, "PUT", "/allocations/"+consumers[0], alloc(consumers[0], 1)) // it exists: a stale generation
	must(409, "PUT", "/allocations/"+uuid.NewString(), alloc("", 2))       // 2 more do not fit in 4 - 3
	must(204, "DELETE", "/allocations/"+consumers[1], nil)
	var cands struct {
		Requests []any `json:"allocation_requests"`
	}
	json.Unmarshal(must(200, "GET", "/allocation_candidates?resources=VCPU:1", nil), &cands)
	if len(cands.Requests) != 2 {
		t.Fatalf("%d candidates, want the cap of 2", len(cands.Requests))
	}
	must(404, "GET", "/resource_providers/"+uuid.NewString(), nil)
	claim := func(query string) map[string]any {
		return map[string]any{"consumers": []any{map[string]any{"uuid": uuid.NewString(), "project_id": "p", "user_id": "u"}}, "query": query}
	}
	must(200, "POST", "/allot/v1/claims", claim("resources=VCPU:1&in_tree="+cn2)) // one candidate: not capped
	must(409, "POST", "/allot/v1/claims", claim("resources=VCPU:100"))            // none fits

	// Bare metal: an allocation from POST to active.
	b := "http://" + l.Baremetal
	bh := http.Header{"X-Openstack-Ironic-Api-Version": {"1.79"}}
	status, body := call(t, "POST", b+"/v1/nodes", bh, map[string]any{"driver": "fake-hardware", "name": "bm0", "resource_class": "gold"})
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/nodes: %d %s", status, body)
	}
	for _, step := range [][2]string{{"provision", "manage"}, {"provision", "provide"}, {"power", "power on"}} {
		if status, body := call(t, "PUT", b+"/v1/nodes/bm0/states/"+step[0], bh, map[string]any{"target": step[1]}); status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", step[1], status, body)
		}
	}
	status, body = call(t, "POST", b+"/v1/allocations", bh, map[string]any{"resource_class": "gold", "name": "a0"})
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/allocations: %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var a struct{ State string }
		_, body := call(t, "GET", b+"/v1/allocations/a0", bh, nil)
		json.Unmarshal(body, &a)
		if a.State == "active" {
			break
		}
		if a.State != "allocating" || time.Now().After(deadline) {
			t.Fatalf("the allocation is not active: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A request's duration is recorded after its answer is sent: wait
	// until none is in flight (the gauge drops after the histogram moved).
	// The allocation worker counts its bind once its write has returned,
	// which is after the state it committed is visible (and after the
	// writer's index catch-up): wait for that count too.
	after := scrape(t, l.Admin)
	settled := func() bool {
		return after.get("allot_http_requests_in_flight") == 0 &&
			after.get("allot_baremetal_allocation_active_seconds") > before.get("allot_baremetal_allocation_active_seconds")
	}
	for deadline := time.Now().Add(10 * time.Second); !settled(); after = scrape(t, l.Admin) {
		if time.Now().After(deadline) {
			break // the checks below say what did not move
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := after.get("allot_http_requests_in_flight"); n != 0 {
		t.Fatalf("%v requests still in flight", n)
	}
	delta := func(name string, labels ...string) float64 {
		return after.get(name, labels...) - before.get(name, labels...)
	}
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"writes of allocations", delta("allot_allocation_writes_total", "op", "allocations"), claims},
		{"deletes", delta("allot_allocation_writes_total", "op", "delete"), 1},
		{"concurrent_update conflicts", delta("allot_allocation_conflicts_total", "op", "allocations", "kind", "placement.concurrent_update"), 1},
		{"capacity conflicts", delta("allot_allocation_conflicts_total", "op", "allocations", "kind", "capacity"), 1},
		{"other conflicts", delta("allot_allocation_conflicts_total", "kind", "other"), 0},
		{"claims", delta("allot_allocation_writes_total", "op", "claim"), 1},
		{"claims that did not fit", delta("allot_allocation_conflicts_total", "op", "claim", "kind", "no_fit"), 1},
		{"claim retries", delta("allot_claim_retries_total"), 0},
		{"searches (the GET, two claims')", delta("allot_candidates_search_duration_seconds"), 3},
		{"searches counted in candidates_returned", delta("allot_candidates_returned"), 3},
		{"candidates returned", after.sum("allot_candidates_returned") - before.sum("allot_candidates_returned"), 2 + 1 + 0},
		{"searches capped", delta("allot_candidates_truncated_total", "reason", "cap"), 1},
		{"PUT /allocations/{consumer} answered 204", delta("allot_http_request_duration_seconds", "api", "placement", "route", "/allocations/{consumer}", "method", "PUT", "status", "204"), claims},
		{"PUT /allocations/{consumer} answered 409", delta("allot_http_request_duration_seconds", "api", "placement", "route", "/allocations/{consumer}", "method", "PUT", "status", "409"), 2},
		{"a 404 of a route", delta("allot_http_request_duration_seconds", "api", "placement", "route", "/resource_providers/{uuid}", "method", "GET", "status", "404"), 1},
		{"POST /v1/allocations", delta("allot_http_request_duration_seconds", "api", "baremetal", "route", "/v1/allocations", "method", "POST", "status", "201"), 1},
		{"bare-metal binds", delta("allot_allocation_writes_total", "op", "baremetal"), 1},
		{"POST to active", delta("allot_baremetal_allocation_active_seconds"), 1},
		{"active bare-metal allocations", after.get("allot_baremetal_allocations", "state", "active"), 1},
		{"allocating bare-metal allocations", after.get("allot_baremetal_allocations", "state", "allocating"), 0},
		{"bare-metal queue", after.get("allot_baremetal_queue_depth"), 0},
		{"database errors", delta("allot_store_errors_total"), 0},
		{"VCPU total of the nested child", after.get("openstack_placement_resource_total", "hostname", "cn1-numa0", "resourcetype", "VCPU"), 4},
		{"MEMORY_MB total of the root", after.get("openstack_placement_resource_total", "hostname", "cn1", "resourcetype", "MEMORY_MB"), 4096},
		{"MEMORY_MB reserved", after.get("openstack_placement_resource_reserved", "hostname", "cn1", "resourcetype", "MEMORY_MB"), 512},
		{"MEMORY_MB allocation ratio", after.get("openstack_placement_resource_allocation_ratio", "hostname", "cn1", "resourcetype", "MEMORY_MB"), 1.5},
		{"VCPU usage of the child", after.get("openstack_placement_resource_usage", "hostname", "cn1-numa0", "resourcetype", "VCPU"), claims - 1},
		{"VCPU usage of the claimed tree", after.get("openstack_placement_resource_usage", "hostname", "cn2", "resourcetype", "VCPU"), 1},
		{"capacity series", float64(len(after["openstack_placement_resource_total"].GetMetric())), 5}, // 4 + the bare-metal node's
	} {
		if c.got != c.want {
			t.Errorf("%s: moved by %v, want %v", c.what, c.got, c.want)
		}
	}
	if after.get("allot_engine_providers") != 5 { // cn1, its child, cn2, cn3, the node's provider
		t.Errorf("allot_engine_providers %v, want 5", after.get("allot_engine_providers"))
	}
	if rev, idx := after.get("allot_store_revision"), after.get("allot_engine_revision"); rev < idx || idx == 0 || after.get("allot_engine_lag_revisions") != rev-idx {
		t.Errorf("store revision %v, index revision %v, lag %v", rev, idx, after.get("allot_engine_lag_revisions"))
	}
	if after.get("allot_store_transaction_duration_seconds", "kind", "write", "outcome", "ok") <= before.get("allot_store_transaction_duration_seconds", "kind", "write", "outcome", "ok") {
		t.Error("no write transaction was timed")
	}
	if after.get("allot_store_pool_connections_max") <= 0 {
		t.Error("no pool size")
	}
	for _, v := range after.labelValues() {
		for _, id := range append(consumers, cn1, numa) {
			if strings.Contains(v, id) {
				t.Errorf("a label holds %q, a raw path's uuid", v)
			}
		}
	}

	// The admin listener's other endpoints; the API roots are untouched.
	for _, c := range []struct {
		url    string
		status int
		body   string
	}{
		{"http://" + l.Admin + "/livez", 200, "ok\n"},
		{"http://" + l.Admin + "/readyz", 200, "ok\n"},
		{"http://" + l.Admin + "/debug/pprof/cmdline", 200, ""},
		{p + "/healthcheck", 200, "OK"},
		{b + "/healthcheck", 200, "OK"},
		{p + "/metrics", 404, ""},
		{b + "/metrics", 404, ""},
	} {
		status, body := call(t, "GET", c.url, http.Header{"X-Auth-Token": {"admin"}}, nil)
		if status != c.status || c.body != "" && string(body) != c.body {
			t.Errorf("GET %s: %d %q, want %d %q", c.url, status, body, c.status, c.body)
		}
	}
}

// --metrics-per-provider=false drops the per-provider capacity series and
// keeps the rest.
func TestServeMetricsWithoutPerProvider(t *testing.T) {
	l := serveForTest(t, ServeConfig{PlacementListen: "127.0.0.1:0", AdminListen: "127.0.0.1:0",
		DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"), PlacementAuth: auth.NoAuth2, AllocationWorkers: -1, CandidateOrder: "default"})
	h := http.Header{"X-Auth-Token": {"admin"}, "Openstack-Api-Version": {"placement 1.39"}}
	id := uuid.NewString()
	if status, body := call(t, "POST", "http://"+l.Placement+"/resource_providers", h, map[string]any{"name": "cn", "uuid": id}); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := call(t, "PUT", "http://"+l.Placement+"/resource_providers/"+id+"/inventories", h,
		map[string]any{"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 2}}}); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	s := scrape(t, l.Admin)
	if f := s["openstack_placement_resource_total"]; f != nil {
		t.Errorf("per-provider series exported: %v", f)
	}
	if s.get("allot_engine_providers") != 1 {
		t.Errorf("allot_engine_providers %v, want 1", s.get("allot_engine_providers"))
	}
}

// The deprecated --pprof-listen moves the admin listener when
// --admin-listen keeps its default, and conflicts with another address.
func TestAdminAddress(t *testing.T) {
	for _, c := range []struct {
		admin, pprof, want string
		fails              bool
	}{
		{DefaultAdminListen, "", DefaultAdminListen, false},
		{"", "", "", false},
		{DefaultAdminListen, "127.0.0.1:6060", "127.0.0.1:6060", false},
		{"127.0.0.1:7000", "127.0.0.1:7000", "127.0.0.1:7000", false},
		{"127.0.0.1:7000", "127.0.0.1:6060", "", true},
		{"", "127.0.0.1:6060", "", true},
	} {
		got, err := adminAddress(ServeConfig{AdminListen: c.admin, PprofListen: c.pprof}, slog.New(slog.DiscardHandler))
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("--admin-listen %q --pprof-listen %q: %q, %v", c.admin, c.pprof, got, err)
		}
	}
}
