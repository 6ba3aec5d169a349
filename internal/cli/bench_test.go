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
