package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// diff describes how got differs from want, "" when they are equal.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want %#v\n got %#v", want, got)
}

// allotSettings stands for the flags of "allot serve" in these tests.
var allotSettings = Options{Settings: []string{"placement-listen", "baremetal-listen", "db", "max-candidates",
	"candidate-budget", "log-level", "auth-strategy", "randomize-candidates"}}

// settings returns a file's settings as name -> value.
func settings(f *File) map[string]string {
	out := map[string]string{}
	for _, s := range f.Settings {
		out[s.Name] = s.Value
	}
	return out
}

func parse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse("placement.conf", []byte(text), allotSettings)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	return f
}

// Every key allot reads, and what it sets. A file without [api]
// auth_strategy gets Placement's default, keystone.
func TestMapping(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]string
	}{
		{"empty file: Placement's default strategy", "", map[string]string{"auth-strategy": "keystone"}},
		{"debug true", "[DEFAULT]\ndebug = True\n", map[string]string{"log-level": "debug", "auth-strategy": "keystone"}},
		{"debug false sets nothing", "[DEFAULT]\ndebug = no\n", map[string]string{"auth-strategy": "keystone"}},
		{"use_json", "[DEFAULT]\nuse_json = on\n", map[string]string{"log-format": "json", "auth-strategy": "keystone"}},
		{"auth_strategy", "[api]\nauth_strategy = noauth2\n", map[string]string{"auth-strategy": "noauth2"}},
		{"auth_strategy in [DEFAULT] (deprecated group)", "[DEFAULT]\nauth_strategy = noauth2\n", map[string]string{"auth-strategy": "noauth2"}},
		{"[api] wins over [DEFAULT]", "[DEFAULT]\nauth_strategy = noauth2\n[api]\nauth_strategy = keystone\n", map[string]string{"auth-strategy": "keystone"}},
		{"connection sqlite relative", "[api]\nauth_strategy=noauth2\n[placement_database]\nconnection = sqlite:///placement.sqlite\n",
			map[string]string{"auth-strategy": "noauth2", "db": "sqlite:placement.sqlite"}},
		{"connection sqlite absolute", "[api]\nauth_strategy=noauth2\n[placement_database]\nconnection = sqlite:////var/lib/placement/placement.sqlite\n",
			map[string]string{"auth-strategy": "noauth2", "db": "sqlite:/var/lib/placement/placement.sqlite"}},
		{"connection postgres with parameters", "[api]\nauth_strategy=noauth2\n[placement_database]\nconnection = postgresql+psycopg2://placement:secret@db.example.com:5433/placement\nconnection_parameters = sslmode=require\nmax_pool_size = 7\n",
			map[string]string{"auth-strategy": "noauth2", "db": "postgres://placement:secret@db.example.com:5433/placement?sslmode=require", "db-max-conns": "7"}},
		{"sqlite_synchronous true is full", "[api]\nauth_strategy=noauth2\n[placement_database]\nsqlite_synchronous = True\n",
			map[string]string{"auth-strategy": "noauth2", "sqlite-synchronous": "full"}},
		{"sqlite_synchronous false is normal", "[api]\nauth_strategy=noauth2\n[placement_database]\nsqlite_synchronous = no\n",
			map[string]string{"auth-strategy": "noauth2", "sqlite-synchronous": "normal"}},
		{"max_pool_size 0 keeps allot's default", "[api]\nauth_strategy=noauth2\n[placement_database]\nmax_pool_size = 0\n", map[string]string{"auth-strategy": "noauth2"}},
		{"randomize", "[api]\nauth_strategy=noauth2\n[placement]\nrandomize_allocation_candidates = YES\n",
			map[string]string{"auth-strategy": "noauth2", "randomize-candidates": "true"}},
		{"oslo_policy", "[api]\nauth_strategy=noauth2\n[oslo_policy]\npolicy_file = /etc/placement/policy.yaml\nenforce_scope = true\nenforce_new_defaults = 1\n",
			map[string]string{"auth-strategy": "noauth2", "policy-file": "/etc/placement/policy.yaml", "enforce-scope": "true", "enforce-new-defaults": "true"}},
		{"relative policy_file beside the configuration file", "[api]\nauth_strategy=noauth2\n[oslo_policy]\npolicy_file = policy.yaml\n",
			map[string]string{"auth-strategy": "noauth2", "policy-file": "policy.yaml"}}, // Parse's path is "placement.conf": its directory is "."
		{"cors", "[api]\nauth_strategy=noauth2\n[cors]\nallowed_origin = https://a.example.com, https://b.example.com,\nallow_credentials = false\nexpose_headers = X-A,X-B\nmax_age = 60\nallow_methods = GET,PUT\nallow_headers =\n    openstack-api-version,\n    x-auth-token\n",
			map[string]string{"auth-strategy": "noauth2", "cors-allowed-origin": "https://a.example.com,https://b.example.com", "cors-allow-credentials": "false",
				"cors-expose-headers": "X-A,X-B", "cors-max-age": "60", "cors-allow-methods": "GET,PUT", "cors-allow-headers": "openstack-api-version,x-auth-token"}},
		{"keystone_authtoken", `[keystone_authtoken]
auth_type = password
auth_url = https://keystone.example.com/identity
www_authenticate_uri = https://keystone.example.com/public
username = placement
password = "pa$$word"
project_name = service
user_domain_name = Default
project_domain_name = Default
user_domain_id = default
project_domain_id = default
cafile = /etc/ssl/ca.pem
insecure = false
region_name = RegionOne
token_cache_time = 600
service_token_roles = service, admin
service_token_roles_required = true
http_connect_timeout = 5
`, map[string]string{"auth-strategy": "keystone", "keystone-auth-url": "https://keystone.example.com/identity",
			"keystone-www-authenticate-uri": "https://keystone.example.com/public", "keystone-username": "placement",
			"keystone-password": "pa$word", "keystone-project-name": "service", "keystone-user-domain-name": "Default",
			"keystone-project-domain-name": "Default", "keystone-user-domain-id": "default", "keystone-project-domain-id": "default",
			"keystone-cafile": "/etc/ssl/ca.pem", "keystone-insecure": "false", "keystone-region-name": "RegionOne",
			"keystone-token-cache-time": "10m0s", "keystone-service-token-roles": "service,admin",
			"keystone-service-token-roles-required": "true", "keystone-timeout": "5s"}},
		{"deprecated keystone names", "[keystone_authtoken]\nauth_uri = http://k:5000\nuser_name = u\ntenant_name = p\nauth_plugin = password\n",
			map[string]string{"auth-strategy": "keystone", "keystone-www-authenticate-uri": "http://k:5000", "keystone-username": "u", "keystone-project-name": "p"}},
		{"default domains fill the unset ones", "[keystone_authtoken]\ndefault_domain_name = Default\nuser_domain_name = Users\ndefault_domain_id = default\n",
			map[string]string{"auth-strategy": "keystone", "keystone-user-domain-name": "Users", "keystone-project-domain-name": "Default",
				"keystone-user-domain-id": "default", "keystone-project-domain-id": "default"}},
		{"negative token cache time", "[keystone_authtoken]\ntoken_cache_time = -1\n", map[string]string{"auth-strategy": "keystone", "keystone-token-cache-time": "-1s"}},
		{"[allot] section by flag name", "[allot]\nplacement_listen = 0.0.0.0:8778\nbaremetal_listen =\ncandidate_budget = 2s\nmax_candidates = 50\n",
			map[string]string{"auth-strategy": "keystone", "placement-listen": "0.0.0.0:8778", "baremetal-listen": "", "candidate-budget": "2s", "max-candidates": "50"}},
		{"[allot] wins over the oslo keys", "[api]\nauth_strategy = keystone\n[allot]\nauth_strategy = noauth2\ndb = sqlite:a.db\n[placement_database]\nconnection = sqlite:///b.db\n",
			map[string]string{"auth-strategy": "noauth2", "db": "sqlite:a.db"}},
		{"last assignment wins; sections are case-insensitive", "[API]\nauth_strategy = keystone\n[api]\nauth_strategy = noauth2\n", map[string]string{"auth-strategy": "noauth2"}},
		{"quotes, colons, comments", "# comment\n; another\n[api]\nauth_strategy: 'noauth2'\n[placement_database]\nconnection = \"sqlite:///x.db\"\n",
			map[string]string{"auth-strategy": "noauth2", "db": "sqlite:x.db"}},
		{"escaped dollars", "[api]\nauth_strategy=noauth2\n[keystone_authtoken]\npassword = a\\$b$$c$ d\n",
			map[string]string{"auth-strategy": "noauth2", "keystone-password": "a$b$c$ d"}},
		{"CRLF and a byte order mark", "\ufeff[api]\r\nauth_strategy = noauth2\r\n", map[string]string{"auth-strategy": "noauth2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, tc.text)
			if d := diff(tc.want, settings(f)); d != "" {
				t.Errorf("settings:\n%s", d)
			}
		})
	}
}

// Settings carry the line that set them.
func TestSettingLines(t *testing.T) {
	f := parse(t, "[DEFAULT]\n\n[api]\n# x\nauth_strategy = noauth2\n[oslo_policy]\nenforce_scope =\n  true\n")
	want := []Setting{
		{Name: "auth-strategy", Value: "noauth2", File: "placement.conf", Line: 5, Section: "api", Key: "auth_strategy"},
		{Name: "enforce-scope", Value: "true", File: "placement.conf", Line: 7, Section: "oslo_policy", Key: "enforce_scope"},
	}
	if d := diff(want, f.Settings); d != "" {
		t.Errorf("settings:\n%s", d)
	}
	if err := f.Settings[1].Errorf("bad %s", "thing"); err.Error() != "placement.conf:7: [oslo_policy] enforce_scope: bad thing" {
		t.Errorf("Errorf = %q", err)
	}
}

func TestDSN(t *testing.T) {
	for _, tc := range []struct{ url, params, want, warn, err string }{
		{url: "sqlite:///placement.sqlite", want: "sqlite:placement.sqlite"},
		{url: "sqlite:///dir/sub/p.db", want: "sqlite:dir/sub/p.db"},
		{url: "sqlite:////var/lib/placement/placement.sqlite", want: "sqlite:/var/lib/placement/placement.sqlite"},
		{url: "sqlite+pysqlite:////abs.db", want: "sqlite:/abs.db"},
		{url: "sqlite:////abs.db?timeout=30", want: "sqlite:/abs.db", warn: "ignored"},
		{url: "sqlite://", err: "in-memory"},
		{url: "sqlite:///:memory:", err: "in-memory"},
		{url: "sqlite://host/x.db", err: "names a file, not a host"},
		{url: "postgresql://u:p@h/db", want: "postgres://u:p@h/db"},
		{url: "postgres://u@h:5433/db", want: "postgres://u@h:5433/db"},
		{url: "postgresql+psycopg2://postgres@/placement_18778?host=/tmp/pg&port=15432", want: "postgres://postgres@/placement_18778?host=/tmp/pg&port=15432"},
		{url: "postgresql+psycopg2://u:p%40ss@h/db?sslmode=verify-full", params: "application_name=placement&connect_timeout=5",
			want: "postgres://u:p%40ss@h/db?sslmode=verify-full&application_name=placement&connect_timeout=5"},
		{url: "postgresql://u@h/db", params: "sslmode=disable", want: "postgres://u@h/db?sslmode=disable"},
		{url: "postgresql://u@h/db", params: "a=%zz", err: "connection_parameters"},
		{url: "postgresql://u:secret@h:port/db", err: "malformed PostgreSQL URL"},
		{url: "mysql+pymysql://placement:secret@db/placement?charset=utf8", err: "MySQL is not supported"},
		{url: "mysql://placement@db/placement", err: "MySQL is not supported"},
		{url: "oracle://x@y/z", err: `the "oracle" database is not supported`},
		{url: "placement.db", err: "not a database URL"},
	} {
		got, warn, err := DSN(tc.url, tc.params)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("DSN(%q): error %v, want one with %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("DSN(%q): the error shows the password: %v", tc.url, err)
			}
			continue
		}
		if err != nil || got != tc.want || !strings.Contains(warn, tc.warn) || tc.warn == "" && warn != "" {
			t.Errorf("DSN(%q, %q) = %q, %q, %v; want %q, warning with %q", tc.url, tc.params, got, warn, err, tc.want, tc.warn)
		}
	}
}

// A malformed file is an error naming the file, the line and the reason.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[oslo_policy]\nenforce_scope = maybe\n", `placement.conf:2: [oslo_policy] enforce_scope: "maybe" is not a boolean`},
		{"[DEFAULT]\n\n\n[cors]\nmax_age = an hour\n", `placement.conf:5: [cors] max_age: "an hour" is not an integer`},
		{"[api]\nauth_strategy = noauth\n", `placement.conf:2: [api] auth_strategy: "noauth" is not an auth strategy: use keystone or noauth2`},
		{"[keystone_authtoken]\nauth_type = v3token\n", `placement.conf:2: [keystone_authtoken] auth_type: "v3token" is not supported`},
		{"[keystone_authtoken]\nauth_section = svc\n", `placement.conf:2: [keystone_authtoken] auth_section: not supported`},
		{"[placement_database]\nconnection = mysql+pymysql://p:secret@db/placement\n", "placement.conf:2: [placement_database] connection: MySQL is not supported"},
		{"[placement_database]\nconnection = $state_path/placement.sqlite\n", "placement.conf:2: [placement_database] connection: $state_path: allot does not expand"},
		{"[keystone_authtoken]\npassword = ${DEFAULT.x}y\n", "placement.conf:2: [keystone_authtoken] password: ${DEFAULT.x}: allot does not expand"},
		{"debug = true\n", "placement.conf:1: debug: a key before the first [section] header"},
		{"[api]\n  auth_strategy = noauth2\n", "placement.conf:2: unexpected continuation line"},
		{"[api]\nauth_strategy = noauth2\n\n  more\n", "placement.conf:4: unexpected continuation line"},
		{"[api] # the API\n", "placement.conf:1: invalid section header (it must end with ])"},
		{"[]\n", "placement.conf:1: empty section name"},
		{"[api]\nauth_strategy\n", "placement.conf:2: no '=' or ':' found in assignment"},
		{"[api]\n= noauth2\n", "placement.conf:2: empty key"},
		{"[api]\nauth_strategy = `noauth2`\n", "placement.conf:2: [api] auth_strategy: a value starting with `"},
		{"[api]\n\"auth_strategy\" = noauth2\n", "placement.conf:2: [api] \"auth_strategy\": a key cannot start with a quote"},
		{"[allot]\nmax_candidates = 50\n[placement]\nrandomize_allocation_candidates = sometimes\n", `placement.conf:4: [placement] randomize_allocation_candidates: "sometimes" is not a boolean`},
	} {
		_, err := Parse("placement.conf", []byte(tc.text), allotSettings)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v\nwant an error starting %q", tc.text, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q): the error shows the password: %v", tc.text, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.conf")
	_, err := Load(p, Options{})
	if err == nil || err.Error() != p+": cannot read the configuration file: no such file or directory" {
		t.Errorf("Load(missing) = %v", err)
	}
}

// Unknown sections and keys, and known keys allot ignores, are warnings
// with their line, never errors.
func TestWarnings(t *testing.T) {
	text := `[DEFAULT]
log_dir = /var/log/placement
transport_url = rabbit://x
use_stderr = true
[default]
x = 1
[api]
auth-strategy = noauth2
auth_strategy = noauth2
[profiler]
enabled = true
[keystone_authtoken]
memcached_servers = m1:11211,m2:11211
auth_uri = http://old
www_authenticate_uri = http://new
[placement]
incomplete_consumer_project_id = 00000000-0000-0000-0000-000000000000
incomplete_consumer_user_id = 11111111-0000-0000-0000-000000000000
[allot]
placement-listen = :1
bogus = 1
db = sqlite:a.db
[placement_database]
connection = sqlite:///b.db
[cors.horizon]
allowed_origin = https://h
`
	f := parse(t, text)
	var got []string
	for _, w := range f.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"placement.conf:2: [DEFAULT] log_dir: ignored: allot logs to standard error",
		"placement.conf:3: [DEFAULT] transport_url: unknown key: allot ignores it",
		"placement.conf:5: [default]: unknown section: allot ignores it (did you mean [DEFAULT]?",
		"placement.conf:8: [api] auth-strategy: unknown key: allot ignores it (did you mean auth_strategy?)",
		"placement.conf:10: [profiler]: unknown section: allot ignores it",
		"placement.conf:13: [keystone_authtoken] memcached_servers: ignored: allot caches validated tokens in process",
		"placement.conf:14: [keystone_authtoken] auth_uri: deprecated name of [keystone_authtoken] www_authenticate_uri, which is also set and wins",
		"placement.conf:18: [placement] incomplete_consumer_user_id: ignored:",
		"placement.conf:20: [allot] placement-listen: unknown key: allot serve has no such setting (write placement_listen, with _ for -)",
		"placement.conf:21: [allot] bogus: unknown key: allot serve has no such setting",
		"placement.conf:24: [placement_database] connection: overridden by [allot] db on line 22",
		"placement.conf:25: [cors.horizon]: unknown section: allot ignores it (oslo.middleware's per-origin",
	}
	if len(got) != len(want) {
		t.Fatalf("%d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
	if s := settings(f); s["keystone-www-authenticate-uri"] != "http://new" || s["db"] != "sqlite:a.db" {
		t.Errorf("settings %v", s)
	}
}

// policy_file and policy_dirs are taken from the configuration file's
// directory; a policy directory holding files is a warning (allot reads
// only the policy file); Placement's default policy.yaml beside the file
// is read when it exists.
func TestPolicyPaths(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "placement.conf")
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("placement.conf", "[oslo_policy]\npolicy_file = rules/placement-policy.yaml\npolicy_dirs = empty.d\npolicy_dirs = full.d\n")
	write("full.d/10-x.yaml", "{}\n")
	if err := os.Mkdir(filepath.Join(dir, "empty.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Load(conf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Lookup("policy-file"); got.Value != filepath.Join(dir, "rules/placement-policy.yaml") {
		t.Errorf("policy-file = %q", got.Value)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0].Error(), ":4: [oslo_policy] policy_dirs: ignored: the policy directory "+filepath.Join(dir, "full.d")+" holds files") {
		t.Errorf("warnings %v", f.Warnings)
	}

	// No policy_file: Placement's default, policy.yaml beside the file,
	// when there is one; the default policy.d is checked too.
	write("placement.conf", "[api]\nauth_strategy = noauth2\n")
	if f, err = Load(conf, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Lookup("policy-file"); ok || len(f.Warnings) != 0 {
		t.Errorf("without policy.yaml: settings %v, warnings %v", f.Settings, f.Warnings)
	}
	write("policy.yaml", "{}\n")
	write("policy.d/x.yaml", "{}\n")
	if f, err = Load(conf, Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Lookup("policy-file"); got.Value != filepath.Join(dir, "policy.yaml") {
		t.Errorf("default policy-file = %q", got.Value)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0].Error(), "policy_dirs (absent: Placement's default policy.d): ignored: the policy directory") {
		t.Errorf("warnings %v", f.Warnings)
	}
}

// The placement.conf that ../shared/peers/placement/start.sh writes for
// the real Placement loads without an error or a warning, in every
// profile and with either database: the copy in testdata, and the
// script's own template when the shared tree is there.
func TestPeerPlacementConf(t *testing.T) {
	data, err := os.ReadFile("testdata/peer-placement.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("testdata/peer-placement.conf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"auth-strategy": "noauth2", "db": "sqlite:/tmp/placement-peer-18778/placement.sqlite",
		"policy-file": "/tmp/placement-peer-18778/etc/policy.yaml", "enforce-scope": "false", "enforce-new-defaults": "false",
		"cors-allowed-origin": "http://valid.example.com", "cors-allow-headers": "openstack-api-version",
		"sqlite-synchronous": "normal"}
	if d := diff(want, settings(f)); d != "" || len(f.Warnings) != 0 {
		t.Errorf("settings:\n%s\nwarnings: %v", d, f.Warnings)
	}

	script, err := os.ReadFile("../../../shared/peers/placement/start.sh")
	if err != nil {
		t.Skipf("the peer's start.sh is not here: %v", err)
	}
	_, tmpl, ok := strings.Cut(string(script), "cat > \"$RUNDIR/etc/placement.conf\" <<EOF\n")
	tmpl, _, ok2 := strings.Cut(tmpl, "\nEOF\n")
	if !ok || !ok2 {
		t.Fatal("start.sh no longer writes placement.conf with cat > \"$RUNDIR/etc/placement.conf\" <<EOF: update this test")
	}
	for _, db := range []struct{ connection, extra, want string }{
		{"sqlite:////tmp/run/placement.sqlite", "sqlite_synchronous = False", "sqlite:/tmp/run/placement.sqlite"},
		{"postgresql+psycopg2://postgres@/placement_18778?host=/tmp/pg&port=15432", "", "postgres://postgres@/placement_18778?host=/tmp/pg&port=15432"},
	} {
		for _, profile := range []struct{ enforce, cors string }{
			{"False", ""},
			{"True", ""},
			{"False", "[cors]\nallowed_origin = http://valid.example.com\nallow_headers = openstack-api-version"},
		} {
			text := strings.NewReplacer("$RUNDIR", "/tmp/run", "$CONNECTION", db.connection, "$DBEXTRA", db.extra,
				"$POLICY_ENFORCE", profile.enforce, "$CORS", profile.cors).Replace(tmpl)
			f, err := Parse("placement.conf", []byte(text), Options{})
			if err != nil {
				t.Errorf("%v\n%s", err, text)
				continue
			}
			s := settings(f)
			if len(f.Warnings) != 0 || s["db"] != db.want || s["auth-strategy"] != "noauth2" || s["enforce-scope"] != strings.ToLower(profile.enforce) ||
				(profile.cors != "") != (s["cors-allowed-origin"] == "http://valid.example.com") {
				t.Errorf("settings %v, warnings %v\n%s", s, f.Warnings, text)
			}
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "True", "TRUE", "yes", "On", "1", " true "} {
		if b, err := ParseBool(s); !b || err != nil {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"false", "No", "OFF", "0"} {
		if b, err := ParseBool(s); b || err != nil {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"", "t", "y", "2", "maybe"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q): no error", s)
		}
	}
}

// Keys lists every key once, with the settings the CLI must provide.
func TestKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		id := k.Section + "." + k.Name
		if seen[id] {
			t.Errorf("%s listed twice", id)
		}
		seen[id] = true
		if k.Setting == "" && k.Note == "" {
			t.Errorf("%s: neither a setting nor a note", id)
		}
	}
}

// FuzzParse feeds arbitrary bytes as a configuration file: Parse never
// panics, and every error and warning names the file.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/peer-placement.conf"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[DEFAULT]\ndebug = true\n[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = postgresql://u:p@h/db\n"))
	f.Add([]byte("[cors]\nallowed_origin =\n  a,\n  b\n[allot]\ndb = sqlite:x\n"))
	f.Add([]byte("[keystone_authtoken]\npassword = \"a$$b\"\ntoken_cache_time = 1\n[oslo_policy]\npolicy_dirs = d\n"))
	f.Add([]byte("x\n[\n  y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.conf", data, allotSettings)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, w := range file.Warnings {
			if !strings.HasPrefix(w.Error(), "fuzz.conf") {
				t.Fatalf("warning does not name the file: %v", w)
			}
		}
		for _, s := range file.Settings {
			if s.File != "fuzz.conf" {
				t.Fatalf("setting %v does not name the file", s)
			}
		}
	})
}
