package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/client"
)

// seedCloud builds the golden scenario's cloud (cn1 with two NUMA nodes and
// their PFs, cn2, a sharing disk) through the CLI.
func seedCloud(t *testing.T, url string) {
	t.Helper()
	p := "placement "
	for _, a := range [][]string{
		args(p + "rp create cn1 --uuid " + uCN1),
		args(p + "rp create cn2 --uuid " + uCN2),
		args(p + "rp create cn1-numa0 --uuid " + uNUMA0 + " --parent-provider cn1"),
		args(p + "rp create cn1-numa1 --uuid " + uNUMA1 + " --parent-provider cn1"),
		args(p + "rp create cn1-numa0-pf0 --uuid " + uPF0 + " --parent-provider cn1-numa0"),
		args(p + "rp create cn1-numa1-pf1 --uuid " + uPF1 + " --parent-provider cn1-numa1"),
		args(p + "rp create shared-disk --uuid " + uDisk),
		args(p + "rp inventory set cn1 MEMORY_MB=16384,DISK_GB=100"),
		args(p + "rp inventory set cn1-numa0 VCPU=8,VCPU:allocation_ratio=4.0"),
		args(p + "rp inventory set cn1-numa1 VCPU=8"),
		args(p + "rp inventory set cn1-numa0-pf0 SRIOV_NET_VF=8"),
		args(p + "rp inventory set cn1-numa1-pf1 SRIOV_NET_VF=8"),
		args(p + "rp inventory set cn2 VCPU=4,MEMORY_MB=4096"),
		args(p + "rp inventory set shared-disk DISK_GB=1000"),
		args(p + "rp trait set cn1 --trait HW_CPU_X86_AVX2"),
		args(p + "rp trait set cn2 --trait HW_CPU_X86_AVX2 --trait COMPUTE_STATUS_DISABLED"),
		args(p + "rp trait set shared-disk --trait MISC_SHARES_VIA_AGGREGATE"),
		args(p + "rp aggregate set cn1 --aggregate " + agg1),
		args(p + "rp aggregate set cn2 --aggregate " + agg1),
		args(p + "rp aggregate set shared-disk --aggregate " + agg1),
	} {
		if r := runCLI(t, url, a...); r.code != 0 {
			t.Fatalf("allot %s: exit %d: %s", shellQuote(a), r.code, r.stderr)
		}
	}
}

// decodeJSON decodes a JSON document for comparison.
func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// TestSeedMatchesAPI checks that the seed invocation, every option at once,
// prints the candidates the HTTP API gives for the same query string, in
// json and in table form.
func TestSeedMatchesAPI(t *testing.T) {
	srv := startPlacement(t)
	seedCloud(t, srv.URL)
	query := "resources=VCPU:4,MEMORY_MB:2048&required=HW_CPU_X86_AVX2&member_of=" + agg1 +
		"&in_tree=" + uCN1 + "&root_required=" + url.QueryEscape("!COMPUTE_STATUS_DISABLED") +
		"&resources_A=VCPU:1&resources_B=SRIOV_NET_VF:1&same_subtree=_A,_B&group_policy=isolate&limit=10"
	direct := srv.Must(200, "GET", "/allocation_candidates?"+query, "latest", nil)
	want := decodeJSON(t, direct.Body)
	requests := want.(map[string]any)["allocation_requests"].([]any)
	if len(requests) == 0 {
		t.Fatal("the seed query matches nothing: the test cloud is wrong")
	}

	r := runCLI(t, srv.URL, with(seedArgs, "-f", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := decodeJSON(t, []byte(r.stdout)); !reflect.DeepEqual(got, want) {
		t.Errorf("allot placement allocation-candidate list -f json differs from GET /allocation_candidates?%s\n got: %s\nwant: %s", query, r.stdout, direct.Body)
	}

	// The same query with the provider named, and the table form: one row per
	// allocation request, in the API's order, with the same amounts.
	byName := append([]string{}, seedArgs...)
	for i, a := range byName {
		if a == uCN1 {
			byName[i] = "cn1"
		}
	}
	r = runCLI(t, srv.URL, with(byName, "-f", "value", "-c", "allocations")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rows := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(rows) != len(requests) {
		t.Fatalf("%d rows, want %d (one per allocation request):\n%s", len(rows), len(requests), r.stdout)
	}
	names := map[string]string{uCN1: "cn1", uNUMA0: "cn1-numa0", uNUMA1: "cn1-numa1", uPF0: "cn1-numa0-pf0", uPF1: "cn1-numa1-pf1", uCN2: "cn2", uDisk: "shared-disk"}
	for i, req := range requests {
		allocs := req.(map[string]any)["allocations"].(map[string]any)
		for rp, a := range allocs {
			for class, n := range a.(map[string]any)["resources"].(map[string]any) {
				item := names[rp] + ": "
				if !strings.Contains(rows[i], item) || !strings.Contains(rows[i], class+"="+jsonNumber(n)) {
					t.Errorf("row %d %q lacks %s%s=%s", i+1, rows[i], item, class, jsonNumber(n))
				}
			}
		}
	}
}

func jsonNumber(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// TestCandidateFormsAgree checks that osc-placement's forms and the API's
// forms of the same request give the same document.
func TestCandidateFormsAgree(t *testing.T) {
	srv := startPlacement(t)
	seedCloud(t, srv.URL)
	ac := "placement allocation-candidate list -f json "
	cases := []struct {
		name string
		a, b []string
	}{
		{"resources", args(ac + "--resource VCPU=2 --resource MEMORY_MB=512"), args(ac + "--resources VCPU:2,MEMORY_MB:512")},
		{"groups", args(ac + "--resources MEMORY_MB:512 --group _A --resource VCPU=1 --required HW_CPU_X86_AVX2 --group _B --resource SRIOV_NET_VF=1 --group-policy isolate"),
			args(ac + "--resources MEMORY_MB:512 --resources-group _A=VCPU:1 --required-group _A=HW_CPU_X86_AVX2 --resources-group _B=SRIOV_NET_VF:1 --group-policy isolate")},
		{"forbidden", args(ac + "--resources VCPU:1 --forbidden COMPUTE_STATUS_DISABLED"), with(args(ac+"--resources VCPU:1"), "--required", "!COMPUTE_STATUS_DISABLED")},
		{"any-of", args(ac + "--resources VCPU:1 --required HW_CPU_X86_AVX2,HW_CPU_X86_SSE"), args(ac + "--resources VCPU:1 --required in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE")},
		{"member-of", args(ac + "--resources VCPU:1 --member-of " + agg1 + "," + agg2), args(ac + "--resources VCPU:1 --member-of in:" + agg1 + "," + agg2)},
		{"aggregate-uuid", args(ac + "--resources VCPU:1 --aggregate-uuid " + agg1), args(ac + "--resources VCPU:1 --member-of " + agg1)},
		{"in-tree", args(ac + "--resources VCPU:1 --in-tree cn2"), args(ac + "--resources VCPU:1 --in-tree " + uCN2)},
		{"group-policy default", args(ac + "--resources VCPU:1 --group 1 --resource VCPU=1 --group 2 --resource VCPU=1"),
			args(ac + "--resources VCPU:1 --resources-group 1=VCPU:1 --resources-group 2=VCPU:1 --group-policy none")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ra, rb := runCLI(t, srv.URL, c.a...), runCLI(t, srv.URL, c.b...)
			if ra.code != 0 || rb.code != 0 {
				t.Fatalf("exits %d and %d: %s %s", ra.code, rb.code, ra.stderr, rb.stderr)
			}
			if ra.stdout != rb.stdout {
				t.Errorf("allot %s\n%s\ndiffers from allot %s\n%s", shellQuote(c.a), ra.stdout, shellQuote(c.b), rb.stdout)
			}
		})
	}
}

// TestCandidateQuery checks how options become query parameters.
func TestCandidateQuery(t *testing.T) {
	p, err := client.NewPlacement("http://127.0.0.1:1", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string // url.Values.Encode of the query
	}{
		{seedArgs[3:], "group_policy=isolate&in_tree=" + uCN1 + "&limit=10&member_of=" + agg1 +
			"&required=HW_CPU_X86_AVX2&resources=VCPU%3A4%2CMEMORY_MB%3A2048&resources_A=VCPU%3A1&resources_B=SRIOV_NET_VF%3A1" +
			"&root_required=%21COMPUTE_STATUS_DISABLED&same_subtree=_A%2C_B"},
		{args("--resource VCPU=1 --required A --required B --forbidden C --required X,Y"),
			"required=in%3AX%2CY&required=A%2CB%2C%21C&resources=VCPU%3A1"},
		{args("--resources VCPU:1 --member-of M1 --member-of M2,M3 --member-of !M4 --member-of !in:M5,M6"),
			"member_of=M1&member_of=in%3AM2%2CM3&member_of=%21M4&member_of=%21in%3AM5%2CM6&resources=VCPU%3A1"},
		{args("--resources VCPU:1 --root-required A --root-required !B,C"),
			"resources=VCPU%3A1&root_required=A%2C%21B%2CC"},
		{args("--group 1 --resource VCPU=1 --member-of M --in-tree " + uCN2 + " --group 2 --resources VCPU:1,MEMORY_MB:1"),
			"group_policy=none&in_tree1=" + uCN2 + "&member_of1=M&resources1=VCPU%3A1&resources2=VCPU%3A1%2CMEMORY_MB%3A1"},
		{args("--resources VCPU:1 --member-of-group _X=in:M1,M2 --forbidden-group _X=T --in-tree-group _X=" + uCN1 + " --resources-group _X=PCPU:2 --same-subtree _X"),
			"group_policy=none&in_tree_X=" + uCN1 + "&member_of_X=in%3AM1%2CM2&required_X=%21T&resources=VCPU%3A1&resources_X=PCPU%3A2&same_subtree=_X"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd, f := candidateListCommand(newClientOptions())
			if err := cmd.ParseFlags(c.args); err != nil {
				t.Fatal(err)
			}
			q, err := f.query(context.Background(), p, cmd.Flags().Changed("group-policy"))
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Values().Encode(); got != c.want {
				t.Errorf("query\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestCandidateQueryErrors checks the options rejected before any request.
func TestCandidateQueryErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{args("--resources VCPU"), "want RESOURCE_CLASS:AMOUNT"},
		{args("--resources VCPU:x"), "must be an integer"},
		{args("--resources-group VCPU:1"), "want SUFFIX=VALUE"},
		{args("--resources-group a.b=VCPU:1"), "group suffix"},
		{args("--group a/b"), "group suffix"},
		{args("--resources VCPU:1 --required A,!B"), "cannot hold a forbidden trait"},
		{args("--resources VCPU:1 --group-policy sometimes"), "use none or isolate"},
		{args("--resources VCPU:1 --limit -1"), "positive"},
		{args("--required A"), "at least one resource"},
		{args("--resources VCPU:1 --in-tree " + uCN1 + " --in-tree " + uCN2), "a group is in one tree"},
	}
	p, _ := client.NewPlacement("http://127.0.0.1:1", client.Options{})
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd, f := candidateListCommand(newClientOptions())
			err := cmd.ParseFlags(c.args)
			if err == nil {
				_, err = f.query(context.Background(), p, cmd.Flags().Changed("group-policy"))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestExitCodes checks the exit statuses: 0 success, 1 API error or
// unreachable server, 2 usage error.
func TestExitCodes(t *testing.T) {
	srv := startPlacement(t)
	cases := []struct {
		name string
		url  string
		args []string
		code int
		want string // in stderr
	}{
		{"ok", srv.URL, args("placement resource-provider list"), ExitOK, ""},
		{"ok help", srv.URL, args("placement --help"), ExitOK, ""},
		{"ok group without subcommand", srv.URL, args("placement resource-provider"), ExitOK, ""},
		{"api 404", srv.URL, args("placement resource-provider show " + uMissing), ExitAPIError, "No resource provider with uuid " + uMissing + " found (HTTP 404)"},
		{"api 400", srv.URL, args("placement allocation-candidate list --resources VCPU:0"), ExitAPIError, "(HTTP 400)"},
		{"api 403", srv.URL, args("placement resource-provider list --token demo"), ExitAPIError, "(HTTP 403)"},
		{"unreachable", "http://127.0.0.1:1", args("placement resource-provider list"), ExitAPIError, "connection refused"},
		{"unknown flag", srv.URL, args("placement resource-provider list --nope"), ExitUsage, "unknown flag: --nope"},
		{"missing argument", srv.URL, args("placement trait show"), ExitUsage, "takes NAME"},
		{"extra argument", srv.URL, args("placement trait list extra"), ExitUsage, "takes no arguments"},
		{"bad format", srv.URL, args("placement trait list -f xml"), ExitUsage, "use one of table"},
		{"bad url", "ftp://x", args("placement trait list"), ExitUsage, "scheme must be http or https"},
		{"unknown subcommand", srv.URL, args("placement resource-provider frobnicate"), ExitUsage, `unknown command "frobnicate"`},
		{"bad value", srv.URL, args("placement allocation set " + consumer1 + " --allocation VCPU=1"), ExitUsage, "rp=PROVIDER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.url, c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, c.want)
			}
			if c.code == ExitAPIError && strings.Contains(r.stderr, "{") {
				t.Errorf("stderr shows a raw body or Go value: %q", r.stderr)
			}
		})
	}
}

// TestEnvironment checks that the environment variables stand in for
// unset flags, and that flags win.
func TestEnvironment(t *testing.T) {
	srv := startPlacement(t)
	run := func(args ...string) cliResult {
		var out, errb bytes.Buffer
		code := Execute(args, &out, &errb)
		return cliResult{out.String(), errb.String(), code}
	}
	t.Setenv("ALLOT_PLACEMENT_URL", srv.URL)
	if r := run("placement", "trait", "show", "HW_CPU_X86_AVX2"); r.code != 0 {
		t.Fatalf("ALLOT_PLACEMENT_URL ignored: exit %d: %s", r.code, r.stderr)
	}
	t.Setenv("OS_TOKEN", "not-admin")
	if r := run("placement", "resource-provider", "list"); r.code != ExitAPIError || !strings.Contains(r.stderr, "403") {
		t.Fatalf("OS_TOKEN ignored: exit %d: %s", r.code, r.stderr)
	}
	if r := run("placement", "resource-provider", "list", "--token", "admin"); r.code != 0 {
		t.Fatalf("--token does not win over OS_TOKEN: exit %d: %s", r.code, r.stderr)
	}
	t.Setenv("OS_TOKEN", "admin")
	t.Setenv("OS_PLACEMENT_API_VERSION", "1.10")
	r := run("placement", "resource-provider", "create", "env-test", "-f", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"root_provider_uuid": null`) {
		t.Fatalf("OS_PLACEMENT_API_VERSION=1.10 ignored: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv("ALLOT_PLACEMENT_URL", "http://127.0.0.1:1")
	if r := run("--placement-url", srv.URL, "placement", "resource-provider", "list"); r.code != 0 {
		t.Fatalf("--placement-url does not win over ALLOT_PLACEMENT_URL: exit %d: %s", r.code, r.stderr)
	}
}

// walk calls fn on every command of the tree.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestHelpComplete checks that every client command documents itself, and
// that --help works everywhere.
func TestHelpComplete(t *testing.T) {
	root := NewRoot(&bytes.Buffer{}, &bytes.Buffer{})
	groups := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		groups[c.Name()] = c
	}
	for _, g := range []struct {
		name string
		min  int // commands in the group, at least
	}{{"placement", 40}, {"baremetal", 30}, {"bench", 2}} {
		group := groups[g.name]
		if group == nil {
			t.Fatalf("no %s command", g.name)
		}
		count := 0
		walk(group, func(c *cobra.Command) {
			count++
			path := c.CommandPath()
			if c.Short == "" {
				t.Errorf("%s has no short description", path)
			}
			if !c.HasSubCommands() {
				if c.Long == "" {
					t.Errorf("%s has no long description", path)
				}
				if c.Example == "" {
					t.Errorf("%s has no example", path)
				}
			}
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if f.Usage == "" && !f.Hidden {
					t.Errorf("%s --%s has no usage text", path, f.Name)
				}
			})
			r := runCLI(t, "http://127.0.0.1:1", append(strings.Fields(strings.TrimPrefix(path, "allot ")), "--help")...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("%s --help: exit %d, stdout %q", path, r.code, r.stdout)
			}
		})
		if count < g.min {
			t.Errorf("only %d %s commands", count, g.name)
		}
	}
	if r := runCLI(t, "http://x", "--help"); r.code != 0 || !strings.Contains(r.stdout, "placement   Client of the OpenStack Placement API") ||
		!strings.Contains(r.stdout, "baremetal   Client of the OpenStack Bare Metal API") || !strings.Contains(r.stdout, "completion") {
		t.Errorf("allot --help: exit %d:\n%s", r.code, r.stdout)
	}
	for _, h := range [][]string{
		{"placement", "--help"},
		{"placement", "allocation-candidate", "list", "--help"},
		{"baremetal", "--help"},
		{"baremetal", "allocation", "create", "--help"},
		{"baremetal", "node", "list", "--help"},
	} {
		name := "help-" + strings.Join(h[:len(h)-1], "-")
		if h[0] == "placement" && len(h) > 2 {
			name = "help-" + strings.Join(h[1:len(h)-1], "-")
		}
		checkGolden(t, name, runCLI(t, "http://x", h...).golden(h))
	}
}

// TestClientFlagsScope checks that the client flags belong to the client
// commands: "allot serve --help" and "allot --help" do not show them, each
// group has its own, and an unknown command is a usage error.
func TestClientFlagsScope(t *testing.T) {
	cases := []struct {
		args      []string
		code      int
		has, lack []string
	}{
		{args("--help"), ExitOK, nil, []string{"--placement-url", "--baremetal-url", "--format", "--token"}},
		{args("serve --help"), ExitOK, []string{"--placement-listen"}, []string{"--placement-url", "--baremetal-url", "--format", "--column", "--token", "--os-placement-api-version"}},
		{args("placement --help"), ExitOK, []string{"--placement-url", "--os-placement-api-version", "--token", "--format", "--column"}, []string{"--baremetal-url"}},
		{args("placement trait list --help"), ExitOK, []string{"--placement-url", "--format"}, []string{"--baremetal-url"}},
		{args("baremetal --help"), ExitOK, []string{"--baremetal-url", "--os-baremetal-api-version", "--token", "--format"}, []string{"--placement-url"}},
		{args("baremetal node list --help"), ExitOK, []string{"--baremetal-url", "--format"}, []string{"--placement-url"}},
		{args("frobnicate"), ExitUsage, []string{`unknown command "frobnicate" for "allot"`}, nil},
		{args("servee"), ExitUsage, []string{`for "allot". Did you mean serve?`}, nil},
		{args("--format json serve"), ExitUsage, []string{"unknown flag: --format"}, nil},
		{args("serve --placement-url http://x"), ExitUsage, []string{"unknown flag: --placement-url"}, nil},
		{args("baremetal node list --placement-url http://x"), ExitUsage, []string{"unknown flag: --placement-url"}, nil},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runCLI(t, "http://127.0.0.1:1", c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, c.code, r.stdout, r.stderr)
			}
			for _, s := range c.has {
				if !strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output lacks %q:\n%s%s", s, r.stdout, r.stderr)
				}
			}
			for _, s := range c.lack {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output shows %q:\n%s%s", s, r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestCompletion checks that shell completion is generated and completes
// the placement commands.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runCLI(t, "http://x", "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "allot") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, r.code, len(r.stdout))
		}
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "pla"}, []string{"placement"}},
		{[]string{"__complete", "placement", ""}, []string{"allocation-candidate", "resource-provider", "resource-class", "trait", "allocation", "usage", "reshape"}},
		{[]string{"__complete", "placement", "resource-provider", "inventory", ""}, []string{"list", "show", "set", "delete"}},
		{[]string{"__complete", "placement", "allocation-candidate", "list", "--res"}, []string{"--resources", "--resource", "--resources-group"}},
		{[]string{"__complete", "baremetal", ""}, []string{"node", "allocation"}},
		{[]string{"__complete", "baremetal", "node", "power", ""}, []string{"on", "off"}},
		{[]string{"__complete", "baremetal", "allocation", "create", "--can"}, []string{"--candidate-node"}},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := Execute(c.args, &out, &errb); code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w+"\t") && !strings.Contains(out.String(), w+"\n") {
				t.Errorf("%v: %q not offered in\n%s", c.args, w, out.String())
			}
		}
	}
}
