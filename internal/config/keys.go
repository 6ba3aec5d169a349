package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// allotSection holds allot's own settings, by flag name.
const allotSection = "allot"

// kind is the oslo.config type of a key.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindList
	// kindMulti is a MultiStrOpt: every assignment counts.
	kindMulti
)

// key is one oslo.config option that allot knows.
type key struct {
	section, name string
	kind          kind
	// setting is the allot setting the key sets ("" when none).
	setting string
	// aliases are deprecated spellings, "section.name".
	aliases []string
	// note says what allot does with the key, for help and docs.
	note string
	// use maps the key's value (its last assignment; every assignment of
	// a kindMulti key) onto settings; nil sets setting directly.
	use func(r *reader, k *key, vals []value) error
	// absent runs when the file does not set the key.
	absent func(r *reader) error
}

// KeyInfo describes a key Load knows, for help and documentation.
type KeyInfo struct {
	Section, Name string
	// Setting is the allot setting (flag name) the key sets, "" if none.
	Setting string
	// Type is oslo.config's: string, boolean, integer, list or multi.
	Type string
	// Note says what allot does with it beyond setting Setting.
	Note string
	// Aliases are deprecated spellings ("section.name") also read.
	Aliases []string
}

// Keys lists every key Load reads or accepts, section by section.
func Keys() []KeyInfo {
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, KeyInfo{Section: k.section, Name: k.name, Setting: k.setting,
			Type: [...]string{"string", "boolean", "integer", "list", "multi"}[k.kind], Note: k.note, Aliases: k.aliases})
	}
	return out
}

// Sections lists the sections Load knows, [allot] included.
func Sections() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k.section] {
			seen[k.section] = true
			out = append(out, k.section)
		}
	}
	return append(out, allotSection)
}

func knownSection(sec string) bool {
	if sec == allotSection {
		return true
	}
	for _, k := range keys {
		if k.section == sec {
			return true
		}
	}
	return false
}

// lookupKey finds a key by section and name, deprecated aliases included.
func lookupKey(sec, name string) *key {
	for i := range keys {
		k := &keys[i]
		if k.section == sec && k.name == name {
			return k
		}
		for _, a := range k.aliases {
			if a == sec+"."+name {
				// The alias's values are stored under its own id;
				// apply() reads them for the key that owns it.
				return &key{section: sec, name: name, kind: k.kind}
			}
		}
	}
	return nil
}

// suggest names a known key that differs from name only by dashes or
// case, as " (did you mean x?)".
func suggest(sec, name string) string {
	want := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	for _, k := range keys {
		if k.section == sec && k.name == want {
			return fmt.Sprintf(" (did you mean %s?)", k.name)
		}
	}
	return ""
}

// check validates a value against the key's type.
func (k *key) check(v value) error {
	switch k.kind {
	case kindBool:
		_, err := ParseBool(v.text)
		return err
	case kindInt:
		_, err := parseInt(v.text)
		return err
	}
	return nil
}

// ParseBool reads a boolean as oslo.config does: true, yes, on or 1, and
// false, no, off or 0, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes":
		return true, nil
	case "false", "0", "off", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use true or false; yes/no, on/off and 1/0 also work)", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

// parseList reads a ListOpt: comma-separated, items trimmed, empty items
// dropped.
func parseList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// expand undoes oslo.config's template escapes ("$$" and "\$" are "$")
// and refuses references to other options ("$name", "${group.name}"),
// which allot does not expand.
func expand(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	s = strings.ReplaceAll(s, `\$`, "$$")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "$") {
			b.WriteByte('$')
			i++
			continue
		}
		ref := ""
		if n := idLen(rest); n > 0 {
			ref = "$" + rest[:n]
		} else if strings.HasPrefix(rest, "{") {
			if j := strings.IndexByte(rest, '}'); j > 1 && idLen(rest[1:j]) == j-1 {
				ref = "$" + rest[:j+1]
			}
		}
		if ref != "" {
			return "", fmt.Errorf("%s: allot does not expand oslo.config's references to other options; write the value itself (and $$ for a literal $)", ref)
		}
		b.WriteByte('$') // not a reference: oslo.config keeps it
	}
	return b.String(), nil
}

// idLen is the length of the oslo.config template identifier
// ([_a-z][._a-z0-9]*, any case) at the start of s.
func idLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case for letters
		letter := c >= 'a' && c <= 'z' || s[i] == '_'
		if i == 0 && !letter || i > 0 && !letter && s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			return i
		}
	}
	return len(s)
}

// setAs maps a value onto the key's setting in the flag's syntax.
func setAs(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	out, err := flagValue(k.kind, v.text)
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	r.set(k.setting, out, v)
	return nil
}

// flagValue turns a value into a flag's syntax.
func flagValue(kd kind, text string) (string, error) {
	switch kd {
	case kindBool:
		b, err := ParseBool(text)
		return strconv.FormatBool(b), err
	case kindInt:
		n, err := parseInt(text)
		return strconv.Itoa(n), err
	case kindList:
		text, err := expand(text)
		return strings.Join(parseList(text), ","), err
	}
	return expand(text)
}

// seconds maps an integer number of seconds onto a duration setting.
func seconds(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	n, _ := parseInt(v.text)
	r.set(k.setting, (time.Duration(n) * time.Second).String(), v)
	return nil
}

// ignored accepts a key silently: it has no effect worth reporting.
func ignored(*reader, *key, []value) error { return nil }

// warnSet accepts a key and warns that allot ignores it.
func warnSet(reason string) func(*reader, *key, []value) error {
	return func(r *reader, k *key, vals []value) error {
		v := vals[len(vals)-1]
		r.warnf(v.line, v.section, v.key, "ignored: %s", reason)
		return nil
	}
}

// warnUnless accepts a key and warns that allot ignores it when its value
// is not def (for a boolean: not that truth value).
func warnUnless(def, reason string) func(*reader, *key, []value) error {
	return func(r *reader, k *key, vals []value) error {
		v := vals[len(vals)-1]
		same := strings.TrimSpace(v.text) == def
		if k.kind == kindBool {
			b, _ := ParseBool(v.text)
			d, _ := ParseBool(def)
			same = b == d
		}
		if !same {
			r.warnf(v.line, v.section, v.key, "ignored: %s", reason)
		}
		return nil
	}
}

// whenTrue sets a setting to a fixed value when a boolean key is true.
func whenTrue(setting, val string) func(*reader, *key, []value) error {
	return func(r *reader, k *key, vals []value) error {
		v := vals[len(vals)-1]
		if b, _ := ParseBool(v.text); b {
			r.set(setting, val, v)
		}
		return nil
	}
}

const (
	logIgnored      = "allot logs to standard error in its own format (--log-format text or json); redirect it or let the service manager collect it"
	keystoneCache   = "allot caches validated tokens in process (token_cache_time), with no memcached"
	keystoneIgnored = "allot's Keystone client does not use it"
)

// keys are the options Placement 8 (Debian bookworm's) registers, with
// keystonemiddleware's [keystone_authtoken] and its password plugin's,
// and what allot does with each.
var keys = []key{
	// [DEFAULT]: oslo.log and Placement's own.
	{section: "DEFAULT", name: "debug", kind: kindBool, setting: "log-level", use: whenTrue("log-level", "debug"), note: "true sets --log-level debug"},
	{section: "DEFAULT", name: "use_json", kind: kindBool, setting: "log-format", use: whenTrue("log-format", "json"), note: "true sets --log-format json"},
	{section: "DEFAULT", name: "log_file", aliases: []string{"DEFAULT.logfile"}, use: warnSet(logIgnored), note: "ignored (warning): " + logIgnored},
	{section: "DEFAULT", name: "log_dir", aliases: []string{"DEFAULT.logdir"}, use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "log_config_append", aliases: []string{"DEFAULT.log_config", "DEFAULT.log-config"}, use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "use_stderr", kind: kindBool, use: warnUnless("true", "allot always logs to standard error"), note: "accepted; a warning when false (allot always logs to standard error)"},
	{section: "DEFAULT", name: "use_syslog", kind: kindBool, use: warnUnless("false", logIgnored), note: "a warning when true"},
	{section: "DEFAULT", name: "use_journal", kind: kindBool, use: warnUnless("false", logIgnored), note: "a warning when true"},
	{section: "DEFAULT", name: "use_eventlog", kind: kindBool, use: warnUnless("false", logIgnored), note: "a warning when true"},
	{section: "DEFAULT", name: "watch_log_file", kind: kindBool, use: warnUnless("false", logIgnored), note: "a warning when true"},
	{section: "DEFAULT", name: "syslog_log_facility", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "log_date_format", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "logging_context_format_string", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "logging_default_format_string", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "logging_debug_format_suffix", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "logging_exception_prefix", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "logging_user_identity_format", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "default_log_levels", kind: kindList, use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "instance_format", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "instance_uuid_format", use: warnSet(logIgnored), note: "ignored (warning)"},
	{section: "DEFAULT", name: "publish_errors", kind: kindBool, use: warnUnless("false", logIgnored), note: "a warning when true"},
	{section: "DEFAULT", name: "rate_limit_burst", kind: kindInt, use: warnUnless("0", logIgnored), note: "a warning when not 0"},
	{section: "DEFAULT", name: "rate_limit_interval", kind: kindInt, use: warnUnless("0", logIgnored), note: "a warning when not 0"},
	{section: "DEFAULT", name: "rate_limit_except_level", use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "log_rotation_type", use: warnUnless("none", logIgnored), note: "a warning when not none"},
	{section: "DEFAULT", name: "log_rotate_interval", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "log_rotate_interval_type", use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "max_logfile_count", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "max_logfile_size_mb", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "log_options", kind: kindBool, use: ignored, note: "accepted, no effect (allot logs its settings' sources at debug level)"},
	{section: "DEFAULT", name: "tempdir", use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "pybasedir", use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "state_path", use: ignored, note: "accepted, no effect"},
	{section: "DEFAULT", name: "config_source", kind: kindList, use: warnSet("allot reads one configuration file"), note: "ignored (warning)"},

	// [api]
	{section: "api", name: "auth_strategy", setting: "auth-strategy", aliases: []string{"DEFAULT.auth_strategy"}, use: authStrategy, absent: defaultKeystone,
		note: "noauth2 or keystone; absent means keystone, Placement's default"},

	// [placement_database]
	{section: "placement_database", name: "connection", setting: "db", use: connection,
		note: "an SQLAlchemy URL: sqlite:///REL and sqlite:////ABS become sqlite:PATH, postgresql[+DRIVER]://... becomes postgres://... (its query, e.g. host and port, kept); MySQL is an error"},
	{section: "placement_database", name: "connection_parameters", use: ignored, note: "appended to a PostgreSQL URL's query"},
	{section: "placement_database", name: "max_pool_size", kind: kindInt, setting: "db-max-conns", use: maxPool, note: "PostgreSQL connection pool size (0 or negative: allot's default)"},
	{section: "placement_database", name: "sqlite_synchronous", kind: kindBool, setting: "sqlite-synchronous", use: sqliteSynchronous, note: "true (oslo.db's default) sets --sqlite-synchronous full, false sets normal (oslo.db's false is synchronous=OFF, which allot does not offer: in WAL mode normal keeps the database consistent and may lose the last commits to a power loss)"},
	{section: "placement_database", name: "slave_connection", use: warnSet("allot reads from the one database it writes to; replicas of allot share one PostgreSQL"), note: "ignored (warning)"},
	{section: "placement_database", name: "mysql_sql_mode", use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "connection_recycle_time", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "max_retries", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "retry_interval", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "max_overflow", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "connection_debug", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "connection_trace", kind: kindBool, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "pool_timeout", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "placement_database", name: "sync_on_startup", kind: kindBool, use: ignored, note: "accepted; allot always migrates its schema at start"},

	// [placement]
	{section: "placement", name: "randomize_allocation_candidates", kind: kindBool, setting: "randomize-candidates"},
	{section: "placement", name: "incomplete_consumer_project_id", use: warnUnless("00000000-0000-0000-0000-000000000000", "allot gives consumers of microversions before 1.8 the all-zero project"), note: "a warning unless the default (all zeros)"},
	{section: "placement", name: "incomplete_consumer_user_id", use: warnUnless("00000000-0000-0000-0000-000000000000", "allot gives consumers of microversions before 1.8 the all-zero user"), note: "a warning unless the default (all zeros)"},
	{section: "placement", name: "allocation_conflict_retry_count", kind: kindInt, use: ignored, note: "accepted; allot's claims lock the providers they write, so they do not retry on generation conflicts"},

	// [oslo_middleware]
	{section: "oslo_middleware", name: "enable_proxy_headers_parsing", kind: kindBool,
		use: warnUnless("false", "allot reads X-Forwarded-Proto, X-Forwarded-Host and Forwarded only from the proxies of --trusted-proxies (oslo.middleware reads them from anyone); set --trusted-proxies, or --public-placement-url for links behind a proxy"), note: "a warning when true: set --trusted-proxies instead"},

	// [oslo_policy]
	{section: "oslo_policy", name: "policy_file", setting: "policy-file", aliases: []string{"DEFAULT.policy_file"}, use: policyFile, absent: defaultPolicyFile,
		note: "a relative path is taken from the configuration file's directory; absent means policy.yaml there, when it exists"},
	{section: "oslo_policy", name: "enforce_scope", kind: kindBool, setting: "enforce-scope"},
	{section: "oslo_policy", name: "enforce_new_defaults", kind: kindBool, setting: "enforce-new-defaults"},
	{section: "oslo_policy", name: "policy_dirs", kind: kindMulti, aliases: []string{"DEFAULT.policy_dirs"}, use: policyDirs, absent: defaultPolicyDirs,
		note: "not read: a warning when a directory named (default policy.d next to the configuration file) holds files"},
	{section: "oslo_policy", name: "policy_default_rule", aliases: []string{"DEFAULT.policy_default_rule"}, use: warnUnless("default", "allot refuses an action whose rule is not registered"), note: "a warning unless default"},
	{section: "oslo_policy", name: "remote_content_type", use: ignored, note: "accepted, no effect"},
	{section: "oslo_policy", name: "remote_ssl_verify_server_crt", kind: kindBool, use: ignored, note: "accepted, no effect"},
	{section: "oslo_policy", name: "remote_ssl_ca_crt_file", use: warnSet("allot's policy engine has no http: checks"), note: "ignored (warning)"},
	{section: "oslo_policy", name: "remote_ssl_client_crt_file", use: warnSet("allot's policy engine has no http: checks"), note: "ignored (warning)"},
	{section: "oslo_policy", name: "remote_ssl_client_key_file", use: warnSet("allot's policy engine has no http: checks"), note: "ignored (warning)"},

	// [cors]
	{section: "cors", name: "allowed_origin", kind: kindList, setting: "cors-allowed-origin"},
	{section: "cors", name: "allow_credentials", kind: kindBool, setting: "cors-allow-credentials"},
	{section: "cors", name: "expose_headers", kind: kindList, setting: "cors-expose-headers"},
	{section: "cors", name: "max_age", kind: kindInt, setting: "cors-max-age"},
	{section: "cors", name: "allow_methods", kind: kindList, setting: "cors-allow-methods"},
	{section: "cors", name: "allow_headers", kind: kindList, setting: "cors-allow-headers"},
	// [healthcheck]: oslo.middleware's healthcheck (its disable_by_file backend).
	{section: "healthcheck", name: "disable_by_file_path", setting: "healthcheck-disable-file"},

	// [keystone_authtoken]: keystonemiddleware and the password plugin.
	{section: "keystone_authtoken", name: "auth_type", aliases: []string{"keystone_authtoken.auth_plugin"}, use: authType, note: "password (or v3password) or absent; anything else is an error"},
	{section: "keystone_authtoken", name: "auth_section", use: authSection, note: "refused: put the password plugin's keys in [keystone_authtoken]"},
	{section: "keystone_authtoken", name: "auth_url", setting: "keystone-auth-url"},
	{section: "keystone_authtoken", name: "www_authenticate_uri", setting: "keystone-www-authenticate-uri", aliases: []string{"keystone_authtoken.auth_uri"}},
	{section: "keystone_authtoken", name: "username", setting: "keystone-username", aliases: []string{"keystone_authtoken.user_name", "keystone_authtoken.user-name"}},
	{section: "keystone_authtoken", name: "password", setting: "keystone-password"},
	{section: "keystone_authtoken", name: "project_name", setting: "keystone-project-name", aliases: []string{"keystone_authtoken.tenant_name", "keystone_authtoken.tenant-name"}},
	{section: "keystone_authtoken", name: "user_domain_name", setting: "keystone-user-domain-name"},
	{section: "keystone_authtoken", name: "project_domain_name", setting: "keystone-project-domain-name"},
	{section: "keystone_authtoken", name: "user_domain_id", setting: "keystone-user-domain-id"},
	{section: "keystone_authtoken", name: "project_domain_id", setting: "keystone-project-domain-id"},
	{section: "keystone_authtoken", name: "default_domain_name", use: defaultDomain("name"), note: "the user's and project's domain name when user_domain_name or project_domain_name is not set"},
	{section: "keystone_authtoken", name: "default_domain_id", use: defaultDomain("id"), note: "the user's and project's domain ID when user_domain_id or project_domain_id is not set"},
	{section: "keystone_authtoken", name: "cafile", setting: "keystone-cafile"},
	{section: "keystone_authtoken", name: "insecure", kind: kindBool, setting: "keystone-insecure"},
	{section: "keystone_authtoken", name: "region_name", setting: "keystone-region-name"},
	{section: "keystone_authtoken", name: "token_cache_time", kind: kindInt, setting: "keystone-token-cache-time", use: seconds, note: "seconds; negative turns the cache off"},
	{section: "keystone_authtoken", name: "service_token_roles", kind: kindList, setting: "keystone-service-token-roles"},
	{section: "keystone_authtoken", name: "service_token_roles_required", kind: kindBool, setting: "keystone-service-token-roles-required"},
	{section: "keystone_authtoken", name: "http_connect_timeout", kind: kindInt, setting: "keystone-timeout", use: seconds, note: "seconds"},
	{section: "keystone_authtoken", name: "user_id", use: warnSet("allot authenticates its service user by name: set username and user_domain_name (or user_domain_id)"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "project_id", aliases: []string{"keystone_authtoken.tenant_id", "keystone_authtoken.tenant-id"}, use: warnSet("allot scopes its service token by project name: set project_name and project_domain_name (or project_domain_id)"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "domain_id", use: warnSet("allot's service token is project-scoped"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "domain_name", use: warnSet("allot's service token is project-scoped"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "system_scope", use: warnSet("allot's service token is project-scoped"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "trust_id", use: warnSet("allot's service token is project-scoped"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "certfile", use: warnSet("allot does not present a client certificate to Keystone"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "keyfile", use: warnSet("allot does not present a client certificate to Keystone"), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcached_servers", kind: kindList, aliases: []string{"keystone_authtoken.memcache_servers"}, use: warnSet(keystoneCache), note: "ignored (warning): " + keystoneCache},
	{section: "keystone_authtoken", name: "cache", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_security_strategy", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_secret_key", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_pool_dead_retry", kind: kindInt, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_pool_maxsize", kind: kindInt, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_pool_socket_timeout", kind: kindInt, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_pool_unused_timeout", kind: kindInt, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_pool_conn_get_timeout", kind: kindInt, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_use_advanced_pool", kind: kindBool, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_tls_enabled", kind: kindBool, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_tls_cafile", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_tls_certfile", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_tls_keyfile", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_tls_allowed_ciphers", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_sasl_enabled", kind: kindBool, use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_username", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "memcache_password", use: warnSet(keystoneCache), note: "ignored (warning)"},
	{section: "keystone_authtoken", name: "delay_auth_decision", kind: kindBool, use: warnUnless("false", "allot answers 401 itself to a request without a valid token"), note: "a warning when true"},
	{section: "keystone_authtoken", name: "http_request_max_retries", kind: kindInt, use: ignored, note: "accepted, no effect"},
	{section: "keystone_authtoken", name: "auth_version", use: ignored, note: "accepted; allot speaks Keystone's v3 API"},
	{section: "keystone_authtoken", name: "interface", use: ignored, note: "accepted; allot calls auth_url"},
	{section: "keystone_authtoken", name: "include_service_catalog", kind: kindBool, use: ignored, note: "accepted, no effect"},
	{section: "keystone_authtoken", name: "enforce_token_bind", use: warnUnless("permissive", keystoneIgnored), note: "a warning unless permissive"},
	{section: "keystone_authtoken", name: "service_type", use: ignored, note: "accepted, no effect"},
}

func init() {
	// A key with a setting and no use sets it directly.
	for i := range keys {
		if keys[i].use == nil && keys[i].setting != "" {
			keys[i].use = setAs
		}
	}
}

func authStrategy(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	s := strings.TrimSpace(v.text)
	if s != "noauth2" && s != "keystone" {
		return r.errorf(v, "%q is not an auth strategy: use keystone or noauth2", s)
	}
	r.set(k.setting, s, v)
	return nil
}

// defaultKeystone gives a file without [api] auth_strategy Placement's
// default, keystone: an operator's placement.conf without the key runs
// Placement with Keystone, and must not make allot open.
func defaultKeystone(r *reader) error {
	r.set("auth-strategy", "keystone", value{section: "api", key: "auth_strategy (absent: Placement's default)"})
	return nil
}

func maxPool(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	if n, _ := parseInt(v.text); n > 0 {
		r.set(k.setting, strconv.Itoa(n), v)
	}
	return nil
}

// sqliteSynchronous maps oslo.db's boolean sqlite_synchronous onto
// --sqlite-synchronous: true is full, false is normal.
func sqliteSynchronous(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	b, err := ParseBool(v.text)
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	mode := "full"
	if !b {
		mode = "normal"
	}
	r.set(k.setting, mode, v)
	return nil
}

func authType(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	switch s := strings.TrimSpace(v.text); s {
	case "", "password", "v3password":
		return nil
	default:
		return r.errorf(v, "%q is not supported: allot authenticates with the password plugin (auth_type = password)", s)
	}
}

func authSection(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	if strings.TrimSpace(v.text) == "" {
		return nil
	}
	return r.errorf(v, "not supported: put auth_type, auth_url, username, password and the project keys in [keystone_authtoken] itself")
}

// defaultDomain applies keystoneauth's default_domain_id/name: the user's
// and the project's domain when theirs is not set.
func defaultDomain(kindOf string) func(*reader, *key, []value) error {
	return func(r *reader, k *key, vals []value) error {
		v := vals[len(vals)-1]
		text, err := expand(v.text)
		if err != nil {
			return r.errorf(v, "%v", err)
		}
		for _, who := range []string{"user", "project"} {
			if len(r.values["keystone_authtoken."+who+"_domain_"+kindOf]) == 0 {
				r.set("keystone-"+who+"-domain-"+kindOf, text, v)
			}
		}
		return nil
	}
}

// resolve makes a path of the file relative to the configuration file's
// directory, as oslo.config's find_file looks beside the configuration
// files first.
func (r *reader) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.dir, p)
}

func policyFile(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	text, err := expand(strings.TrimSpace(v.text))
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	r.set(k.setting, r.resolve(text), v)
	return nil
}

// defaultPolicyFile is Placement's default policy_file, policy.yaml,
// found beside the configuration file.
func defaultPolicyFile(r *reader) error {
	p := r.resolve("policy.yaml")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		r.set("policy-file", p, value{section: "oslo_policy", key: "policy_file (absent: Placement's default policy.yaml)"})
	}
	return nil
}

func policyDirs(r *reader, k *key, vals []value) error {
	for _, v := range vals {
		text, err := expand(strings.TrimSpace(v.text))
		if err != nil {
			return r.errorf(v, "%v", err)
		}
		r.checkPolicyDir(text, v)
	}
	return nil
}

func defaultPolicyDirs(r *reader) error {
	r.checkPolicyDir("policy.d", value{section: "oslo_policy", key: "policy_dirs (absent: Placement's default policy.d)"})
	return nil
}

// checkPolicyDir warns when a policy directory holds files: oslo.policy
// would apply them, allot reads only the policy file.
func (r *reader) checkPolicyDir(dir string, v value) {
	if dir == "" {
		return
	}
	p := r.resolve(dir)
	entries, err := os.ReadDir(p)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.warnf(v.line, v.section, v.key, "cannot read the policy directory %s: %v", p, unwrapPath(err))
		}
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			r.warnf(v.line, v.section, v.key, "ignored: the policy directory %s holds files, and allot reads only policy_file: merge their rules into it", p)
			return
		}
	}
}
