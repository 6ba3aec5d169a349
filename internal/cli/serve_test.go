package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/api"
	"allot/internal/auth"
	"allot/internal/config"
	"allot/internal/policy"
)

// resolveArgs runs "allot serve ARGS" up to the point where the server
// would start and returns the settings it would start with.
func resolveArgs(t *testing.T, args ...string) (ServeConfig, resolved, error) {
	t.Helper()
	var got ServeConfig
	var res resolved
	cmd := serveCommand(func(_ *cobra.Command, cfg ServeConfig, r resolved) error {
		got, res = cfg, r
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, res, err
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "placement.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Settings come from the configuration file, overridden by the
// environment, overridden by the flags given on the command line.
func TestServeSettingsPrecedence(t *testing.T) {
	conf := writeConf(t, `[DEFAULT]
debug = true
[api]
auth_strategy = keystone
[placement_database]
connection = sqlite:///file.db
max_pool_size = 7
[placement]
randomize_allocation_candidates = yes
[oslo_policy]
policy_file = policy.yaml
enforce_scope = true
[cors]
allowed_origin = https://dashboard.example.com
max_age = 60
[keystone_authtoken]
auth_url = https://keystone.example.com
username = placement
password = file-password
project_name = service
user_domain_name = Default
project_domain_name = Default
token_cache_time = 30
service_token_roles = service,admin
[healthcheck]
disable_by_file_path = /run/allot/healthcheck_disable
[allot]
max_candidates = 1
candidate_budget = 1s
placement_listen = 127.0.0.1:1
admin_listen = 127.0.0.1:9
metrics_per_provider = false
metrics_per_provider_max = 50000
follow_interval = 250ms
`)
	t.Setenv("ALLOT_MAX_CANDIDATES", "2")
	t.Setenv("ALLOT_DB", "sqlite:env.db")
	t.Setenv("ALLOT_KEYSTONE_PASSWORD", "env-password")
	t.Setenv("ALLOT_ENFORCE_NEW_DEFAULTS", "on")
	cfg, res, err := resolveArgs(t, "--config-file", conf, "--max-candidates", "3", "--placement-listen", "127.0.0.1:3")
	if err != nil {
		t.Fatal(err)
	}
	want := ServeConfig{
		ConfigFile:      conf,
		PlacementListen: "127.0.0.1:3", BaremetalListen: "127.0.0.1:6385", // flag; default
		DB: "sqlite:env.db", DBMaxConns: 7, SQLiteSynchronous: "full", // environment; file; default
		LogLevel: "debug", LogFormat: "text",
		MaxCandidates: 3, CandidateBudget: time.Second, RandomizeCands: true, CandidateOrder: "default",
		AllocationWorkers: 2, AllocationLease: 30 * time.Second, FollowInterval: 250 * time.Millisecond, // file
		AdminListen: "127.0.0.1:9", MetricsPerProvider: false, MetricsPerProviderMax: 50000, HealthcheckDisableFile: "/run/allot/healthcheck_disable", // file
		PlacementAuth: "keystone", BaremetalAuth: "keystone", // file; derived
		Keystone: auth.KeystoneConfig{AuthURL: "https://keystone.example.com", Username: "placement", Password: "env-password",
			ProjectName: "service", UserDomainName: "Default", ProjectDomainName: "Default", TokenCacheTime: 30 * time.Second,
			ServiceTokenRoles: []string{"service", "admin"}, Timeout: 10 * time.Second},
		Policy: policy.Options{PolicyFile: filepath.Join(filepath.Dir(conf), "policy.yaml"), EnforceScope: true, EnforceNewDefaults: true},
		CORS: api.CORSOptions{AllowedOrigin: []string{"https://dashboard.example.com"}, AllowCredentials: true, MaxAge: 60,
			AllowMethods: api.DefaultCORSOptions().AllowMethods},
		Limits: defaultLimits,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("settings\n got %+v\nwant %+v", cfg, want)
	}
	if len(res.warnings) != 0 {
		t.Errorf("warnings: %v", res.warnings)
	}

	// Without the file: the defaults, and the environment.
	cfg, _, err = resolveArgs(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxCandidates != 2 || cfg.DB != "sqlite:env.db" || cfg.PlacementAuth != "noauth2" || cfg.BaremetalAuth != "noauth" ||
		cfg.Keystone.Password != "env-password" || cfg.Keystone.TokenCacheTime != 300*time.Second ||
		!reflect.DeepEqual(cfg.Keystone.ServiceTokenRoles, []string{"service"}) || cfg.CORS.AllowedOrigin != nil || !cfg.CORS.AllowCredentials {
		t.Errorf("without a file: %+v", cfg)
	}

	// The file named by the environment.
	t.Setenv("ALLOT_CONFIG_FILE", conf)
	if cfg, _, err = resolveArgs(t); err != nil || cfg.ConfigFile != conf || cfg.PlacementAuth != "keystone" {
		t.Errorf("ALLOT_CONFIG_FILE: %v, %+v", err, cfg)
	}
}

// The Bare Metal strategy follows the Placement one unless set; both are
// validated.
func TestServeAuthStrategies(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		env           string
		placement, bm string
		err           string
	}{
		{args: nil, placement: "noauth2", bm: "noauth"},
		{args: []string{"--auth-strategy", "keystone"}, placement: "keystone", bm: "keystone"},
		{args: []string{"--auth-strategy", "keystone", "--baremetal-auth-strategy", "noauth2"}, placement: "keystone", bm: "noauth2"},
		{args: []string{"--auth-strategy", "noauth2"}, env: "keystone", placement: "noauth2", bm: "keystone"},
		{args: []string{"--auth-strategy", "noauth"}, err: `--auth-strategy "noauth": use noauth2 or keystone`},
		{args: []string{"--baremetal-auth-strategy", "token"}, err: `--baremetal-auth-strategy "token": use noauth, noauth2 or keystone`},
	} {
		if tc.env != "" {
			t.Setenv("ALLOT_BAREMETAL_AUTH_STRATEGY", tc.env)
		}
		cfg, _, err := resolveArgs(t, tc.args...)
		switch {
		case tc.err != "":
			var ue usageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.err)
			}
		case err != nil || cfg.PlacementAuth != tc.placement || cfg.BaremetalAuth != tc.bm:
			t.Errorf("%v: %v, %q/%q; want %q/%q", tc.args, err, cfg.PlacementAuth, cfg.BaremetalAuth, tc.placement, tc.bm)
		}
		os.Unsetenv("ALLOT_BAREMETAL_AUTH_STRATEGY")
	}
}

// A malformed file or environment variable stops allot serve at start,
// before the store is touched, with the file, line and reason.
func TestServeConfigErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	for _, tc := range []struct{ conf, env, want string }{
		{conf: "[DEFAULT]\n\n[oslo_policy]\nenforce_scope = maybe\n", want: `placement.conf:4: [oslo_policy] enforce_scope: "maybe" is not a boolean`},
		{conf: "[placement_database]\nconnection = mysql+pymysql://placement:secret@db/placement\n", want: "placement.conf:2: [placement_database] connection: MySQL is not supported"},
		{conf: "[allot]\nmax_candidates = many\n", want: `placement.conf:2: [allot] max_candidates: "many" is not an integer`},
		{conf: "[allot]\ncandidate_budget = 10\n", want: `placement.conf:2: [allot] candidate_budget: "10" is not a duration`},
		{conf: "[allot]\nrandomize_candidates = sometimes\n", want: `placement.conf:2: [allot] randomize_candidates: "sometimes" is not a boolean`},
		{conf: "[allot]\nfollow_interval = 1ms\n", want: "--follow-interval 1ms: use 0 (catch up only when queried) or at least 10ms"},
		{conf: "[allot]\nfollow_interval = -1s\n", want: "--follow-interval -1s: use 0"},
		{conf: "[allot]\nmetrics_per_provider_max = -5\n", want: "--metrics-per-provider-max is -5: give a number of providers, or 0 for no limit"},
		{conf: "[api]\nauth_strategy = noauth2\n", env: "maybe", want: `ALLOT_ENFORCE_SCOPE="maybe": "maybe" is not a boolean`},
	} {
		conf := writeConf(t, tc.conf)
		if tc.env != "" {
			t.Setenv("ALLOT_ENFORCE_SCOPE", tc.env)
		}
		r := runCLI(t, "", "serve", "--config-file", conf, "--db", "sqlite:"+db)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "secret") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error with %q", tc.conf, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("%q: the store was created anyway", tc.conf)
		}
		os.Unsetenv("ALLOT_ENFORCE_SCOPE")
	}
	r := runCLI(t, "", "serve", "--config-file", filepath.Join(t.TempDir(), "missing.conf"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "missing.conf: cannot read the configuration file") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Unknown keys reach allot serve as warnings with their file and line.
func TestServeConfigWarnings(t *testing.T) {
	conf := writeConf(t, "[api]\nauth_strategy = noauth2\nfoo = bar\n[allot]\nplacement-listen = x\n")
	_, res, err := resolveArgs(t, "--config-file", conf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range res.warnings {
		got = append(got, w.Error())
	}
	want := []string{conf + ":3: [api] foo: unknown key: allot ignores it",
		conf + ":5: [allot] placement-listen: unknown key: allot serve has no such setting (write placement_listen, with _ for -)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}
}

// Every setting of the configuration file maps onto a setting of allot
// serve, every flag can be set in [allot], and --help lists every key.
func TestServeHelpListsConfigKeys(t *testing.T) {
	cmd := serveCommand(nil)
	names := map[string]bool{}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) { names[fl.Name] = true })
	keystone := keystoneSettings(&auth.KeystoneConfig{})
	keystone.VisitAll(func(fl *pflag.Flag) { names[fl.Name] = true })
	help := runCLI(t, "", "serve", "--help").stdout
	for _, k := range config.Keys() {
		if k.Setting != "" && !names[k.Setting] {
			t.Errorf("[%s] %s sets %q, which allot serve does not have", k.Section, k.Name, k.Setting)
		}
		if !regexp.MustCompile(`\[` + k.Section + `\] ([a-z_, \n]*\b)?` + k.Name + `\b`).MatchString(help) {
			t.Errorf("--help does not list [%s] %s", k.Section, k.Name)
		}
	}
	for _, s := range []string{"[allot] KEY", "ALLOT_KEYSTONE_PASSWORD", "--config-file", "[ALLOT_CONFIG_FILE]"} {
		if !strings.Contains(help, s) {
			t.Errorf("--help does not mention %s", s)
		}
	}
}

// docs/operations.md's "Configuration file" lists every key, and its
// example file loads without an error or a warning.
func TestServeConfigDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Configuration file\n")
	if !ok {
		t.Fatal(`docs/operations.md has no "## Configuration file" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, k := range config.Keys() {
		if !strings.Contains(section, "`["+k.Section+"] "+k.Name+"`") {
			t.Errorf("docs/operations.md does not list [%s] %s", k.Section, k.Name)
		}
	}
	_, example, ok := strings.Cut(section, "```ini\n")
	example, _, ok2 := strings.Cut(example, "```")
	if !ok || !ok2 {
		t.Fatal("no ```ini example in the section")
	}
	conf := writeConf(t, example)
	cfg, res, err := resolveArgs(t, "--config-file", conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.warnings) != 0 {
		t.Errorf("warnings: %v", res.warnings)
	}
	if cfg.PlacementAuth != "keystone" || cfg.Keystone.Password != "secret" || cfg.DBMaxConns != 40 || cfg.BaremetalListen != "" ||
		cfg.DB != "postgres://placement:secret@db.example.com:5432/placement?sslmode=verify-full&application_name=allot" ||
		!reflect.DeepEqual(cfg.CORS.AllowHeaders, []string{"OpenStack-API-Version", "X-Auth-Token", "Content-Type"}) {
		t.Errorf("example: %+v", cfg)
	}
}

// A second allot serve on the SQLite file that one already serves refuses
// to start, naming the file and PostgreSQL for replicas; the first keeps
// serving.
func TestServeRefusesASecondServerOnOneSQLiteFile(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "allot.db")
	cfg := ServeConfig{PlacementListen: "127.0.0.1:0", DB: db, PlacementAuth: auth.NoAuth2, AllocationWorkers: -1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bound := make(chan Listening, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, slog.New(slog.DiscardHandler), func(l Listening) { bound <- l }) }()
	var first Listening
	select {
	case first = <-bound:
	case err := <-done:
		t.Fatalf("the first server: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the first server did not start")
	}
	second := make(chan cliResult, 1)
	go func() {
		second <- runCLI(t, "", "serve", "--db", db, "--placement-listen", "127.0.0.1:0", "--baremetal-listen", "")
	}()
	var r cliResult
	select {
	case r = <-second:
	case <-time.After(30 * time.Second):
		t.Fatal("a second server started on the same SQLite file")
	}
	for _, want := range []string{strings.TrimPrefix(db, "sqlite:"), "is already open in another allot process", "use PostgreSQL"} {
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("second server: exit %d, stderr %q lacks %q", r.code, r.stderr, want)
		}
	}
	resp, err := http.Get("http://" + first.Placement + "/")
	if err != nil {
		t.Fatalf("the first server stopped serving: %v", err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the first server: %v", err)
	}
}

// docs/operations.md's "Every serve flag" table is the flags of allot
// serve, each with its environment variable, default and meaning, as
// --help gives them. Run with -update after changing a flag.
func TestServeFlagsDocumented(t *testing.T) {
	const path = "../../docs/operations.md"
	const begin, end = "<!-- serve flags: generated by go test ./internal/cli -run TestServeFlagsDocumented -update -->\n", "<!-- end of serve flags -->\n"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), begin)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("%s lacks the generated table's markers", path)
	}
	var b strings.Builder
	b.WriteString("| flag | environment | default | what it does |\n|---|---|---|---|\n")
	serveCommand(nil).Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden || fl.Name == "help" {
			return
		}
		usage := strings.TrimSpace(strings.TrimSuffix(fl.Usage, "["+envName(fl.Name)+"]"))
		if !strings.Contains(fl.Usage, "["+envName(fl.Name)+"]") {
			t.Errorf("--%s: its help does not name %s", fl.Name, envName(fl.Name))
		}
		def := "`" + fl.DefValue + "`"
		if fl.DefValue == "" || fl.DefValue == "[]" {
			def = "none"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", fl.Name, envName(fl.Name), def, strings.ReplaceAll(usage, "|", `\|`))
	})
	want := before + begin + b.String() + end + after
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Errorf("%s's table of serve flags is not the flags of allot serve: run go test ./internal/cli -run TestServeFlagsDocumented -update", path)
	}
}

// --console (ALLOT_CONSOLE, [allot] console) turns the web console off:
// /ui/ is then Placement's 404, like any path Placement does not have.
func TestServeConsoleSwitch(t *testing.T) {
	for _, c := range []struct {
		args    []string
		env     string
		disable bool
	}{
		{nil, "", false},
		{[]string{"--console=false"}, "", true},
		{nil, "false", true},
		{[]string{"--console"}, "false", false},
	} {
		if c.env != "" {
			t.Setenv("ALLOT_CONSOLE", c.env)
		} else {
			os.Unsetenv("ALLOT_CONSOLE")
		}
		cfg, _, err := resolveArgs(t, c.args...)
		if err != nil || cfg.DisableConsole != c.disable {
			t.Errorf("args %q, ALLOT_CONSOLE=%q: DisableConsole %v (%v), want %v", c.args, c.env, cfg.DisableConsole, err, c.disable)
		}
	}
	for _, disable := range []bool{false, true} {
		l := serveForTest(t, ServeConfig{
			PlacementListen: "127.0.0.1:0", DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"),
			PlacementAuth: auth.NoAuth2, CandidateOrder: "default", DisableConsole: disable,
		})
		req, _ := http.NewRequest("GET", "http://"+l.Placement+"/ui/", nil)
		req.Header.Set("X-Auth-Token", "admin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[bool]int{false: 200, true: 404}[disable]; res.StatusCode != want {
			t.Errorf("DisableConsole %v: GET /ui/ %d, want %d", disable, res.StatusCode, want)
		}
	}
}
