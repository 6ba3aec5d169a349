package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"allot/internal/testserver"
)

// TestBaremetalAllocationDryRun runs "allocation create --dry-run": the
// tables of verdicts and the pick, the document with -f json, nothing
// created, and the usage errors.
func TestBaremetalAllocationDryRun(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	prepareNode(t, srv.URL, "n1")
	prepareNode(t, srv.URL, "n2")
	if r := runCLI(t, srv.URL, args("baremetal node trait add n2 CUSTOM_GPU")...); r.code != 0 {
		t.Fatalf("add trait: %s", r.stderr)
	}
	create := "baremetal allocation create --resource-class gold "
	runCLICases(t, srv.URL, []cliCase{
		{"traits", create + "--trait CUSTOM_GPU --dry-run", ExitOK,
			[]string{"nodes considered", "lacking traits CUSTOM_GPU", "would pick", "n2"}, ""},
		{"any of", create + "--dry-run", ExitOK, []string{"would pick one of (at random)", "n1", "n2"}, ""},
		{"candidates", create + "--candidate-node n1 --name n1 --dry-run -f value -c name -c fits", ExitOK, []string{"n1 true\n"}, ""},
		{"unknown candidate", create + "--candidate-node ghost --dry-run", ExitAPIError, nil, "Nodes cannot be found: ghost"},
		{"with --wait", create + "--dry-run --wait 5", ExitUsage, nil, "--dry-run creates nothing"},
		{"with --node", "baremetal allocation create --node n1 --dry-run", ExitUsage, nil, "--dry-run creates nothing"},
	})
	r := runCLI(t, srv.URL, args(create+"--trait CUSTOM_GPU --dry-run -f json")...)
	var doc struct {
		Nodes []struct {
			Name    string   `json:"name"`
			Fits    bool     `json:"fits"`
			Reasons []string `json:"reasons"`
		} `json:"nodes"`
		WouldPick []string `json:"would_pick"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 || len(doc.Nodes) != 2 || len(doc.WouldPick) != 1 {
		t.Fatalf("-f json: exit %d, %v: %s%s", r.code, err, r.stdout, r.stderr)
	}
	if r := runCLI(t, srv.URL, args("baremetal allocation list -f value -c UUID")...); r.code != 0 || r.stdout != "" {
		t.Errorf("dry runs left allocations behind: %q %s", r.stdout, r.stderr)
	}
}

// TestBaremetalAllocationFailure runs "allocation show --failure" on a
// failed allocation, an active one and with --fields.
func TestBaremetalAllocationFailure(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	prepareNode(t, srv.URL, "n1")
	for _, a := range []string{"--name bad --trait CUSTOM_GPU --wait 10", "--name good --wait 10"} {
		runCLI(t, srv.URL, args("baremetal allocation create --resource-class gold "+a)...)
	}
	runCLICases(t, srv.URL, []cliCase{
		{"failed", "baremetal allocation show bad --failure", ExitOK, []string{"1 nodes considered", "n1", "lacking traits CUSTOM_GPU"}, ""},
		{"json", "baremetal allocation show bad --failure -f json", ExitOK, []string{`"considered": 1`, `"reasons": [`}, ""},
		{"active", "baremetal allocation show good --failure", ExitAPIError, nil, "has not failed (its state is active)"},
		{"with --fields", "baremetal allocation show bad --failure --fields uuid", ExitUsage, nil, "leave --fields out"},
	})
}

// cliCase is one run of the allot command: its arguments, exit status,
// what stdout must contain (each) and what stderr must contain.
type cliCase struct {
	name   string
	args   string
	code   int
	stdout []string
	stderr string
}

// runCLICases runs each case against the API at url as a subtest.
func runCLICases(t *testing.T, url string, cases []cliCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, url, args(c.args)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)\nstdout: %s", r.code, c.code, r.stderr, c.stderr, r.stdout)
			}
			for _, want := range c.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
