package cli

import (
	"strings"
	"testing"

	"allot/internal/testserver"
)

// TestForeignSpellings checks that osc-placement's and python-ironicclient's
// spellings of commands allot spells differently run allot's command: the
// same exit status and output as allot's own spelling, on the same cloud.
func TestForeignSpellings(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	pl := testserver.StartPlacement(t, st)
	bm := testserver.StartBaremetal(t, st)
	for _, a := range []string{
		"placement resource-provider create cn1",
		"placement resource-provider inventory set cn1 VCPU=8 MEMORY_MB=4096",
		"placement resource-class create CUSTOM_FPGA",
	} {
		if r := runCLI(t, pl.URL, args(a)...); r.code != 0 {
			t.Fatalf("allot %s: exit %d: %s", a, r.code, r.stderr)
		}
	}
	prepareNode(t, bm.URL, "n1")
	if r := runCLI(t, bm.URL, args("baremetal node trait add n1 CUSTOM_GPU")...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	consumer := "9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57"
	cases := []struct {
		url           string
		foreign, ours string
		// For a command that changes something: show prints the state
		// after each spelling's run, and undo restores the state before.
		show, undo string
	}{
		{pl.URL, "placement resource provider list -f json", "placement resource-provider list -f json", "", ""},
		{pl.URL, "placement resource provider show cn1", "placement resource-provider show cn1", "", ""},
		{pl.URL, "placement resource provider inventory list cn1", "placement resource-provider inventory list cn1", "", ""},
		{pl.URL, "placement resource class list -f value", "placement resource-class list -f value", "", ""},
		{pl.URL, "placement resource usage show --project-id p", "placement usage show --project-id p", "", ""},
		{pl.URL, "placement allocation candidate list --resource VCPU=1 -f json", "placement allocation-candidate list --resource VCPU=1 -f json", "", ""},
		{pl.URL, "placement resource provider allocation show " + consumer, "placement allocation show " + consumer, "", ""},
		{bm.URL, "baremetal node remove trait n1 CUSTOM_GPU", "baremetal node trait remove n1 CUSTOM_GPU",
			"baremetal node trait list n1", "baremetal node trait add n1 CUSTOM_GPU"},
		{bm.URL, "baremetal node add trait n1 CUSTOM_GPU", "baremetal node trait add n1 CUSTOM_GPU",
			"baremetal node trait list n1", "baremetal node trait remove n1 CUSTOM_GPU"},
	}
	for _, c := range cases {
		t.Run(c.foreign, func(t *testing.T) {
			ours := runCLI(t, c.url, args(c.ours)...)
			var shownOurs string
			if c.show != "" {
				shownOurs = runCLI(t, c.url, args(c.show)...).stdout
				if r := runCLI(t, c.url, args(c.undo)...); r.code != 0 {
					t.Fatalf("allot %s: exit %d: %s", c.undo, r.code, r.stderr)
				}
			}
			foreign := runCLI(t, c.url, args(c.foreign)...)
			if foreign.code != ours.code || foreign.stdout != ours.stdout || foreign.code != 0 {
				t.Fatalf("allot %s: exit %d\n%s%s\nallot %s: exit %d\n%s%s", c.foreign, foreign.code, foreign.stdout, foreign.stderr,
					c.ours, ours.code, ours.stdout, ours.stderr)
			}
			if c.show != "" {
				if shown := runCLI(t, c.url, args(c.show)...).stdout; shown != shownOurs {
					t.Fatalf("after %s:\n%s\nafter %s:\n%s", c.ours, shownOurs, c.foreign, shown)
				}
			}
		})
	}
	// The help shows allot's spelling only.
	if r := runCLI(t, pl.URL, "placement", "--help"); strings.Contains(r.stdout, "resource ") && !strings.Contains(r.stdout, "resource-provider") {
		t.Errorf("placement --help:\n%s", r.stdout)
	} else if strings.Contains(r.stdout, "\n  resource  ") {
		t.Errorf("placement --help lists the hidden spelling:\n%s", r.stdout)
	}
}

// TestConsumerMustBeUUID checks that the allocation commands refuse a
// consumer that is not a UUID as a usage error saying why, instead of
// showing the (empty) allocations of nobody, and take every uuid-like form
// Placement takes.
func TestConsumerMustBeUUID(t *testing.T) {
	pl := startPlacement(t)
	for _, a := range []string{
		"placement allocation show not-a-uuid",
		"placement allocation delete 9d2a7f1c-5b3e-4c8a-b0d4",
		"placement allocation set cn1 --allocation rp=cn1,VCPU=1 --project-id p --user-id u",
		"placement allocation unset node-1 --provider cn1",
		"placement resource provider allocation show nope",
	} {
		r := runCLI(t, pl.URL, args(a)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "is not a UUID") || r.stdout != "" {
			t.Errorf("allot %s: exit %d, stdout %q, stderr %q; want a usage error naming the UUID", a, r.code, r.stdout, r.stderr)
		}
	}
	for _, uuid := range []string{"9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57", "9D2A7F1C5B3E4C8AB0D42E6F8A1C3B57"} {
		if r := runCLI(t, pl.URL, "placement", "allocation", "show", uuid); r.code != 0 {
			t.Errorf("allocation show %s: exit %d: %s", uuid, r.code, r.stderr)
		}
	}
}

// TestNodeNameFindsProvider checks that "allot placement" commands find a
// bare-metal node's provider (named by the node's UUID) by the node's name,
// through the Bare Metal API the client options name, and that a name that
// is neither a provider's nor a node's is still not found.
func TestNodeNameFindsProvider(t *testing.T) {
	st := testserver.OpenStore(t, "sqlite")
	pl := testserver.StartPlacement(t, st)
	bm := testserver.StartBaremetal(t, st)
	prepareNode(t, bm.URL, "node-1")
	uuid := strings.TrimSpace(runCLI(t, bm.URL, args("baremetal node show node-1 -f value -c uuid")...).stdout)
	if uuid == "" {
		t.Fatal("node-1 has no uuid")
	}
	t.Setenv("ALLOT_BAREMETAL_URL", bm.URL)
	r := runCLI(t, pl.URL, args("placement resource-provider show node-1 -f value -c uuid")...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != uuid {
		t.Fatalf("rp show node-1: exit %d, %q %s; want the node's provider %s", r.code, r.stdout, r.stderr, uuid)
	}
	r = runCLI(t, pl.URL, args("placement resource-provider inventory list node-1 -f value -c resource_class")...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "CUSTOM_GOLD" {
		t.Fatalf("inventory list node-1: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, pl.URL, args("placement resource-provider show node-2")...)
	if r.code != ExitAPIError || !strings.Contains(r.stderr, `no resource provider named "node-2"`) {
		t.Fatalf("rp show node-2: exit %d: %s", r.code, r.stderr)
	}
	// Without a reachable Bare Metal API, a node's name is just not found.
	t.Setenv("ALLOT_BAREMETAL_URL", "http://127.0.0.1:1")
	r = runCLI(t, pl.URL, args("placement resource-provider show node-1")...)
	if r.code != ExitAPIError || !strings.Contains(r.stderr, `no resource provider named "node-1"`) {
		t.Fatalf("rp show node-1 without bare metal: exit %d: %s", r.code, r.stderr)
	}
}
