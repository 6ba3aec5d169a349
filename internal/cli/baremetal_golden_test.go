package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"allot/internal/client"
	"allot/internal/testserver"
)

// Fixed identities of the bare-metal golden scenario.
const (
	uGold1    = "b0000000-0000-0000-0000-000000000001"
	uGold2    = "b0000000-0000-0000-0000-000000000002"
	uGPU1     = "b0000000-0000-0000-0000-000000000003"
	uDeployed = "b0000000-0000-0000-0000-000000000004"
	uInstance = "1e000000-0000-0000-0000-000000000001"
	aGPU      = "ba000000-0000-0000-0000-000000000001"
	aWeb      = "ba000000-0000-0000-0000-000000000002"
	aFail     = "ba000000-0000-0000-0000-000000000003"
	aLegacy   = "ba000000-0000-0000-0000-000000000004"
)

// timestampRE matches the API's timestamps (always with microseconds).
var timestampRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00`)

// fixedTimestamp replaces every timestamp in the goldens; it has the same
// width, so tables keep their alignment.
const fixedTimestamp = "2000-01-01T00:00:00.000000+00:00"

// TestGoldenBaremetal runs every Bare Metal command, in table and json
// formats (and yaml, value, csv, -c on some), against a real server and
// compares the output with testdata/bm-*.golden. UUIDs are given, and
// timestamps are replaced by a fixed one, so that the outputs are stable.
func TestGoldenBaremetal(t *testing.T) {
	srv := testserver.StartBaremetal(t, testserver.OpenStore(t, "sqlite"))
	n := "baremetal node "
	a := "baremetal allocation "
	steps := []goldenStep{
		// Enroll four nodes (gold-1 is owned by project p1).
		{"bm-node-create", args(n + "create --driver fake-hardware --name gold-1 --uuid " + uGold1 +
			" --resource-class baremetal-gold --property cpus=8 --property memory_mb=16384 --extra rack=r1 --owner p1"), 0},
		{"bm-node-create-json", args(n + "create --driver fake-hardware --name gold-2 --uuid " + uGold2 + " --resource-class baremetal-gold -f json"), 0},
		{"", args(n + "create --driver fake-hardware --name gpu-1 --uuid " + uGPU1 + " --resource-class baremetal-gpu"), 0},
		{"", args(n + "create --driver fake-hardware --name deployed-1 --uuid " + uDeployed + " --resource-class baremetal-gold"), 0},
		{"bm-node-list", args(n + "list"), 0},
		{"bm-node-list-json", args(n + "list -f json"), 0},

		// Provision and power states.
		{"bm-node-manage", args(n + "manage gold-1"), 0},
		{"bm-node-provide", args(n + "provide gold-1 --wait 10"), 0},
		{"bm-node-power-on", args(n + "power on gold-1"), 0},
		{"", args(n + "manage gold-2 --wait=5"), 0},
		{"", args(n + "provide gold-2"), 0},
		{"", args(n + "power on gold-2"), 0},
		{"", args(n + "manage gpu-1"), 0},
		{"", args(n + "provide gpu-1"), 0},
		{"", args(n + "power on gpu-1"), 0},
		{"", args(n + "manage deployed-1"), 0},
		{"", args(n + "provide deployed-1"), 0},
		{"", args(n + "power on deployed-1"), 0},
		{"bm-node-deploy", args(n + "deploy deployed-1 --wait"), 0},
		{"bm-node-power-off-soft", args(n + "power off gold-2 --soft --power-timeout 30"), 0},
		{"bm-node-reboot", args(n + "reboot gold-2"), 0},
		{"bm-node-list-states", args(n + "list"), 0},
		{"bm-node-list-filter", args(n + "list --provision-state available --resource-class baremetal-gold -c UUID -c Name -f value"), 0},
		{"bm-node-list-fields", args(n + "list --fields uuid,resource_class,power_state --sort name:desc"), 0},
		{"bm-node-list-limit-csv", args(n + "list --limit 2 -f csv"), 0},
		{"bm-node-list-long-yaml", args(n + "list --long --resource-class baremetal-gpu -f yaml"), 0},
		{"bm-node-show", args(n + "show gold-1"), 0},
		{"bm-node-show-json", args(n + "show " + uGold1 + " -f json"), 0},
		{"bm-node-show-fields", args(n + "show gold-1 --fields uuid,name,power_state,provision_state,properties"), 0},
		{"bm-node-show-value", args(n + "show gold-1 -c provision_state -c power_state -f value"), 0},

		// set / unset.
		{"bm-node-set", args(n + "set gold-2 --name gold-02 --property cpus=16 --property tags=[\"a\",\"b\"] --extra team=web"), 0},
		{"bm-node-set-json", args(n + "set gold-02 --instance-uuid " + uInstance + " --description spare -f json"), 0},
		{"bm-node-unset", args(n + "unset gold-02 --instance-uuid --description --property tags --extra team -f json"), 0},

		// Traits and maintenance.
		{"bm-node-trait-add", args(n + "trait add gpu-1 CUSTOM_GPU HW_CPU_X86_AVX2 CUSTOM_OLD"), 0},
		{"bm-node-trait-remove", args(n + "trait remove gpu-1 CUSTOM_OLD"), 0},
		{"bm-node-trait-list", args(n + "trait list gpu-1"), 0},
		{"bm-node-trait-list-json", args(n + "trait list gpu-1 -f json"), 0},
		{"", args(n + "trait add gold-02 CUSTOM_OLD"), 0},
		{"bm-node-trait-remove-all", args(n + "trait remove gold-02 --all"), 0},
		{"bm-node-trait-list-empty", args(n + "trait list gold-02"), 0},
		{"bm-node-maintenance-set", append(args(n+"maintenance set gold-02 --reason"), "disk swap"), 0},
		{"bm-node-show-maintenance", args(n + "show gold-02 -c maintenance -c maintenance_reason"), 0},
		{"bm-node-maintenance-unset", args(n + "maintenance unset gold-02"), 0},

		// Allocations: created (allocating), waited for (active), failed, backfilled.
		{"bm-alloc-create", args(a + "create --resource-class baremetal-gpu --trait CUSTOM_GPU --name gpu-alloc --uuid " + aGPU + " --extra team=ml"), 0},
		{"bm-alloc-create-wait", args(a + "create --resource-class baremetal-gold --candidate-node gold-1 --candidate-node " + uGold2 +
			" --name web-1 --uuid " + aWeb + " --owner p1 --extra tier=1 --wait 10"), 0},
		{"bm-alloc-create-fail", args(a + "create --resource-class baremetal-gold --trait CUSTOM_NOPE --name impossible --uuid " + aFail + " --wait 10"), 1},
		{"bm-alloc-create-backfill-json", args(a + "create --node deployed-1 --name legacy-1 --uuid " + aLegacy + " -f json"), 0},
		{"bm-alloc-create-duplicate", args(a + "create --resource-class baremetal-gold --name web-1"), 1},
		{"bm-alloc-show", args(a + "show web-1"), 0},
		{"bm-alloc-show-gpu-json", args(a + "show gpu-alloc -f json"), 0},
		{"bm-alloc-show-fields", args(a + "show web-1 --fields uuid,node_uuid,state"), 0},
		{"bm-alloc-list", args(a + "list"), 0},
		{"bm-alloc-list-json", args(a + "list -f json"), 0},
		{"bm-alloc-list-long", args(a + "list --long --state error"), 0},
		{"bm-alloc-list-filter", args(a + "list --state active --resource-class baremetal-gold -c Name -c State -f value"), 0},
		{"bm-alloc-list-node", args(a + "list --node gold-1 -f json"), 0},
		{"bm-alloc-list-owner", args(a + "list --owner p1 --limit 1 -c UUID -c Name"), 0},
		{"bm-node-list-allocated", args(n + "list --associated"), 0},
		{"bm-alloc-set", args(a + "set web-1 --name web-01 --extra tier=2 --extra zone=z1"), 0},
		{"bm-alloc-set-json", args(a + "set web-01 --extra flags={\"x\":true} -f json"), 0},
		{"bm-alloc-unset", args(a + "unset web-01 --extra zone --extra flags"), 0},
		{"bm-alloc-unset-json", args(a + "unset web-01 --name -f json"), 0},

		// Deletes.
		{"bm-alloc-delete", args(a + "delete gpu-alloc impossible"), 0},
		{"bm-alloc-delete-active", args(a + "delete legacy-1"), 1},
		{"bm-node-undeploy", args(n + "undeploy deployed-1 --wait 10"), 0},
		{"bm-alloc-list-after", args(a + "list"), 0},
		{"bm-node-delete-associated", args(n + "delete gold-1"), 1},
		{"bm-node-delete", args(n + "delete gold-02 deployed-1"), 0},

		// Errors.
		{"bm-err-node-not-found", args(n + "show nope"), 1},
		{"bm-err-bad-verb", args(n + "provide gpu-1"), 1},
		{"bm-err-no-driver", args(n + "create --name x"), 2},
		{"bm-err-property", args(n + "create --driver fake-hardware --property cpus"), 2},
		{"bm-err-set-nothing", args(n + "set gpu-1"), 2},
		{"bm-err-trait-remove-nothing", args(n + "trait remove gpu-1"), 2},
		{"bm-err-trait-remove-both", args(n + "trait remove gpu-1 CUSTOM_GPU --all"), 2},
		{"bm-err-trait-add-bad", args(n + "trait add gpu-1 CUSTOM_X bad-trait"), 1},
		{"bm-err-list-maintenance", args(n + "list --maintenance --no-maintenance"), 2},
		{"bm-err-list-long-fields", args(a + "list --long --fields uuid"), 2},
		{"bm-err-sort", args(a + "list --sort name:up"), 2},
		{"bm-err-alloc-no-class", args(a + "create --name x"), 2},
		{"bm-err-alloc-bad-wait", args(a + "create --resource-class x --wait=soon"), 2},
		{"bm-err-alloc-extra-arg", args(a + "create --resource-class x extra"), 2},
		{"bm-err-alloc-not-found", args(a + "show nope"), 1},
		{"bm-err-alloc-unknown-flag", args(a + "show web-01 --wait"), 2},
		{"bm-err-alloc-old-version", args(a + "list --os-baremetal-api-version 1.51"), 1},
		{"bm-err-unknown-command", args("baremetal nod list"), 2},
	}
	// gpu-alloc is shown as created (allocating); later steps need it active.
	after := map[string]func(){
		"bm-alloc-create": func() {
			b, err := client.NewBaremetal(srv.URL, client.Options{})
			if err == nil {
				_, err = b.WaitForAllocation(context.Background(), aGPU, 10*time.Second)
			}
			if err != nil {
				t.Fatal(err)
			}
		},
	}
	for _, step := range steps {
		r := runCLI(t, srv.URL, step.args...)
		if r.code != step.code {
			t.Fatalf("allot %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", shellQuote(step.args), r.code, step.code, r.stdout, r.stderr)
		}
		if step.name != "" {
			got := timestampRE.ReplaceAllString(r.golden(step.args), fixedTimestamp)
			checkGolden(t, step.name, strings.ReplaceAll(got, srv.URL, "http://baremetal"))
		}
		if fn := after[step.name]; fn != nil {
			fn()
		}
	}
}
