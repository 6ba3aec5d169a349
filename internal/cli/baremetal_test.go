package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"allot/internal/baremetal"
	"allot/internal/client"
	"allot/internal/testserver"
)

// prepareNode enrolls an allocatable node of class gold through the CLI.
func prepareNode(t *testing.T, url, name string) {
	t.Helper()
	for _, a := range [][]string{
		args("baremetal node create --driver fake-hardware --resource-class gold --name " + name),
		args("baremetal node manage " + name),
		args("baremetal node provide " + name),
		args("baremetal node power on " + name),
	} {
		if r := runCLI(t, url, a...); r.code != 0 {
			t.Fatalf("allot %s: exit %d: %s", shellQuote(a), r.code, r.stderr)
		}
	}
}

// TestBaremetalWait checks "allocation create --wait" and the provision
// verbs' --wait: exit 0 when the allocation becomes active, 1 with its
// last_error when it fails, 1 with a clear message on timeout (here on a
// server without allocation workers, where nothing ever leaves allocating).
func TestBaremetalWait(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	idle := testserver.StartBaremetalWith(t, testserver.OpenStore(t, "sqlite"), baremetal.Options{Workers: -1})
	prepareNode(t, srv.URL, "n1")
	if r := runCLI(t, srv.URL, args("baremetal node create --driver fake-hardware --name n2")...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	create := "baremetal allocation create --resource-class gold "
	cases := []struct {
		name     string
		url      string
		args     []string
		code     int
		stdout   string // in stdout
		stderr   string // in stderr
		noStdout bool
	}{
		{"active", srv.URL, args(create + "--name a1 --wait 10 -c state -c node_uuid -f value"), ExitOK, "active\n", "", false},
		{"failed", srv.URL, args(create + "--name a2 --wait 10"), ExitAPIError, "",
			"failed (state error): Failed to process allocation", true},
		{"failed, --wait alone", srv.URL, args(create + "--name a3 --trait CUSTOM_X --wait"), ExitAPIError, "",
			"no available nodes match the resource class gold", true},
		{"failed, with the way to see why", srv.URL, args(create + "--name a7 --wait 10"), ExitAPIError, "",
			"\nwhy, node by node: allot baremetal allocation show ", true},
		{"timeout", idle.URL, args(create + "--name a4 --wait 1"), ExitAPIError, "",
			`did not become active within 1s (its state is still "allocating")`, true},
		{"timeout, --wait=N", idle.URL, args(create + "--name a5 --wait=1"), ExitAPIError, "", "within 1s", true},
		{"no wait", idle.URL, args(create + "--name a6 -c state -f value"), ExitOK, "allocating\n", "", false},
		{"manage --wait", srv.URL, args("baremetal node manage n2 --wait 5"), ExitOK, "", "", true},
		{"provide --wait=N", srv.URL, args("baremetal node provide n2 --wait=5"), ExitOK, "", "", true},
		{"deploy --wait", srv.URL, args("baremetal node deploy n2 --wait"), ExitOK, "", "", true},
		{"deploy an active node", srv.URL, args("baremetal node deploy n2 --wait 5"), ExitAPIError, "", `while it is in state "active"`, true},
		{"--wait N, then more", srv.URL, args("baremetal node manage n2 --wait 5 extra"), ExitUsage, "", "takes NODE, got 3", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.url, c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) || (c.noStdout && r.stdout != "") {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", r.stdout, c.stdout, r.stderr, c.stderr)
			}
		})
	}
}

// TestBaremetalWaitFailureHint checks that "allocation create --wait"
// ending in state error names the command that shows why, and that the
// command works as written: it lists the node the allocation was
// considered on, with its reason. A timeout names no such command.
func TestBaremetalWaitFailureHint(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	idle := testserver.StartBaremetalWith(t, testserver.OpenStore(t, "sqlite"), baremetal.Options{Workers: -1})
	prepareNode(t, srv.URL, "n1")
	create := "baremetal allocation create --resource-class gold --wait 10 "
	if r := runCLI(t, srv.URL, args(create+"--name taken -c node_uuid -f value")...); r.code != ExitOK {
		t.Fatalf("first allocation: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, srv.URL, args(create+"--name late")...)
	if r.code != ExitAPIError {
		t.Fatalf("second allocation: exit %d, want %d: %s", r.code, ExitAPIError, r.stderr)
	}
	uuid := strings.TrimSpace(runCLI(t, srv.URL, args("baremetal allocation show late -c uuid -f value")...).stdout)
	want := "\nwhy, node by node: allot baremetal allocation show " + uuid + " --failure\n"
	_, hint, ok := strings.Cut(r.stderr, "\nwhy, node by node: allot ")
	if uuid == "" || !ok || !strings.HasSuffix(r.stderr, want) {
		t.Fatalf("stderr %q does not end with %q", r.stderr, want)
	}
	shown := runCLI(t, srv.URL, args(hint)...)
	if shown.code != ExitOK || !strings.Contains(shown.stdout, "1 nodes considered") || !strings.Contains(shown.stdout, "n1") {
		t.Fatalf("allot %s: exit %d\nstdout: %s\nstderr: %s", strings.TrimSpace(hint), shown.code, shown.stdout, shown.stderr)
	}
	timeout := runCLI(t, idle.URL, args("baremetal allocation create --resource-class gold --wait 1")...)
	if timeout.code != ExitAPIError || strings.Contains(timeout.stderr, "--failure") {
		t.Fatalf("timeout: exit %d: %s", timeout.code, timeout.stderr)
	}
}

// TestBaremetalEnvironment checks that ALLOT_BAREMETAL_URL and
// OS_BAREMETAL_API_VERSION stand in for unset flags, and that flags win.
func TestBaremetalEnvironment(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	run := func(args ...string) cliResult {
		var out, errb bytes.Buffer
		code := Execute(args, &out, &errb)
		return cliResult{out.String(), errb.String(), code}
	}
	t.Setenv("ALLOT_BAREMETAL_URL", srv.URL)
	if r := run("baremetal", "allocation", "list"); r.code != 0 {
		t.Fatalf("ALLOT_BAREMETAL_URL ignored: exit %d: %s", r.code, r.stderr)
	}
	t.Setenv("OS_BAREMETAL_API_VERSION", "1.51")
	if r := run("baremetal", "allocation", "list"); r.code != ExitAPIError || !strings.Contains(r.stderr, "does not allow allocations.") || !strings.Contains(r.stderr, `"X-OpenStack-Ironic-API-Version: 1.52". (HTTP 404)`) {
		t.Fatalf("OS_BAREMETAL_API_VERSION ignored: exit %d: %s", r.code, r.stderr)
	}
	if r := run("baremetal", "allocation", "list", "--os-baremetal-api-version", "1.52"); r.code != 0 {
		t.Fatalf("--os-baremetal-api-version does not win: exit %d: %s", r.code, r.stderr)
	}
	t.Setenv("OS_BAREMETAL_API_VERSION", "")
	t.Setenv("ALLOT_BAREMETAL_URL", "http://127.0.0.1:1")
	if r := run("baremetal", "--baremetal-url", srv.URL, "node", "list"); r.code != 0 {
		t.Fatalf("--baremetal-url does not win over ALLOT_BAREMETAL_URL: exit %d: %s", r.code, r.stderr)
	}
	if r := run("baremetal", "node", "list"); r.code != ExitAPIError || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("unreachable: exit %d: %s", r.code, r.stderr)
	}
	if r := run("baremetal", "node", "list", "--baremetal-url", "ftp://x"); r.code != ExitUsage {
		t.Fatalf("bad URL: exit %d: %s", r.code, r.stderr)
	}
	// The placement token default does not leak into bare-metal requests,
	// and the placement group keeps its own.
	root := NewRoot(&bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range []struct {
		group string
		token string
	}{{"placement", defaultToken}, {"baremetal", ""}} {
		var found bool
		for _, cmd := range root.Commands() {
			if cmd.Name() == c.group {
				f := cmd.PersistentFlags().Lookup("token")
				found = f != nil && f.DefValue == c.token
			}
		}
		if !found {
			t.Errorf("%s --token default is not %q", c.group, c.token)
		}
	}
}

// TestPatchOptions checks how set/unset options become JSON patches.
func TestPatchOptions(t *testing.T) {
	cases := []struct {
		name  string
		set   bool
		flags []string
		want  []client.PatchOp
		err   string
	}{
		{"set", true, args("--name n2 --property cpus=8 --property tags=[\"a\"] --extra k=v --instance-uuid u --extra x=not-json"), []client.PatchOp{
			{Op: "add", Path: "/name", Value: "n2"}, {Op: "add", Path: "/instance_uuid", Value: "u"},
			{Op: "add", Path: "/properties/cpus", Value: 8.0}, {Op: "add", Path: "/properties/tags", Value: []any{"a"}},
			{Op: "add", Path: "/extra/k", Value: "v"}, {Op: "add", Path: "/extra/x", Value: "not-json"},
		}, ""},
		{"set a value with =", true, args("--extra url=http://x/?a=b"), []client.PatchOp{{Op: "add", Path: "/extra/url", Value: "http://x/?a=b"}}, ""},
		{"unset", false, args("--instance-uuid --property cpus --extra k --extra x"), []client.PatchOp{
			{Op: "remove", Path: "/instance_uuid"}, {Op: "remove", Path: "/properties/cpus"},
			{Op: "remove", Path: "/extra/k"}, {Op: "remove", Path: "/extra/x"},
		}, ""},
		{"set nothing", true, nil, nil, "nothing to change"},
		{"unset nothing", false, nil, nil, "nothing to change"},
		{"no value", true, args("--extra k"), nil, "want KEY=VALUE"},
		{"no key", true, args("--extra =v"), nil, "want KEY=VALUE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			var p *patchOptions
			if c.set {
				p = addSetFlags(fs, nodeScalarFields, nodeObjectFields)
			} else {
				p = addUnsetFlags(fs, nodeScalarFields, nodeObjectFields)
			}
			if err := fs.Parse(c.flags); err != nil {
				t.Fatal(err)
			}
			ops, err := p.ops()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ops, c.want) {
				t.Errorf("ops\n got %#v\nwant %#v", ops, c.want)
			}
		})
	}
}
