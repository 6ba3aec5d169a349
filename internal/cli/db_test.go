package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/store"
	"allot/internal/testserver"
)

// TestDBCommands runs allot db check, backup and restore on a SQLite store
// that a running Placement API serves (and so holds locked): check and
// backup work beside it, --fix and restore are refused with exit status 3
// until it stops, and every exit status is the documented one.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "allot.db")
	dsn := "sqlite:" + path
	st := testserver.OpenDSN(t, dsn)
	p := testserver.StartPlacement(t, st)
	if r := runCLI(t, p.URL, "placement", "resource-provider", "create", "cn1", "--token", "admin"); r.code != 0 {
		t.Fatalf("create provider: %+v", r)
	}
	if r := runCLI(t, p.URL, "placement", "resource-provider", "inventory", "set", "cn1", "VCPU=8", "--token", "admin"); r.code != 0 {
		t.Fatalf("set inventory: %+v", r)
	}

	r := runCLI(t, "", "db", "check", "--db", dsn)
	if r.code != ExitOK || !strings.Contains(r.stdout, "0 violation(s), 0 notice(s)") {
		t.Fatalf("check of a healthy store: %+v", r)
	}

	// A usage counter off by 3, behind the server's back.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE inventories SET used = 3`); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "db", "check", "--db", dsn)
	if r.code != ExitAPIError || !strings.Contains(r.stdout, "violation usage-counter: provider cn1 (") ||
		!strings.Contains(r.stdout, "VCPU: the usage counter says 3 but the allocations against it sum to 0") ||
		!strings.Contains(r.stdout, "1 violation(s) (1 repairable with allot db check --fix)") {
		t.Fatalf("check of a corrupted store: %+v", r)
	}
	r = runCLI(t, "", "db", "check", "--db", dsn, "-f", "json")
	var doc checkOutput
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != ExitAPIError || len(doc.Findings) != 1 ||
		doc.Findings[0].Kind != "usage-counter" || !doc.Findings[0].Fixable || doc.Summary.Violations != 1 {
		t.Fatalf("check -f json: %v %+v", err, r)
	}
	r = runCLI(t, "", "db", "check", "--db", dsn, "--fix")
	if r.code != ExitInUse || !strings.Contains(r.stderr, "a running allot serve holds") {
		t.Fatalf("check --fix beside the server: %+v, want exit %d saying the server holds the store", r, ExitInUse)
	}

	backup := filepath.Join(dir, "backup.db")
	r = runCLI(t, "", "db", "backup", backup, "--db", dsn)
	if r.code != ExitOK || !strings.Contains(r.stdout, "to "+backup) {
		t.Fatalf("backup beside the server: %+v", r)
	}
	if r = runCLI(t, "", "db", "backup", backup, "--db", dsn); r.code != ExitUsage {
		t.Fatalf("backup over an existing file: %+v, want exit %d", r, ExitUsage)
	}
	if r = runCLI(t, "", "db", "restore", backup, "--db", dsn); r.code != ExitInUse {
		t.Fatalf("restore over the served store: %+v, want exit %d", r, ExitInUse)
	}

	st.Close() // the server stops
	r = runCLI(t, "", "db", "check", "--db", dsn, "--fix")
	if r.code != ExitOK || !strings.Contains(r.stdout, "repaired usage-counter: provider cn1") ||
		!strings.Contains(r.stdout, "usage counter of VCPU set from 3 to 0") || !strings.Contains(r.stderr, "repaired") {
		t.Fatalf("check --fix on the stopped store: %+v", r)
	}
	// The backup still has the corruption: restoring it brings it back.
	r = runCLI(t, "", "db", "restore", backup, "--db", dsn)
	if r.code != ExitOK || !strings.Contains(r.stdout, "restored "+backup) {
		t.Fatalf("restore: %+v", r)
	}
	if r = runCLI(t, "", "db", "check", "--db", dsn); r.code != ExitAPIError {
		t.Fatalf("check of the restored (corrupted) backup: %+v, want exit %d", r, ExitAPIError)
	}
}

// TestDBUsageErrors: what the db commands refuse is a usage error (exit 2)
// that says what to do.
func TestDBUsageErrors(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "allot.db")
	s, err := store.Open(t.Context(), dsn, store.Options{Logger: testserver.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	notAStore := filepath.Join(dir, "text.db")
	if err := os.WriteFile(notAStore, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "check", "--db", dsn, "-f", "yaml"}, `--format "yaml": use text or json`},
		{[]string{"db", "check", "extra", "--db", dsn}, "takes no arguments"},
		{[]string{"db", "check", "--db", "mysql://x"}, "unsupported database"},
		{[]string{"db", "check", "--db", "sqlite:" + filepath.Join(dir, "none.db")}, "no allot store at"},
		{[]string{"db", "check", "--fix", "--db", "sqlite:" + filepath.Join(dir, "none.db")}, "no allot store at"},
		{[]string{"db", "backup", "--db", dsn}, "FILE"},
		{[]string{"db", "backup", filepath.Join(dir, "no", "such", "dir.db"), "--db", dsn}, "is not a directory"},
		{[]string{"db", "check", "--db", "sqlite:"}, "names no file"},
		{[]string{"db", "backup", filepath.Join(dir, "pg.db"), "--db", "postgres://u@h/db"}, "pg_dump"},
		{[]string{"db", "restore", filepath.Join(dir, "none.db"), "--db", dsn}, "no backup at"},
		{[]string{"db", "restore", notAStore, "--db", dsn}, "not an intact SQLite database"},
		{[]string{"db", "restore", filepath.Join(dir, "allot.db"), "--db", dsn}, "is the store itself"},
		{[]string{"db", "restore", notAStore, "--db", "postgres://u@h/db"}, "pg_restore"},
		{[]string{"db", "frobnicate"}, "unknown command"},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("allot %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, ExitUsage, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("allot db check --fix created the missing store")
	}
}

// TestDBNamesTheStoreAsServeDoes: --db, then ALLOT_DB, then the
// configuration file (--config-file or ALLOT_CONFIG_FILE), then
// sqlite:allot.db.
func TestDBNamesTheStoreAsServeDoes(t *testing.T) {
	for _, name := range []string{"ALLOT_DB", "ALLOT_CONFIG_FILE"} {
		t.Setenv(name, "") // restored when the test ends
		os.Unsetenv(name)
	}
	dir := t.TempDir()
	stores := map[string]string{}
	for _, name := range []string{"flag", "env", "conf", "allot"} {
		path := filepath.Join(dir, name+".db")
		s, err := store.Open(t.Context(), "sqlite:"+path, store.Options{Logger: testserver.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		stores[name] = path
	}
	conf := filepath.Join(dir, "placement.conf")
	if err := os.WriteFile(conf, []byte("[placement_database]\nconnection = sqlite:///"+stores["conf"]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	backup := func(t *testing.T, args ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "b.db")
		r := runCLI(t, "", append([]string{"db", "backup", out}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("backup: %+v", r)
		}
		return r.stdout
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, nil, "sqlite:allot.db"},
		{"config file flag", nil, []string{"--config-file", conf}, "sqlite:" + stores["conf"]},
		{"config file env", map[string]string{"ALLOT_CONFIG_FILE": conf}, nil, "sqlite:" + stores["conf"]},
		{"env over config file", map[string]string{"ALLOT_DB": "sqlite:" + stores["env"]}, []string{"--config-file", conf}, "sqlite:" + stores["env"]},
		{"flag over env", map[string]string{"ALLOT_DB": "sqlite:" + stores["env"]}, []string{"--db", "sqlite:" + stores["flag"]}, "sqlite:" + stores["flag"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if out := backup(t, tc.args...); !strings.HasPrefix(out, "backed up "+tc.want+" ") {
				t.Errorf("backed up %q, want the store %s", out, tc.want)
			}
		})
	}
	r := runCLI(t, "", "db", "check", "--config-file", filepath.Join(dir, "missing.conf"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "cannot read the configuration file") {
		t.Errorf("a missing configuration file: %+v, want exit %d", r, ExitUsage)
	}
}
