package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"allot/internal/api"
	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/auth"
	"allot/internal/baremetal"
	"allot/internal/console"
	"allot/internal/engine"
	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/policy"
	"allot/internal/store"
)

// ServeConfig is everything "allot serve" needs.
type ServeConfig struct {
	PlacementListen    string
	BaremetalListen    string
	DB                 string
	PublicPlacementURL string
	PublicBaremetalURL string
	LogLevel           string
	LogFormat          string
	DBMaxConns         int
	SQLiteSynchronous  string // "full" (durable commits) or "normal": store.Options.SQLiteSynchronous
	MaxCandidates      int
	CandidateBudget    time.Duration
	RandomizeCands     bool
	// AdminListen is the admin listener's address: /metrics, /livez,
	// /readyz and /debug/pprof/ ("" turns it off, and the metrics with it).
	AdminListen string
	// DisableConsole turns off the web console (/ui/ on the Placement
	// listener); the zero value serves it.
	DisableConsole bool
	// PprofListen is the deprecated --pprof-listen: the admin listener's
	// address when AdminListen is left at its default.
	PprofListen string
	// MetricsPerProvider exports the openstack_placement_resource_*
	// series, one per provider and resource class, while the cloud has
	// at most MetricsPerProviderMax providers (0: any number).
	MetricsPerProvider    bool
	MetricsPerProviderMax int
	// HealthcheckDisableFile, when it names a file that exists, makes
	// /healthcheck answer 503 "DISABLED BY FILE".
	HealthcheckDisableFile string
	// CandidateOrder ranks the standard endpoint's candidates (engine.Order
	// by name: default, pack, spread or random).
	CandidateOrder string
	// AllocationWorkers and AllocationLease configure the bare-metal
	// allocation workers (see baremetal.Options: 0 is the default number,
	// negative is none).
	AllocationWorkers int
	AllocationLease   time.Duration
	// FollowInterval is how often a replica on PostgreSQL catches its
	// index up with the other replicas' writes in the background
	// (placement.Service.Follow); 0 turns that off. SQLite ignores it.
	FollowInterval time.Duration

	// ConfigFile is the oslo.config INI file the settings were read from
	// ("" for none); flags and environment variables override it.
	ConfigFile string
	// PlacementAuth is the Placement API's auth strategy (auth.NoAuth2 or
	// auth.Keystone); BaremetalAuth the Bare Metal API's (auth.NoAuth,
	// auth.NoAuth2 or auth.Keystone).
	PlacementAuth string
	BaremetalAuth string
	// Keystone is [keystone_authtoken], used by the keystone strategy.
	Keystone auth.KeystoneConfig
	// Policy is [oslo_policy]: the policy file and the scope and new
	// defaults switches (of both APIs; the file is Placement's).
	Policy policy.Options
	// BaremetalPolicyFile overrides Ironic's rules on the Bare Metal API
	// ("" for none; a file separate from Placement's, as the two services
	// have their own, with rule names such as admin_api in common).
	BaremetalPolicyFile string
	// CORS is [cors]; off when no origin is allowed.
	CORS api.CORSOptions
	// TrustedProxies are the addresses and CIDR ranges of the reverse
	// proxies whose X-Forwarded-Proto, X-Forwarded-Host and Forwarded
	// headers build links (none: those headers are ignored).
	TrustedProxies []string
	// Limits bound the connections of both listeners.
	Limits ServeLimits
}

func newLogger(level, format string, w interface{ Write([]byte) (int, error) }) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// Listening reports the addresses a started server listens on.
type Listening struct {
	Placement string
	Baremetal string
	Admin     string
}

// idleTimeout closes keep-alive connections a client left idle, so that
// clients that never close theirs cannot exhaust the server's descriptors.
const idleTimeout = 2 * time.Minute

// Serve runs the server until ctx ends. ready, when not nil, receives the
// bound addresses once the listeners are open.
func Serve(ctx context.Context, cfg ServeConfig, logger *slog.Logger, ready func(Listening)) error {
	if cfg.PlacementListen == "" && cfg.BaremetalListen == "" {
		return usageError{errors.New("both --placement-listen and --baremetal-listen are empty: nothing to serve")}
	}
	if err := checkFollowInterval(cfg.FollowInterval); err != nil {
		return usageError{err}
	}
	if cfg.MetricsPerProviderMax < 0 {
		return usageError{fmt.Errorf("--metrics-per-provider-max is %d: give a number of providers, or 0 for no limit", cfg.MetricsPerProviderMax)}
	}
	placementAccess, baremetalAccess, err := accessControl(cfg, logger)
	if err != nil {
		return err
	}
	proxies, err := trustedProxies(cfg, logger)
	if err != nil {
		return usageError{err}
	}
	if cfg.AdminListen, err = adminAddress(cfg, logger); err != nil {
		return usageError{err}
	}
	var m *metrics.Metrics // nil without an admin listener: nothing counts
	if cfg.AdminListen != "" {
		m = metrics.New()
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Logger: logger, MaxOpenConns: cfg.DBMaxConns, SQLiteSynchronous: cfg.SQLiteSynchronous, Metrics: m})
	if err != nil {
		if model.IsKind(err, model.KindBadRequest) {
			return usageError{err}
		}
		return fmt.Errorf("open the store %s: %w", cfg.DB, err)
	}
	defer st.Close()
	order, err := candidateOrder(cfg)
	if err != nil {
		return usageError{err}
	}
	svc := placement.New(st, placement.Options{Logger: logger, Metrics: m, Search: engine.SearchOptions{
		MaxCandidates: cfg.MaxCandidates, Budget: cfg.CandidateBudget, Order: order,
	}})
	loadStart := time.Now()
	if err := svc.Sync(ctx); err != nil {
		return fmt.Errorf("load the candidate index: %w", err)
	}
	logIndexLoaded(logger, svc.IndexedProviders(), time.Since(loadStart))

	if st.Dialect() == "postgres" && cfg.FollowInterval > 0 {
		stopFollowing := follow(ctx, svc, cfg.FollowInterval)
		defer stopFollowing() // before the store closes
	}

	var servers []*http.Server
	var listeners []net.Listener
	var bound Listening
	limits, err := cfg.Limits.resolve(btoi(cfg.PlacementListen != "")+btoi(cfg.BaremetalListen != ""), storeFiles(cfg), logger)
	if err != nil {
		return usageError{err}
	}
	health := api.HealthOptions{DisableByFile: cfg.HealthcheckDisableFile, Check: st.Ping}
	sources := metrics.Sources{EngineRevision: svc.IndexRevision, StoreRevision: st.Revision, CatchUp: svc.Sync, Providers: svc.IndexedProviders,
		Pool: st.PoolStats, Capacity: svc.EachInventoryCapacity, PerProvider: cfg.MetricsPerProvider,
		PerProviderMax: cfg.MetricsPerProviderMax}
	warnPerProviderOmitted(cfg, svc.IndexedProviders(), logger)
	open := func(addr, name string, h http.Handler, render, busy api.Answerer) (string, error) {
		ln, err := api.Listen(ctx, addr)
		if err != nil {
			return "", fmt.Errorf("listen on %s: %w", addr, err)
		}
		listeners = append(listeners, api.FixMalformedRequestsWith(limits.listener(ln, name, busy, logger), api.Refusals{Answers: render, Logger: logger, Name: name}))
		// CORS (when origins are allowed) and the health check run
		// outside authentication, as in oslo.middleware's pipeline: a
		// preflight carries no token, nor does a load balancer's probe.
		h = api.CORS(cfg.CORS, api.Healthcheck(health, h))
		servers = append(servers, limits.server(h, logger))
		return ln.Addr().String(), nil
	}
	// The Bare Metal API is built first: the console's page reaches it
	// on the Placement listener too.
	var bmHandler http.Handler
	if cfg.BaremetalListen != "" {
		bm := baremetal.New(svc, baremetal.Options{Logger: logger, Workers: cfg.AllocationWorkers, Lease: cfg.AllocationLease, Metrics: m})
		bm.Start()
		defer bm.Stop()
		sources.Allocations = bm.AllocationCounts
		bmapi := baremetalapi.New(bm, baremetalapi.Options{Logger: logger, PublicURL: cfg.PublicBaremetalURL, TrustedProxies: proxies,
			Auth: baremetalAccess.Auth, Challenge: baremetalAccess.Challenge, Policy: baremetalAccess.Policy})
		bmapi.Metrics = m.HTTP("baremetal")
		bmHandler = bmapi.Handler()
	}
	if cfg.PlacementListen != "" {
		papi := placementapi.New(svc, placementapi.Options{Logger: logger, PublicURL: cfg.PublicPlacementURL, TrustedProxies: proxies,
			Auth: placementAccess.Auth, Challenge: placementAccess.Challenge, Policy: placementAccess.Policy, SignIn: placementAccess.SignIn})
		papi.Metrics = m.HTTP("placement")
		h := papi.Handler()
		if !cfg.DisableConsole {
			if bmHandler != nil {
				// The bare-metal page's way to the Bare Metal API (the
				// console's pages talk only to their own origin): the same
				// handler, in this process, under /baremetal.
				h = api.Mount(console.BaremetalPrefix, bmHandler, h)
				warnNoauthOnPlacement(cfg, baremetalAccess.Auth == nil, logger)
			}
			h = console.Mount(h) // the web console's static files under /ui/; the API answers every other path
		}
		if bound.Placement, err = open(cfg.PlacementListen, "placement", h, api.PlacementAnswers, api.PlacementAnswers); err != nil {
			return err
		}
	}
	if cfg.BaremetalListen != "" {
		if bound.Baremetal, err = open(cfg.BaremetalListen, "baremetal", bmHandler, api.IronicAnswers, api.IronicAnswers); err != nil {
			for _, ln := range listeners {
				ln.Close()
			}
			return err
		}
	}
	if cfg.AdminListen != "" {
		m.Watch(sources)
		ln, err := api.Listen(ctx, cfg.AdminListen)
		if err != nil {
			for _, ln := range listeners {
				ln.Close()
			}
			return fmt.Errorf("listen on %s (--admin-listen): %w; servers on one host need an --admin-listen each (empty turns it off)", cfg.AdminListen, err)
		}
		bound.Admin = ln.Addr().String()
		admin := &http.Server{Handler: metrics.Admin(m, readiness(st, svc)), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idleTimeout}
		go admin.Serve(ln)
		defer admin.Close()
	}
	logger.Info("allot serving", "placement", bound.Placement, "baremetal", bound.Baremetal, "admin", bound.Admin,
		"store", st.Dialect(), "threads", runtime.GOMAXPROCS(0))
	if ready != nil {
		ready(bound)
	}
	errs := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func(s *http.Server, ln net.Listener) {
			defer wg.Done()
			if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}(servers[i], listeners[i])
	}
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	logger.Info("allot shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(shutdownCtx)
	}
	wg.Wait()
	return err
}

// warnNoauthOnPlacement warns when the console serves a Bare Metal API
// that trusts every caller (noauth) on a Placement listener that other
// hosts reach: the API is then open wherever that listener is.
func warnNoauthOnPlacement(cfg ServeConfig, noauth bool, logger *slog.Logger) {
	if noauth && !loopbackOnly(cfg.PlacementListen) {
		logger.Warn("the Bare Metal API trusts every caller (noauth) and the console serves it under "+console.BaremetalPrefix+
			" on the Placement listener too, which other hosts reach: use --baremetal-auth-strategy noauth2 or keystone, or --console=false",
			"placement", cfg.PlacementListen)
	}
}

// warnPerProviderOmitted says at start when the cloud is too large for the
// per-provider capacity series (--metrics-per-provider-max): scrapes leave
// them out, and allot_metrics_per_provider_omitted is 1.
func warnPerProviderOmitted(cfg ServeConfig, providers int, logger *slog.Logger) {
	if cfg.AdminListen != "" && cfg.MetricsPerProvider && cfg.MetricsPerProviderMax > 0 && providers > cfg.MetricsPerProviderMax {
		logger.Warn("the per-provider capacity series (openstack_placement_resource_*) are left out of /metrics: the cloud has more providers than --metrics-per-provider-max; raise it (0: no limit) if Prometheus can take them, each scrape then costs about a second of CPU per 10,000 providers",
			"providers", providers, "metrics_per_provider_max", cfg.MetricsPerProviderMax)
	}
}

// DefaultAdminListen is --admin-listen's default.
const DefaultAdminListen = "127.0.0.1:9178"

// adminAddress resolves the admin listener's address from --admin-listen
// and the deprecated --pprof-listen, which moves it when --admin-listen
// keeps its default.
func adminAddress(cfg ServeConfig, logger *slog.Logger) (string, error) {
	if cfg.PprofListen == "" || cfg.PprofListen == cfg.AdminListen {
		return cfg.AdminListen, nil
	}
	if cfg.AdminListen != DefaultAdminListen {
		return "", fmt.Errorf("--pprof-listen %q and --admin-listen %q: the profiles are served on the admin listener; drop --pprof-listen", cfg.PprofListen, cfg.AdminListen)
	}
	logger.Warn("--pprof-listen is deprecated: the profiles, the metrics and the health endpoints are served on the admin listener; use --admin-listen", "admin_listen", cfg.PprofListen)
	return cfg.PprofListen, nil
}

// readiness is the admin listener's readiness: the store answers and the
// candidate index caught up with it.
func readiness(st *store.Store, svc *placement.Service) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return fmt.Errorf("the store does not answer: %w", err)
		}
		if err := svc.Sync(ctx); err != nil {
			return fmt.Errorf("the candidate index cannot catch up with the store: %w", err)
		}
		return nil
	}
}

// logIndexLoaded logs, once at start, how many providers the candidate
// index loaded, in how long, and the heap in use after it: what an
// operator sizes a replica's memory and restart time by.
func logIndexLoaded(logger *slog.Logger, providers int, took time.Duration) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	logger.Info("candidate index loaded", "providers", providers, "took", took.Round(time.Millisecond),
		"heap_inuse_mb", ms.HeapInuse>>20)
}
