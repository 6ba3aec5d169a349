package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"allot/internal/testpg"
	"allot/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// clientEnv lists the environment variables the client commands read; the
// tests start without them.
var clientEnv = []string{"ALLOT_PLACEMENT_URL", "ALLOT_BAREMETAL_URL", "OS_TOKEN",
	"OS_PLACEMENT_API_VERSION", "OS_BAREMETAL_API_VERSION", "COLUMNS", "ALLOT_IMPORT_FROM", "ALLOT_IMPORT_FROM_TOKEN"}

func TestMain(m *testing.M) {
	for _, name := range clientEnv {
		os.Unsetenv(name)
	}
	testpg.Main(m)
}

// cliResult is what one run of the allot command did.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the allot command tree in-process against the API at url:
// "allot placement ..." gets --placement-url url, "allot baremetal ..."
// --baremetal-url url; other commands run as given.
func runCLI(t *testing.T, url string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	full := args
	if len(args) > 0 {
		if flag, ok := map[string]string{"placement": "--placement-url", "baremetal": "--baremetal-url"}[args[0]]; ok {
			full = append([]string{args[0], flag, url}, args[1:]...)
		}
	}
	code := Execute(full, &out, &errb)
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// startPlacement serves the real Placement API over a fresh SQLite store.
func startPlacement(t *testing.T) *testserver.Placement {
	t.Helper()
	return testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
}

// golden formats a run for a golden file: the command line, the exit
// status, stdout and stderr.
func (r cliResult) golden(args []string) string {
	var b strings.Builder
	b.WriteString("$ allot " + shellQuote(args) + "\n")
	b.WriteString("exit " + strconv.Itoa(r.code) + "\n")
	b.WriteString("--- stdout\n" + r.stdout)
	if r.stderr != "" {
		b.WriteString("--- stderr\n" + r.stderr)
	}
	return b.String()
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " !'\"$*?;&|<>(){}") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// checkGolden compares got with testdata/NAME.golden (or rewrites it with
// -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli/ -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update if the change is wanted)\n--- want\n%s\n--- got\n%s\n%s",
			name, want, got, firstDifference(string(want), got))
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n  want: " + al[i] + "\n  got:  " + bl[i]
		}
	}
	return "one is a prefix of the other"
}
