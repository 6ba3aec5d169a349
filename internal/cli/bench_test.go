package cli

import (
	"strings"
	"testing"
)

// allot bench candidates: usage errors exit 2 with a message; a run
// against a real server reports the answered queries.
func TestBenchCandidates(t *testing.T) {
	srv := startPlacement(t)
	seedCloud(t, srv.URL)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in stdout on success, stderr otherwise
	}{
		{"no query", []string{"bench", "candidates", "--placement-url", srv.URL}, ExitUsage, "--query: give at least one query string"},
		{"bad duration", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "resources=VCPU:1", "--duration", "0s"}, ExitUsage, "must be positive"},
		{"keep-alive", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "?resources=VCPU:1", "--duration", "200ms"}, ExitOK, "candidates (1 query, keep-alive), 1 workers over 1 endpoint(s)"},
		{"refused", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "resources=NOPE:1", "--duration", "100ms", "--new-connections"}, ExitOK, "errors 400"},
	} {
		r := runCLI(t, srv.URL, c.args...)
		out := r.stdout
		if c.code != ExitOK {
			out = r.stderr
		}
		if r.code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.name, r.code, r.stdout, r.stderr)
		}
	}
}

// allot bench claims: usage errors exit 2 with a message; two modes side
// by side, until the cloud is full, end with a table of both.
func TestBenchClaims(t *testing.T) {
	srv := startPlacement(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string // in stdout on success, stderr otherwise
	}{
		{"unknown mode", []string{"--mode", "fast"}, ExitUsage, []string{`mode "fast": use random, query or atomic`}},
		{"mode twice", []string{"--mode", "query", "--candidates"}, ExitUsage, []string{"query is named twice"}},
		{"random until full", []string{"--until-full"}, ExitUsage, []string{"--until-full needs the query or atomic mode"}},
		{"no pick", []string{"--mode", "query", "--pick", "0"}, ExitUsage, []string{"must be positive"}},
		{"negative retries", []string{"--retries", "-1"}, ExitUsage, []string{"--retries must not be negative"}},
		{"side by side", []string{"--mode", "query,atomic", "--rounds", "2", "--until-full", "--duration", "1m",
			"--providers", "3", "--total", "8", "--amount", "2", "--concurrency", "3", "--pick", "2"}, ExitOK, []string{
			"claims (query candidates, claim one of the first 2, at most 3 retries), 3 workers over 1 endpoint(s): 12 ops",
			"claims (atomic claim), 3 workers over 1 endpoint(s): 12 ops",
			"0 claims of VCPU=2 still fit at the end",
			"mode runs claims/s conflicts retries gave up still fit p50 ms p99 ms",
			"atomic 2"}},
	} {
		args := append([]string{"bench", "claims", "--placement-url", srv.URL, "--prefix", strings.ReplaceAll(c.name, " ", "-")}, c.args...)
		r := runCLI(t, srv.URL, args...)
		out := r.stdout
		if c.code != ExitOK {
			out = r.stderr
		}
		// Columns are padded: compare words.
		out = strings.Join(strings.Fields(out), " ")
		for _, w := range c.want {
			if r.code != c.code || !strings.Contains(out, w) {
				t.Errorf("%s: exit %d, want %q in stdout %q, stderr %q", c.name, r.code, w, r.stdout, r.stderr)
			}
		}
	}
}
