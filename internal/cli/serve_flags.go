package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/api"
	"allot/internal/auth"
	"allot/internal/config"
	"allot/internal/engine"
)

// The settings of "allot serve" come, from weakest to strongest, from
// their defaults, the --config-file (oslo.config INI: placement.conf keys
// and an [allot] section), the environment (ALLOT_ and the setting's name
// in capitals with _ for -) and the command line. Every setting is a flag
// of the command, except the Keystone ones, which are read from the file
// and the environment only (a password has no business on a command
// line): they live in a flag set of their own that is never parsed from
// arguments.

func newServeCommand() *cobra.Command { return serveCommand(runServe) }

// runServe starts the server with the resolved settings, once the
// configuration file's warnings are logged.
func runServe(cmd *cobra.Command, cfg ServeConfig, res resolved) error {
	logger, err := newLogger(cfg.LogLevel, cfg.LogFormat, cmd.ErrOrStderr())
	if err != nil {
		return usageError{err}
	}
	for _, w := range res.warnings {
		logger.Warn("configuration file: "+w.Reason, "file", w.File, "line", w.Line, "section", w.Section, "key", w.Key)
	}
	for _, s := range res.sources {
		logger.Debug("setting", "name", s[0], "from", s[1])
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.AllocationWorkers == 0 {
		cfg.AllocationWorkers = -1 // --allocation-workers 0: none here
	}
	return Serve(ctx, cfg, logger, nil)
}

// serveCommand builds "allot serve"; run receives the resolved settings.
func serveCommand(run func(*cobra.Command, ServeConfig, resolved) error) *cobra.Command {
	var cfg ServeConfig
	cors := api.DefaultCORSOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Placement and Bare Metal APIs",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ConfigFile, "config-file", "", "an oslo.config INI file, e.g. an existing placement.conf; see \"Configuration file\" above [ALLOT_CONFIG_FILE]")
	f.StringVar(&cfg.PlacementListen, "placement-listen", "127.0.0.1:8778", "address of the Placement API [ALLOT_PLACEMENT_LISTEN]")
	f.StringVar(&cfg.BaremetalListen, "baremetal-listen", "127.0.0.1:6385", "address of the Bare Metal API [ALLOT_BAREMETAL_LISTEN]")
	f.StringVar(&cfg.DB, "db", "sqlite:allot.db", "the store: sqlite:PATH or postgres://USER@HOST/DB [ALLOT_DB]")
	f.StringVar(&cfg.PublicPlacementURL, "public-placement-url", "", "external URL of the Placement API, for links behind a proxy [ALLOT_PUBLIC_PLACEMENT_URL]")
	f.StringVar(&cfg.PublicBaremetalURL, "public-baremetal-url", "", "external URL of the Bare Metal API, for links behind a proxy [ALLOT_PUBLIC_BAREMETAL_URL]")
	f.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error [ALLOT_LOG_LEVEL]")
	f.StringVar(&cfg.LogFormat, "log-format", "text", "text or json [ALLOT_LOG_FORMAT]")
	f.IntVar(&cfg.DBMaxConns, "db-max-conns", 20, "PostgreSQL connection pool size [ALLOT_DB_MAX_CONNS]")
	f.StringVar(&cfg.SQLiteSynchronous, "sqlite-synchronous", "full", "SQLite commits: full (each acknowledged commit survives a power loss or an OS crash) or normal (faster; such a crash may lose the last acknowledged commits, the database stays consistent) [ALLOT_SQLITE_SYNCHRONOUS]")
	f.IntVar(&cfg.MaxCandidates, "max-candidates", 10000, "most allocation candidates generated per query, before limit (0: no cap) [ALLOT_MAX_CANDIDATES]")
	f.DurationVar(&cfg.CandidateBudget, "candidate-budget", 10*time.Second, "time budget of one allocation-candidates search (0: none) [ALLOT_CANDIDATE_BUDGET]")
	f.StringVar(&cfg.AdminListen, "admin-listen", DefaultAdminListen, "address of the admin listener: Prometheus /metrics, /livez, /readyz and Go's profiles (/debug/pprof/); empty turns it off [ALLOT_ADMIN_LISTEN]")
	serveConsole := true
	f.BoolVar(&serveConsole, "console", true, "serve the web console under /ui/ on the Placement listener (its pages call the APIs with the user's token) [ALLOT_CONSOLE]")
	f.BoolVar(&cfg.MetricsPerProvider, "metrics-per-provider", true, "export the capacity series openstack_placement_resource_* per provider and resource class (see --metrics-per-provider-max) [ALLOT_METRICS_PER_PROVIDER]")
	f.IntVar(&cfg.MetricsPerProviderMax, "metrics-per-provider-max", 10000, "leave the per-provider capacity series out of /metrics while the cloud has more providers than this, since each scrape then costs about a second of CPU per 10,000 providers (allot_metrics_per_provider_omitted says so; 0: no limit) [ALLOT_METRICS_PER_PROVIDER_MAX]")
	f.StringVar(&cfg.HealthcheckDisableFile, "healthcheck-disable-file", "", "while this file exists, /healthcheck answers 503 DISABLED BY FILE (oslo.middleware's disable_by_file_path) [ALLOT_HEALTHCHECK_DISABLE_FILE]")
	f.StringVar(&cfg.PprofListen, "pprof-listen", "", "deprecated: use --admin-listen, which serves the profiles; moves the admin listener when --admin-listen keeps its default [ALLOT_PPROF_LISTEN]")
	f.MarkDeprecated("pprof-listen", "use --admin-listen, which serves /debug/pprof/")
	f.BoolVar(&cfg.RandomizeCands, "randomize-candidates", false, "sample limit at random instead of taking the first candidates in the deterministic order [ALLOT_RANDOMIZE_CANDIDATES]")
	f.StringVar(&cfg.CandidateOrder, "candidate-order", "default", "order of GET /allocation_candidates, which decides what limit keeps: default (Placement's, trees by id), pack (fullest trees first), spread (emptiest first) or random (as --randomize-candidates) [ALLOT_CANDIDATE_ORDER]")
	f.IntVar(&cfg.AllocationWorkers, "allocation-workers", 2, "bare-metal allocation workers in this process (0: none; allocations then wait for another replica) [ALLOT_ALLOCATION_WORKERS]")
	f.DurationVar(&cfg.AllocationLease, "allocation-lease", 30*time.Second, "how long a worker holds an allocation before another replica may take it over [ALLOT_ALLOCATION_LEASE]")
	f.DurationVar(&cfg.FollowInterval, "follow-interval", 100*time.Millisecond, "on PostgreSQL, how often this replica catches its candidate index up with the other replicas' writes in the background, so that queries rarely wait for it (0: only when queried; SQLite ignores it) [ALLOT_FOLLOW_INTERVAL]")
	f.StringVar(&cfg.PlacementAuth, "auth-strategy", auth.NoAuth2, "the Placement API's authentication: noauth2 (identity from request headers; for tests) or keystone [ALLOT_AUTH_STRATEGY]")
	f.StringVar(&cfg.BaremetalAuth, "baremetal-auth-strategy", "", "the Bare Metal API's authentication: noauth, noauth2 or keystone (default: noauth when --auth-strategy is noauth2, keystone when it is keystone) [ALLOT_BAREMETAL_AUTH_STRATEGY]")
	f.StringVar(&cfg.Policy.PolicyFile, "policy-file", "", "YAML or JSON file of policy rule overrides (none: the default rules) [ALLOT_POLICY_FILE]")
	f.StringVar(&cfg.BaremetalPolicyFile, "baremetal-policy-file", "", "YAML or JSON file of overrides of Ironic's rules on the Bare Metal API (none: the default rules; Placement's --policy-file does not apply there) [ALLOT_BAREMETAL_POLICY_FILE]")
	f.BoolVar(&cfg.Policy.EnforceScope, "enforce-scope", false, "refuse a token whose scope a rule does not accept [ALLOT_ENFORCE_SCOPE]")
	f.BoolVar(&cfg.Policy.EnforceNewDefaults, "enforce-new-defaults", false, "use only the new (secure RBAC) default rules, not the deprecated ones [ALLOT_ENFORCE_NEW_DEFAULTS]")
	f.Var(newListValue(&cfg.CORS.AllowedOrigin, nil), "cors-allowed-origin", "origins allowed to make cross-origin requests, comma-separated (none: CORS off) [ALLOT_CORS_ALLOWED_ORIGIN]")
	f.BoolVar(&cfg.CORS.AllowCredentials, "cors-allow-credentials", cors.AllowCredentials, "tell browsers that cross-origin requests may carry credentials [ALLOT_CORS_ALLOW_CREDENTIALS]")
	f.Var(newListValue(&cfg.CORS.ExposeHeaders, nil), "cors-expose-headers", "response headers cross-origin scripts may read [ALLOT_CORS_EXPOSE_HEADERS]")
	f.IntVar(&cfg.CORS.MaxAge, "cors-max-age", cors.MaxAge, "seconds browsers may cache a preflight answer (0: no Access-Control-Max-Age) [ALLOT_CORS_MAX_AGE]")
	f.Var(newListValue(&cfg.CORS.AllowMethods, cors.AllowMethods), "cors-allow-methods", "methods cross-origin requests may use [ALLOT_CORS_ALLOW_METHODS]")
	f.Var(newListValue(&cfg.CORS.AllowHeaders, nil), "cors-allow-headers", "request headers cross-origin requests may send, besides the simple ones [ALLOT_CORS_ALLOW_HEADERS]")
	f.Var(newListValue(&cfg.TrustedProxies, nil), "trusted-proxies", "addresses or CIDR ranges of the reverse proxies whose X-Forwarded-Proto, X-Forwarded-Host and Forwarded headers are honoured, comma-separated (none: those headers are ignored) [ALLOT_TRUSTED_PROXIES]")
	f.IntVar(&cfg.Limits.MaxConnections, "max-connections", 0, "most connections open at once on each listener; beyond, a new connection is answered 503 and closed (0: from the open-file limit, so that both listeners at their caps and the store fit in it, at most 10000; negative: no cap) [ALLOT_MAX_CONNECTIONS]")
	f.DurationVar(&cfg.Limits.ReadHeaderTimeout, "read-header-timeout", defaultLimits.ReadHeaderTimeout, "time a request's headers may take to arrive (negative: no limit) [ALLOT_READ_HEADER_TIMEOUT]")
	f.DurationVar(&cfg.Limits.BodyTimeout, "body-timeout", defaultLimits.BodyTimeout, "time a request's body may take to arrive, plus its size at --min-transfer-rate (negative: no limit) [ALLOT_BODY_TIMEOUT]")
	f.DurationVar(&cfg.Limits.WriteTimeout, "write-timeout", defaultLimits.WriteTimeout, "time a client may take to read an answer, from its first byte, plus its size at --min-transfer-rate (negative: no limit) [ALLOT_WRITE_TIMEOUT]")
	f.IntVar(&cfg.Limits.MinTransferRate, "min-transfer-rate", defaultLimits.MinTransferRate, "bytes per second a client must send a body or read an answer at, on average, beyond --body-timeout and --write-timeout (negative: those bound whole transfers) [ALLOT_MIN_TRANSFER_RATE]")
	f.DurationVar(&cfg.Limits.IdleTimeout, "idle-timeout", defaultLimits.IdleTimeout, "time a keep-alive connection may stay idle between requests (negative: no limit) [ALLOT_IDLE_TIMEOUT]")

	ks := keystoneSettings(&cfg.Keystone)
	settings := newServeSettings(f, ks)
	cmd.Long = serveLong + configHelp(f, ks)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		res, err := settings.resolve(os.LookupEnv)
		if err != nil {
			return err
		}
		cfg.ConfigFile = res.path
		cfg.DisableConsole = !serveConsole
		return run(cmd, cfg, res)
	}
	return cmd
}

const serveLong = `Serve the Placement API at the root of --placement-listen and the Bare Metal
API at the root of --baremetal-listen (an empty address turns that API off).

The store is SQLite by default (the file is created and migrated on first
start); give --db postgres://USER@HOST/DB to run several replicas on one
PostgreSQL database. Every flag has an environment variable (shown in
brackets). SIGINT or SIGTERM stops the server gracefully.

Settings come from, weakest first: their defaults, the --config-file, the
environment, the command line.
`

// keystoneSettings are the [keystone_authtoken] settings: from the file
// and the environment (ALLOT_KEYSTONE_...) only.
func keystoneSettings(k *auth.KeystoneConfig) *pflag.FlagSet {
	ks := pflag.NewFlagSet("keystone", pflag.ContinueOnError)
	ks.StringVar(&k.AuthURL, "keystone-auth-url", "", "Keystone's endpoint allot authenticates against")
	ks.StringVar(&k.WWWAuthenticateURI, "keystone-www-authenticate-uri", "", "the Keystone endpoint named to clients in WWW-Authenticate (default: the auth URL)")
	ks.StringVar(&k.Username, "keystone-username", "", "allot's service user")
	ks.StringVar(&k.Password, "keystone-password", "", "its password")
	ks.StringVar(&k.ProjectName, "keystone-project-name", "", "its project")
	ks.StringVar(&k.UserDomainName, "keystone-user-domain-name", "", "the user's domain, by name")
	ks.StringVar(&k.ProjectDomainName, "keystone-project-domain-name", "", "the project's domain, by name")
	ks.StringVar(&k.UserDomainID, "keystone-user-domain-id", "", "the user's domain, by ID")
	ks.StringVar(&k.ProjectDomainID, "keystone-project-domain-id", "", "the project's domain, by ID")
	ks.StringVar(&k.CAFile, "keystone-cafile", "", "CA bundle that verifies Keystone's certificate")
	ks.BoolVar(&k.Insecure, "keystone-insecure", false, "do not verify Keystone's certificate")
	ks.StringVar(&k.RegionName, "keystone-region-name", "", "accepted, unused")
	ks.DurationVar(&k.TokenCacheTime, "keystone-token-cache-time", 300*time.Second, "how long a validated token is trusted (negative: no cache)")
	ks.Var(newListValue(&k.ServiceTokenRoles, []string{"service"}), "keystone-service-token-roles", "roles a service token must carry")
	ks.BoolVar(&k.ServiceTokenRolesRequired, "keystone-service-token-roles-required", false, "refuse a service token without them")
	ks.DurationVar(&k.Timeout, "keystone-timeout", 10*time.Second, "bound of each call to Keystone")
	return ks
}

// envName is a setting's environment variable.
func envName(setting string) string {
	return "ALLOT_" + strings.ToUpper(strings.ReplaceAll(setting, "-", "_"))
}

// resolved is what resolve read besides the settings' values.
type resolved struct {
	// path is the configuration file, "" for none.
	path     string
	warnings []*config.Problem
	// sources say where each setting not left at its default came from:
	// {name, "--flag" | "ALLOT_X" | "FILE:LINE"}.
	sources [][2]string
}

// serveSettings are the settings of "allot serve": its flags (as defined,
// before cobra adds --help) and the flag-less Keystone settings.
type serveSettings struct {
	configFile *pflag.Flag
	all        []*pflag.Flag
	byName     map[string]*pflag.Flag
}

func newServeSettings(flags, ks *pflag.FlagSet) *serveSettings {
	s := &serveSettings{configFile: flags.Lookup("config-file"), byName: map[string]*pflag.Flag{}}
	visit := func(fl *pflag.Flag) {
		if fl != s.configFile {
			s.all = append(s.all, fl)
			s.byName[fl.Name] = fl
		}
	}
	flags.VisitAll(visit)
	ks.VisitAll(visit)
	return s
}

// names lists the settings, for the [allot] section.
func (s *serveSettings) names() []string {
	names := make([]string, len(s.all))
	for i, fl := range s.all {
		names[i] = fl.Name
	}
	return names
}

// resolve applies the configuration file and the environment to the
// settings that the command line did not set, derives the Bare Metal
// auth strategy when nothing set it, and validates the strategies. A
// malformed file or environment variable is a usage error naming it.
func (s *serveSettings) resolve(lookup func(string) (string, bool)) (resolved, error) {
	var res resolved
	res.path, _ = lookup(envName("config-file"))
	if s.configFile.Changed {
		res.path = s.configFile.Value.String()
	}
	all := s.all
	var file *config.File
	if res.path != "" {
		names := s.names()
		var err error
		if file, err = config.Load(res.path, config.Options{Settings: names}); err != nil {
			return res, usageError{err}
		}
		res.warnings = file.Warnings
	}
	set := map[string]bool{}
	for _, fl := range all {
		if fl.Changed {
			set[fl.Name] = true
			res.sources = append(res.sources, [2]string{fl.Name, "--" + fl.Name})
			continue
		}
		if v, ok := lookup(envName(fl.Name)); ok {
			if err := setFlag(fl, v); err != nil {
				return res, usageError{fmt.Errorf("%s=%q: %v", envName(fl.Name), v, err)}
			}
			set[fl.Name] = true
			res.sources = append(res.sources, [2]string{fl.Name, envName(fl.Name)})
			continue
		}
		if file == nil {
			continue
		}
		if s, ok := file.Lookup(fl.Name); ok {
			if err := setFlag(fl, s.Value); err != nil {
				return res, usageError{s.Errorf("%v", err)}
			}
			set[fl.Name] = true
			res.sources = append(res.sources, [2]string{fl.Name, fmt.Sprintf("%s:%d [%s] %s", s.File, s.Line, s.Section, s.Key)})
		}
	}
	strategy, bmStrategy := s.byName["auth-strategy"], s.byName["baremetal-auth-strategy"]
	switch strategy.Value.String() {
	case auth.NoAuth2, auth.Keystone:
	default:
		return res, usageError{fmt.Errorf("--auth-strategy %q: use noauth2 or keystone (the Placement API's strategies)", strategy.Value.String())}
	}
	if !set[bmStrategy.Name] || bmStrategy.Value.String() == "" {
		def := auth.NoAuth
		if strategy.Value.String() == auth.Keystone {
			def = auth.Keystone
		}
		if err := bmStrategy.Value.Set(def); err != nil {
			return res, err
		}
	}
	switch bmStrategy.Value.String() {
	case auth.NoAuth, auth.NoAuth2, auth.Keystone:
	default:
		return res, usageError{fmt.Errorf("--baremetal-auth-strategy %q: use noauth, noauth2 or keystone", bmStrategy.Value.String())}
	}
	return res, nil
}

// setFlag sets a flag's value from the file or the environment; booleans
// are read as oslo.config reads them (yes/no, on/off, 1/0 too).
func setFlag(fl *pflag.Flag, v string) error {
	switch fl.Value.Type() {
	case "bool":
		b, err := config.ParseBool(v)
		if err != nil {
			return err
		}
		v = strconv.FormatBool(b)
	case "int":
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		v = strings.TrimSpace(v)
	case "duration":
		if _, err := time.ParseDuration(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 10s, 1m30s)", v)
		}
		v = strings.TrimSpace(v)
	}
	if err := fl.Value.Set(v); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	return nil
}

// listValue is a comma-separated list flag, read as oslo.config's ListOpt:
// items trimmed, empty ones dropped; each Set replaces the list.
type listValue struct{ p *[]string }

func newListValue(p *[]string, def []string) *listValue {
	*p = append([]string(nil), def...)
	return &listValue{p}
}

func (l *listValue) String() string { return strings.Join(*l.p, ",") }
func (l *listValue) Type() string   { return "strings" }
func (l *listValue) Set(s string) error {
	*l.p = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l.p = append(*l.p, item)
		}
	}
	return nil
}

// configHelp lists every key of the configuration file, for --help: the
// keys allot reads with the flag (or environment variable) they stand
// for, then per section the keys it accepts and ignores.
func configHelp(flags, ks *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString(`
Configuration file (--config-file): oslo.config INI, such as Placement's
placement.conf. Flags and the environment override it. Unknown sections and
keys, and known keys allot ignores, are logged as warnings at start; a
malformed file stops the server with FILE:LINE and the reason. oslo.config's
$name references are not expanded (an error); $$ is a literal $.
Keys read:
`)
	type row struct{ key, to string }
	var rows []row
	ignored := map[string][]string{}
	var order []string
	for _, k := range config.Keys() {
		name := "[" + k.Section + "] " + k.Name
		switch {
		case k.Setting != "" && flags.Lookup(k.Setting) != nil:
			to := "--" + k.Setting
			if k.Note != "" {
				to += ": " + k.Note
			}
			rows = append(rows, row{name, to})
		case k.Setting != "" && ks.Lookup(k.Setting) != nil:
			to := envName(k.Setting)
			if k.Note != "" {
				to += ": " + k.Note
			}
			rows = append(rows, row{name, to})
		case !strings.HasPrefix(k.Note, "ignored") && !strings.HasPrefix(k.Note, "accepted") && !strings.HasPrefix(k.Note, "a warning"):
			rows = append(rows, row{name, k.Note})
		default:
			if ignored[k.Section] == nil {
				order = append(order, k.Section)
			}
			ignored[k.Section] = append(ignored[k.Section], k.Name)
		}
	}
	rows = append(rows, row{"[allot] KEY", "any flag of this command, with _ for - (placement_listen = ...)"})
	for _, r := range rows {
		b.WriteString(wrap(fmt.Sprintf("  %-44s ", r.key), r.to, 110, 47))
	}
	b.WriteString("Keystone settings have no flags: the file or their environment variables\n(ALLOT_KEYSTONE_PASSWORD, ...) set them.\n")
	b.WriteString("Keys accepted and ignored (a warning when they would change something):\n")
	for _, sec := range order {
		b.WriteString(wrap("  ["+sec+"] ", strings.Join(ignored[sec], ", "), 79, 4))
	}
	return b.String()
}

// wrap fills text after prefix to width columns, continuation lines
// indented by indent spaces.
func wrap(prefix, text string, width, indent int) string {
	var b strings.Builder
	line, fresh := prefix, true
	for _, w := range strings.Fields(text) {
		if len(line)+len(w) > width && !fresh {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = strings.Repeat(" ", indent)
		}
		fresh = false
		line += w + " "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}

// candidateOrder resolves --candidate-order with --randomize-candidates
// (Placement's randomize_allocation_candidates), which means random: it
// conflicts with pack and spread.
func candidateOrder(cfg ServeConfig) (engine.Order, error) {
	order, err := engine.ParseOrder(cfg.CandidateOrder)
	if err != nil {
		return "", fmt.Errorf("--candidate-order: %v", err)
	}
	if cfg.RandomizeCands {
		if order != engine.OrderDefault && order != engine.OrderRandom {
			return "", fmt.Errorf("--randomize-candidates (randomize_allocation_candidates) conflicts with --candidate-order %s", order)
		}
		order = engine.OrderRandom
	}
	return order, nil
}
