package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allot serve --threads takes auto or a positive count; anything else is a
// usage error that names the flag, before the store is touched.
func TestServeThreadsFlag(t *testing.T) {
	for _, bad := range []string{"0", "-2", "many", "1.5"} {
		db := filepath.Join(t.TempDir(), "never.db")
		r := runCLI(t, "", "serve", "--threads", bad, "--db", "sqlite:"+db)
		if r.code != ExitUsage || !strings.Contains(r.stderr, `--threads "`+bad+`": use auto or a number`) {
			t.Errorf("--threads %s: exit %d, stderr %q", bad, r.code, r.stderr)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("--threads %s: the store was created anyway", bad)
		}
	}
}
