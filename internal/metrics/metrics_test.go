package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A nil *Metrics counts nothing and never panics: parts built without
// metrics call it unguarded.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.HTTP("placement").Start()("/x", "GET", 200)
	m.Search(time.Millisecond, 3, TruncatedCap)
	m.Wrote(OpClaim)
	m.Conflict(OpClaim, ConflictNoFit)
	m.ClaimRetries(2)
	m.CatchUp(true, time.Millisecond)
	m.Tx("read", time.Millisecond, nil)
	m.TxRetry()
	m.DBError(DBOther)
	m.Active(time.Now())
	m.Watch(Sources{})
}

// Label values stay bounded whatever a client sends.
func TestHTTPLabelsBounded(t *testing.T) {
	m := New()
	h := m.HTTP("placement")
	for _, r := range []struct {
		route, method string
		status        int
	}{
		{"/traits", "GET", 200},
		{"", "BREW", 418},
		{"/traits", "PROPFIND", 1000},
	} {
		done := h.Start()
		if got := testutil.ToFloat64(m.httpInFlight.WithLabelValues("placement")); got != 1 {
			t.Errorf("in flight %v during a request, want 1", got)
		}
		done(r.route, r.method, r.status)
	}
	inFlight := `
# HELP allot_http_requests_in_flight API requests being answered, by API.
# TYPE allot_http_requests_in_flight gauge
allot_http_requests_in_flight{api="placement"} 0
`
	if err := testutil.CollectAndCompare(m.httpInFlight, strings.NewReader(inFlight)); err != nil {
		t.Error(err)
	}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		if f.GetName() != "allot_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.Metric {
			var l []string
			for _, lp := range s.Label {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			got[strings.Join(l, ",")] = true
		}
	}
	want := map[string]bool{
		"api=placement,method=GET,route=/traits,status=200":     true,
		"api=placement,method=other,route=unrouted,status=418":  true,
		"api=placement,method=other,route=/traits,status=other": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("duration series %v, want %v", got, want)
	}
}

// The scrape-time collector exports what its sources say: every known
// bare-metal state (0 when none), an unknown one as it is, the capacity
// series only with PerProvider and only while the providers are within
// PerProviderMax (a gauge says when they are left out), and which source
// failed.
func TestSources(t *testing.T) {
	cases := []struct {
		name string
		src  Sources
		want map[string]float64 // series (name{labels}) -> value; absent: must be missing
		none []string
	}{
		{"all", Sources{
			EngineRevision: func() int64 { return 7 },
			StoreRevision:  func(context.Context) (int64, error) { return 9, nil },
			Providers:      func() int { return 2 },
			Pool:           func() Pool { return Pool{InUse: 1, Idle: 2, Max: 3} },
			Capacity: func(yield func(Capacity)) {
				yield(Capacity{Provider: "cn1", Class: "VCPU", Total: 8, Reserved: 1, Usage: 3, AllocationRatio: 4})
			},
			PerProvider: true,
			Allocations: func(context.Context) (AllocationCounts, error) {
				return AllocationCounts{ByState: map[string]int64{"active": 2, "deleting": 1}, Queued: 0}, nil
			},
		}, map[string]float64{
			"allot_engine_revision": 7, "allot_store_revision": 9, "allot_engine_lag_revisions": 2, "allot_engine_providers": 2,
			"allot_store_pool_connections_in_use": 1, "allot_store_pool_connections_idle": 2, "allot_store_pool_connections_max": 3,
			`openstack_placement_resource_total{hostname="cn1",resourcetype="VCPU"}`:            8,
			`openstack_placement_resource_reserved{hostname="cn1",resourcetype="VCPU"}`:         1,
			`openstack_placement_resource_usage{hostname="cn1",resourcetype="VCPU"}`:            3,
			`openstack_placement_resource_allocation_ratio{hostname="cn1",resourcetype="VCPU"}`: 4,
			`allot_baremetal_allocations{state="active"}`:                                       2,
			`allot_baremetal_allocations{state="allocating"}`:                                   0,
			`allot_baremetal_allocations{state="error"}`:                                        0,
			`allot_baremetal_allocations{state="deleting"}`:                                     1,
			"allot_baremetal_queue_depth":                                                       0,
		}, []string{"allot_scrape_errors"}},
		{"per provider, within the cap", Sources{
			Providers:      func() int { return 2 },
			Capacity:       func(yield func(Capacity)) { yield(Capacity{Provider: "cn1", Class: "VCPU", Total: 8}) },
			PerProvider:    true,
			PerProviderMax: 2,
		}, map[string]float64{
			`openstack_placement_resource_total{hostname="cn1",resourcetype="VCPU"}`: 8,
			"allot_metrics_per_provider_omitted":                                     0,
		}, nil},
		{"per provider, over the cap", Sources{
			Providers:      func() int { return 3 },
			Capacity:       func(yield func(Capacity)) { yield(Capacity{Provider: "cn1", Class: "VCPU", Total: 8}) },
			PerProvider:    true,
			PerProviderMax: 2,
		}, map[string]float64{"allot_metrics_per_provider_omitted": 1, "allot_engine_providers": 3},
			[]string{"openstack_placement_resource_"}},
		{"per provider off", Sources{
			Providers:      func() int { return 3 },
			Capacity:       func(yield func(Capacity)) { yield(Capacity{Provider: "cn1", Class: "VCPU", Total: 8}) },
			PerProviderMax: 2,
		}, nil, []string{"openstack_placement_resource_", "allot_metrics_per_provider_omitted"}},
		{"store down", Sources{
			EngineRevision: func() int64 { return 7 },
			StoreRevision:  func(context.Context) (int64, error) { return 0, errors.New("down") },
			CatchUp:        func(context.Context) error { return errors.New("down") },
			Capacity:       func(yield func(Capacity)) { yield(Capacity{Provider: "cn1", Class: "VCPU"}) },
			Allocations:    func(context.Context) (AllocationCounts, error) { return AllocationCounts{}, errors.New("down") },
		}, map[string]float64{
			"allot_engine_revision":                               7,
			`allot_scrape_errors{source="store_revision"}`:        1,
			`allot_scrape_errors{source="index"}`:                 1,
			`allot_scrape_errors{source="baremetal_allocations"}`: 1,
		}, []string{"allot_store_revision", "allot_engine_lag_revisions", "openstack_placement_resource_total", "allot_baremetal_queue_depth"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New()
			m.Watch(c.src)
			srv := httptest.NewServer(Admin(m, nil))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text := string(b)
			for series, v := range c.want {
				line := series + " " + strconv.FormatFloat(v, 'g', -1, 64)
				if !strings.Contains(text, "\n"+line+"\n") {
					t.Errorf("no line %q", line)
				}
			}
			for _, name := range c.none {
				if strings.Contains(text, "\n"+name) {
					t.Errorf("%s exported", name)
				}
			}
		})
	}
}

// The admin handler's endpoints: /livez, /readyz following ready, /metrics,
// the profiles, and nothing else.
func TestAdmin(t *testing.T) {
	ready := errors.New("the store does not answer")
	var readyErr error
	srv := httptest.NewServer(Admin(New(), func(context.Context) error { return readyErr }))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path    string
		failing bool
		status  int
		body    string
	}{
		{"/livez", false, 200, "ok\n"},
		{"/readyz", false, 200, "ok\n"},
		{"/readyz", true, 503, "not ready: the store does not answer\n"},
		{"/livez", true, 200, "ok\n"},
		{"/debug/pprof/cmdline", false, 200, ""},
		{"/", false, 404, ""},
		{"/healthcheck", false, 404, ""},
	} {
		readyErr = nil
		if c.failing {
			readyErr = ready
		}
		status, body := get(c.path)
		if status != c.status || c.body != "" && body != c.body {
			t.Errorf("GET %s (ready failing: %v): %d %q, want %d %q", c.path, c.failing, status, body, c.status, c.body)
		}
	}
	if status, body := get("/metrics"); status != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d", status)
	}
}

// BenchmarkInstrumentation times what one request of each hot path adds:
// a candidates query (its request, its search, one read transaction) and
// a claim (its request, one write transaction, one write counted).
func BenchmarkInstrumentation(b *testing.B) {
	m := New()
	h := m.HTTP("placement")
	b.Run("candidates", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			done := h.Start()
			m.Search(time.Millisecond, 10, "")
			m.Tx("read", time.Millisecond, nil)
			done("/allocation_candidates", "GET", 200)
		}
	})
	b.Run("claim", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			done := h.Start()
			m.Tx("write", time.Millisecond, nil)
			m.Wrote(OpAllocations)
			done("/allocations/{consumer}", "PUT", 204)
		}
	})
}
