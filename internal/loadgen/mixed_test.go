package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"allot/internal/api/placementapi"
	"allot/internal/cloudgen"
	"allot/internal/loadgen"
	"allot/internal/testserver"
)

// A mixed run on a small generated cloud: every operation kind ran, no
// answer was a 5xx, every claim made was released (during the run or
// after it), and what the run created is in the store.
func TestRunMixed(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	spec := cloudgen.Spec{Prefix: "mx", Hosts: 40, Nested: true, Sharing: true, Allocations: 40}
	if _, err := cloudgen.Load(context.Background(), st, spec, nil); err != nil {
		t.Fatal(err)
	}
	p := testserver.StartPlacement(t, st)
	cfg := loadgen.MixedConfig{URLs: []string{p.URL, p.URL}, Token: "admin", Duration: 3 * time.Second,
		Query: cloudgen.DefaultQuery, Schedulers: 4, AtomicShare: 0.5, Retries: 3, Hold: 200 * time.Millisecond,
		Hosts: 5, HostRate: 10, CatalogRate: 5, CreateRate: 5, Prefix: "mx"}
	var progress int
	cfg.Progress = func(time.Duration, map[string]int) { progress++ }
	res, err := loadgen.RunMixed(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range loadgen.MixedOps {
		o := res.Ops[op]
		if o.Ops == 0 || len(o.Latencies) != o.Ops || o.Percentile(99.9) < o.Percentile(50) || o.Skipped != "" {
			t.Errorf("%s: %s (skipped %q)", op, o.Result, o.Skipped)
		}
		for kind := range o.Errors {
			if strings.HasPrefix(kind, "5") || !strings.Contains(kind, "409") && kind != "no candidates" {
				t.Errorf("%s failed with %q (%d times)", op, kind, o.Errors[kind])
			}
		}
	}
	if progress == 0 {
		t.Error("no progress was reported during the run")
	}
	if len(res.Hosts) != cfg.Hosts {
		t.Errorf("%d hosts' providers, want %d", len(res.Hosts), cfg.Hosts)
	}
	// Every claim is released: during the run (measured) or after it.
	claims := res.Ops[loadgen.OpClaim].Ops + res.Ops[loadgen.OpAtomicClaim].Ops
	if released := res.Ops[loadgen.OpRelease].Ops + res.Held; released != claims || res.Ops[loadgen.OpRelease].Failed() != 0 {
		t.Errorf("%d claims, %d released during the run and %d after, %v", claims, res.Ops[loadgen.OpRelease].Ops, res.Held, res.Ops[loadgen.OpRelease].Errors)
	}
	usages := p.Must(200, "GET", "/usages?project_id=bench", "1.39", nil).JSON()["usages"].(map[string]any)["INSTANCE"].(map[string]any)
	if usages["consumer_count"] != float64(spec.Allocations) || usages["VCPU"] != float64(spec.Allocations*cloudgen.ConsumerVCPU) {
		t.Errorf("after the run the project's usages are %v: the run's claims were not all released", usages)
	}
	traits := p.Must(200, "GET", "/traits?name=startswith:CUSTOM_BENCH_MX_", "1.39", nil).JSON()["traits"].([]any)
	// The catalog changes and the trait the hosts toggle.
	if want := res.Ops[loadgen.OpCatalog].Ops + 1; len(traits) != want {
		t.Errorf("%d custom traits of the run, want %d", len(traits), want)
	}
	created := 0
	for _, rp := range p.Must(200, "GET", "/resource_providers", "1.39", nil).JSON()["resource_providers"].([]any) {
		if strings.HasPrefix(rp.(map[string]any)["name"].(string), "mx-new-") {
			created++
		}
	}
	if created != res.Ops[loadgen.OpCreate].Ops {
		t.Errorf("%d providers created, %d creations counted", created, res.Ops[loadgen.OpCreate].Ops)
	}
}

// Against a Placement without allot's atomic claim (the path answers 404,
// as OpenStack's does), the atomic share is skipped with a reason and
// every scheduler queries and claims.
func TestRunMixedWithoutAtomicClaims(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	if _, err := cloudgen.Load(context.Background(), st, cloudgen.Spec{Prefix: "na", Hosts: 10}, nil); err != nil {
		t.Fatal(err)
	}
	svc := testserver.StartPlacement(t, st).Service
	api := placementapi.New(svc, placementapi.Options{Logger: testserver.Quiet}).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/allot/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors": [{"status": 404, "title": "Not Found", "detail": "The resource could not be found."}]}`))
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := loadgen.MixedConfig{URLs: []string{srv.URL}, Token: "admin", Duration: 300 * time.Millisecond,
		Query: cloudgen.DefaultQuery, Schedulers: 2, AtomicShare: 1, Prefix: "na"}
	res, err := loadgen.RunMixed(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Ops[loadgen.OpAtomicClaim]; a.Ops != 0 || !strings.Contains(a.Skipped, "404") {
		t.Errorf("atomic claims: %s, skipped %q", a.Result, a.Skipped)
	}
	if res.Ops[loadgen.OpClaim].Ops == 0 {
		t.Error("no scheduler claimed")
	}
}

// Bad configurations are refused with a reason that names the flag.
func TestMixedConfigValidate(t *testing.T) {
	good := loadgen.MixedConfig{URLs: []string{"http://127.0.0.1:1"}, Duration: time.Second, Query: "resources=VCPU:1",
		Schedulers: 1, Hosts: 1, HostRate: 1, Prefix: "p"}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	nan := 0.0
	nan /= nan
	for _, c := range []struct {
		name string
		edit func(*loadgen.MixedConfig)
		want string
	}{
		{"no url", func(c *loadgen.MixedConfig) { c.URLs = nil }, "--placement-url"},
		{"relative url", func(c *loadgen.MixedConfig) { c.URLs = []string{"placement:8778"} }, "want an absolute http(s) URL"},
		{"no duration", func(c *loadgen.MixedConfig) { c.Duration = 0 }, "--duration must be positive"},
		{"no scheduler", func(c *loadgen.MixedConfig) { c.Schedulers = 0 }, "--schedulers must be at least 1"},
		{"share above one", func(c *loadgen.MixedConfig) { c.AtomicShare = 1.5 }, "--atomic-share must be between 0 and 1"},
		{"share NaN", func(c *loadgen.MixedConfig) { c.AtomicShare = nan }, "--atomic-share"},
		{"negative retries", func(c *loadgen.MixedConfig) { c.Retries = -1 }, "--retries must not be negative"},
		{"negative hold", func(c *loadgen.MixedConfig) { c.Hold = -time.Second }, "--hold must not be negative"},
		{"negative hosts", func(c *loadgen.MixedConfig) { c.Hosts = -1 }, "--hosts must not be negative"},
		{"hosts without rate", func(c *loadgen.MixedConfig) { c.HostRate = 0 }, "--host-rate must be positive when there are hosts"},
		{"rate too high", func(c *loadgen.MixedConfig) { c.CreateRate = 1e9 }, "--create-rate must be between 0 and 1000"},
		{"negative catalog rate", func(c *loadgen.MixedConfig) { c.CatalogRate = -1 }, "--catalog-rate must be between"},
		{"empty query", func(c *loadgen.MixedConfig) { c.Query = " " }, "--query must not be empty"},
		{"bad query", func(c *loadgen.MixedConfig) { c.Query = "resources=%zz" }, "--query"},
		{"bad prefix", func(c *loadgen.MixedConfig) { c.Prefix = "--" }, "--prefix"},
	} {
		cfg := good
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
