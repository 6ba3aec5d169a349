package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"allot/internal/client"
	"allot/internal/importer"
)

func TestImportPlacementUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "placement"}, "--from: give the URL"},
		{[]string{"import", "placement", "--from", "placement.example"}, "want an absolute http(s) URL"},
		{[]string{"import", "placement", "--from", "http://127.0.0.1:1", "--workers", "0"}, "--workers 0: give a number from 1 to 64"},
		{[]string{"import", "placement", "--from", "http://127.0.0.1:1", "--verify-only", "--force"}, "--verify-only compares without importing"},
		{[]string{"import", "placement", "extra"}, "takes no arguments"},
		{[]string{"import", "nova"}, `unknown command "nova" for "allot import"`},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("allot %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, ExitUsage, tc.want)
		}
	}
}

func TestImportPlacementUnreachable(t *testing.T) {
	to := startPlacement(t)
	r := runCLI(t, "", "import", "placement", "--from", "http://127.0.0.1:1", "--placement-url", to.URL)
	if r.code != ExitAPIError || !strings.Contains(r.stderr, "source http://127.0.0.1:1: read the root document") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestImportPlacementRun(t *testing.T) {
	from, to := startPlacement(t), startPlacement(t)
	ctx := context.Background()
	p, err := client.NewPlacement(from.URL, client.Options{Token: "admin", Version: "1.39"})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := p.CreateProvider(ctx, client.NewProvider{Name: "cn1"})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(4)
	if _, err := p.SetInventories(ctx, rp.UUID, rp.Generation, map[string]client.InventorySpec{"VCPU": {Total: &total}}); err != nil {
		t.Fatal(err)
	}
	consumer := "c1000000-0000-4000-8000-000000000001"
	if err := p.SetAllocations(ctx, consumer, client.AllocationWrite{Allocations: map[string]map[string]int64{rp.UUID: {"VCPU": 1}},
		ProjectID: "p", UserID: "u", ConsumerType: "INSTANCE"}); err != nil {
		t.Fatal(err)
	}

	verifyOnly := []string{"import", "placement", "--from", from.URL, "--placement-url", to.URL, "--verify-only"}
	r := runCLI(t, "", verifyOnly...)
	if r.code != ExitAPIError || !strings.Contains(r.stdout, "differs resource provider "+rp.UUID+" (cn1): exists: source yes, target no\n") ||
		!strings.Contains(r.stdout, "differs consumer "+consumer+": exists: source yes, target no\n") ||
		!strings.Contains(r.stdout, "verify: 2 differences\n") || !strings.Contains(r.stderr, "allot: 2 differences (listed above)") {
		t.Errorf("--verify-only before the import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = runCLI(t, "", "import", "placement", "--from", from.URL, "--placement-url", to.URL, "--verify", "--workers", "2")
	wantOut := `resource classes:   0 created, 0 updated, 0 unchanged, 0 skipped
traits:             0 created, 0 updated, 0 unchanged, 0 skipped
resource providers: 1 created, 0 updated, 0 unchanged, 0 skipped
consumers:          1 created, 0 updated, 0 unchanged, 0 skipped
verify: 0 differences
`
	if r.code != ExitOK || r.stdout != wantOut {
		t.Errorf("import: exit %d\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, wantOut, r.stderr)
	}
	// Off a terminal, progress is one line per finished step.
	for _, step := range []string{"source: read providers: 1 done", "target: read providers: 0 done", "import providers: 1 done", "import consumers: 1 done"} {
		if !strings.Contains(r.stderr, step+"\n") {
			t.Errorf("stderr lacks %q:\n%s", step, r.stderr)
		}
	}
	if r := runCLI(t, "", verifyOnly...); r.code != ExitOK || r.stdout != "verify: 0 differences\n" {
		t.Errorf("--verify-only after the import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestProgressPrinterTerminal(t *testing.T) {
	var b bytes.Buffer
	p := &progressPrinter{w: &b, terminal: true}
	p.report(importer.Progress{Step: "import providers", Done: 0, Total: 4})
	p.report(importer.Progress{Step: "import providers", Done: 4, Total: 4})
	p.report(importer.Progress{Step: "import consumers", Done: 0, Total: 2})
	p.finish()
	want := "\r\033[Kimport providers: 0 of 4 (0%)\r\033[Kimport providers: 4 of 4 (100%)\n\r\033[Kimport consumers: 0 of 2 (0%)\n"
	if b.String() != want {
		t.Errorf("terminal progress %q, want %q", b.String(), want)
	}
}

func TestImportPlacementEnvironment(t *testing.T) {
	from, to := startPlacement(t), startPlacement(t)
	t.Setenv("ALLOT_IMPORT_FROM", from.URL)
	t.Setenv("ALLOT_PLACEMENT_URL", to.URL)
	t.Setenv("ALLOT_IMPORT_FROM_TOKEN", "nobody")
	// noauth2 takes any token as a user's; a user may not list providers.
	r := runCLI(t, "", "import", "placement", "--verify-only")
	if r.code != ExitAPIError || !strings.Contains(r.stderr, "source: list resource classes") || !strings.Contains(r.stderr, "HTTP 403") {
		t.Errorf("a source token without admin rights: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, "", "import", "placement", "--verify-only", "--from-token", "admin")
	if r.code != ExitOK || r.stdout != "verify: 0 differences\n" {
		t.Errorf("from the environment: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
