package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/client"
)

// Fixed identities of the golden scenario, so that outputs are stable.
const (
	uCN1      = "c0000000-0000-0000-0000-000000000001"
	uNUMA0    = "c0000000-0000-0000-0000-000000000011"
	uNUMA1    = "c0000000-0000-0000-0000-000000000012"
	uPF0      = "c0000000-0000-0000-0000-000000000111"
	uPF1      = "c0000000-0000-0000-0000-000000000112"
	uCN2      = "c0000000-0000-0000-0000-000000000002"
	uDisk     = "d0000000-0000-0000-0000-000000000001"
	uTmp      = "e0000000-0000-0000-0000-000000000001"
	uMissing  = "f0000000-0000-0000-0000-00000000dead"
	agg1      = "a0000000-0000-0000-0000-000000000001"
	agg2      = "a0000000-0000-0000-0000-000000000002"
	consumer1 = "1c000000-0000-0000-0000-000000000001"
	consumer2 = "1c000000-0000-0000-0000-000000000002"
)

// seedArgs is the seed command line of DESIGN.md with every option, and the
// granular groups _A and _B.
var seedArgs = []string{"placement", "allocation-candidate", "list",
	"--resources", "VCPU:4,MEMORY_MB:2048", "--required", "HW_CPU_X86_AVX2",
	"--member-of", agg1, "--in-tree", uCN1, "--root-required", "!COMPUTE_STATUS_DISABLED",
	"--resources-group", "_A=VCPU:1", "--resources-group", "_B=SRIOV_NET_VF:1",
	"--same-subtree", "_A,_B", "--group-policy", "isolate", "--limit", "10"}

// goldenStep is one command of the scenario. An empty name runs a setup
// command that must succeed, without a golden file.
type goldenStep struct {
	name string
	args []string
	code int
}

func args(s string) []string { return strings.Fields(s) }

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// TestGoldenPlacement runs every Placement command, in table and json
// formats (and the other formats on some), against a real server and
// compares the output with testdata/*.golden.
func TestGoldenPlacement(t *testing.T) {
	srv := startPlacement(t)
	p := "placement "
	reshapeFile := filepath.Join(t.TempDir(), "reshape.json")
	steps := []goldenStep{
		// Resource providers.
		{"rp-create", args(p + "resource-provider create cn1 --uuid " + uCN1), 0},
		{"rp-create-json", args(p + "resource-provider create cn2 --uuid " + uCN2 + " -f json"), 0},
		{"rp-create-child", args(p + "rp create cn1-numa0 --uuid " + uNUMA0 + " --parent-provider cn1"), 0},
		{"", args(p + "rp create cn1-numa1 --uuid " + uNUMA1 + " --parent-provider " + uCN1), 0},
		{"", args(p + "rp create cn1-numa0-pf0 --uuid " + uPF0 + " --parent-provider cn1-numa0"), 0},
		{"", args(p + "rp create cn1-numa1-pf1 --uuid " + uPF1 + " --parent-provider cn1-numa1"), 0},
		{"", args(p + "rp create shared-disk --uuid " + uDisk), 0},
		{"rp-list", args(p + "resource-provider list"), 0},
		{"rp-list-json", args(p + "resource-provider list -f json"), 0},
		{"rp-list-yaml", args(p + "resource-provider list -f yaml --in-tree cn1-numa1"), 0},
		{"rp-list-value", args(p + "resource-provider list -f value -c name -c uuid"), 0},
		{"rp-list-csv", args(p + "resource-provider list -f csv --name cn2"), 0},
		{"rp-list-fit", args(p + "resource-provider list --max-width 70 --uuid " + uCN1), 0},
		{"rp-show", args(p + "resource-provider show cn1-numa0"), 0},
		{"rp-show-json", args(p + "resource-provider show -f json " + uCN1), 0},
		{"", args(p + "rp create tmp --uuid " + uTmp), 0},
		{"rp-set", args(p + "resource-provider set tmp --name tmp2 --parent-provider cn2"), 0},
		{"rp-set-json", args(p + "resource-provider set tmp2 --no-parent -f json"), 0},
		{"rp-delete", args(p + "resource-provider delete tmp2"), 0},

		// Inventories.
		{"inv-set", with(args(p+"rp inventory set cn1 MEMORY_MB=16384,DISK_GB=100"), "--resource", "MEMORY_MB:reserved=512"), 0},
		{"inv-set-json", args(p + "rp inventory set cn1-numa0 VCPU=8 --resource VCPU:allocation_ratio=4.0 -f json"), 0},
		{"", args(p + "rp inventory set cn1-numa1 VCPU=8"), 0},
		{"", args(p + "rp inventory set cn1-numa0-pf0 SRIOV_NET_VF=8"), 0},
		{"", args(p + "rp inventory set cn1-numa1-pf1 SRIOV_NET_VF=8"), 0},
		{"", args(p + "rp inventory set cn2 VCPU=4,MEMORY_MB=4096"), 0},
		{"", args(p + "rp inventory set shared-disk DISK_GB=1000"), 0},
		{"inv-set-amend", args(p + "rp inventory set cn1 --amend DISK_GB:max_unit=50,DISK_GB:step_size=10"), 0},
		{"inv-set-dry-run", args(p + "rp inventory set cn1 --dry-run --resource VCPU=2 --resource VCPU:min_unit=2"), 0},
		{"inv-list", args(p + "resource-provider inventory list cn1"), 0},
		{"inv-list-json", args(p + "resource-provider inventory list cn1 -f json"), 0},
		{"inv-show", args(p + "resource-provider inventory show cn1-numa0 VCPU"), 0},
		{"inv-show-json", args(p + "resource-provider inventory show cn1-numa0 VCPU -f json"), 0},
		{"", args(p + "rp inventory set cn1 --amend VCPU=1"), 0},
		{"inv-delete", args(p + "resource-provider inventory delete cn1 --resource-class VCPU"), 0},
		{"inv-list-after-delete", args(p + "resource-provider inventory list cn1 -f value"), 0},

		// Resource classes.
		{"rc-create", args(p + "resource-class create CUSTOM_GOLD"), 0},
		{"rc-create-again", args(p + "resource-class create CUSTOM_GOLD"), 1},
		{"rc-set", args(p + "resource-class set CUSTOM_GOLD"), 0},
		{"rc-show", args(p + "resource-class show CUSTOM_GOLD"), 0},
		{"rc-show-json", args(p + "resource-class show CUSTOM_GOLD -f json"), 0},
		{"rc-list", args(p + "resource-class list"), 0},
		{"rc-list-json", args(p + "resource-class list -f json"), 0},
		{"rc-delete", args(p + "resource-class delete CUSTOM_GOLD"), 0},
		{"rc-delete-standard", args(p + "resource-class delete VCPU"), 1},

		// Traits.
		{"trait-create", args(p + "trait create CUSTOM_FAST"), 0},
		{"trait-show", args(p + "trait show CUSTOM_FAST"), 0},
		{"trait-show-json", args(p + "trait show CUSTOM_FAST -f json"), 0},
		{"trait-show-missing", args(p + "trait show CUSTOM_NOPE"), 1},
		{"trait-list", args(p + "trait list --name startswith:CUSTOM_"), 0},
		{"trait-list-json", args(p + "trait list --name in:CUSTOM_FAST,HW_CPU_X86_AVX2 -f json"), 0},
		{"rp-trait-set", args(p + "resource-provider trait set cn1 --trait HW_CPU_X86_AVX2 --trait CUSTOM_FAST"), 0},
		{"rp-trait-set-json", args(p + "resource-provider trait set cn2 --amend --trait COMPUTE_STATUS_DISABLED -f json"), 0},
		{"", args(p + "rp trait set shared-disk --trait MISC_SHARES_VIA_AGGREGATE"), 0},
		{"rp-trait-list", args(p + "resource-provider trait list cn1"), 0},
		{"rp-trait-list-json", args(p + "resource-provider trait list cn1 -f json"), 0},
		{"trait-list-associated", args(p + "trait list --associated -f value"), 0},
		{"trait-delete-in-use", args(p + "trait delete CUSTOM_FAST"), 1},
		{"", args(p + "trait create CUSTOM_SLOW"), 0},
		{"", args(p + "rp trait set cn1-numa1 --trait CUSTOM_SLOW"), 0},
		{"rp-trait-delete", args(p + "resource-provider trait delete cn1-numa1"), 0},
		{"trait-delete", args(p + "trait delete CUSTOM_SLOW"), 0},

		// Aggregates.
		{"agg-set", args(p + "resource-provider aggregate set cn1 --aggregate " + agg1), 0},
		{"agg-set-json", args(p + "resource-provider aggregate set shared-disk --aggregate " + agg1 + " --aggregate " + agg2 + " -f json"), 0},
		{"agg-list", args(p + "resource-provider aggregate list shared-disk"), 0},
		{"agg-list-json", args(p + "resource-provider aggregate list shared-disk -f json"), 0},
		{"agg-unset", args(p + "resource-provider aggregate unset shared-disk --aggregate " + agg2), 0},
		{"agg-set-stale", args(p + "resource-provider aggregate set cn1 --generation 0 --aggregate " + agg2), 1},

		// Allocation candidates.
		{"ac-seed", seedArgs, 0},
		{"ac-seed-json", with(seedArgs, "-f", "json"), 0},
		{"ac-osc", args(p + "allocation-candidate list --resource VCPU=1 --resource MEMORY_MB=512 --forbidden CUSTOM_FAST"), 0},
		{"ac-osc-group", args(p + "allocation-candidate list --resource MEMORY_MB=512 --group 1 --resource VCPU=2 --group 2 --resource SRIOV_NET_VF=1 --group-policy isolate --limit 3"), 0},
		{"ac-sharing", args(p + "allocation-candidate list --resources VCPU:1,DISK_GB:10 --member-of " + agg1), 0},
		{"ac-sharing-yaml", args(p + "allocation-candidate list --resources VCPU:1,DISK_GB:10 --member-of " + agg1 + " -f yaml"), 0},
		{"ac-value", args(p + "allocation-candidate list --resources VCPU:2 -f value"), 0},
		{"ac-csv", args(p + "allocation-candidate list --resources VCPU:2 -f csv -c # -c allocations"), 0},
		{"ac-root-required", with(args(p+"allocation-candidate list --resources VCPU:1 --limit 2"), "--root-required", "!COMPUTE_STATUS_DISABLED"), 0},
		{"ac-any-of", args(p + "allocation-candidate list --resources MEMORY_MB:1 --required HW_CPU_X86_AVX2,COMPUTE_STATUS_DISABLED"), 0},
		{"ac-empty", args(p + "allocation-candidate list --resources VCPU:1000"), 0},
		{"ac-empty-json", args(p + "allocation-candidate list --resources VCPU:1000 -f json"), 0},
		{"ac-bad-class", args(p + "allocation-candidate list --resources NOPE:1"), 1},

		// Allocations and usages.
		{"alloc-set", args(p + "allocation set " + consumer1 + " --allocation rp=cn1,MEMORY_MB=1024 --allocation rp=cn1-numa0,VCPU=2 --project-id p1 --user-id u1 --consumer-type INSTANCE"), 0},
		{"alloc-set-json", args(p + "allocation set " + consumer2 + " --allocation rp=cn2,VCPU=1,MEMORY_MB=512 --project-id p1 --user-id u2 --consumer-type MIGRATION -f json"), 0},
		{"alloc-show", args(p + "allocation show " + consumer1), 0},
		{"alloc-show-json", args(p + "allocation show " + consumer1 + " -f json"), 0},
		{"alloc-set-keep", args(p + "allocation set " + consumer1 + " --allocation rp=cn1,MEMORY_MB=2048 --allocation rp=cn1-numa0,VCPU=4"), 0},
		{"alloc-set-missing-project", args(p + "allocation set 1c000000-0000-0000-0000-000000000099 --allocation rp=cn1,MEMORY_MB=1"), 2},
		{"alloc-set-too-much", args(p + "allocation set " + consumer1 + " --allocation rp=cn1,MEMORY_MB=999999"), 1},
		{"rp-show-allocations", args(p + "resource-provider show cn1 --allocations"), 0},
		{"rp-show-allocations-json", args(p + "resource-provider show cn1 --allocations -f json"), 0},
		{"rp-usage", args(p + "resource-provider usage show cn1"), 0},
		{"rp-usage-json", args(p + "resource-provider usage show cn1 -f json"), 0},
		{"usage", args(p + "usage show --project-id p1"), 0},
		{"usage-json", args(p + "usage show --project-id p1 -f json"), 0},
		{"usage-all", args(p + "usage show --project-id p1 --consumer-type all"), 0},
		{"usage-user-v19", args(p + "usage show --project-id p1 --user-id u1 --os-placement-api-version 1.9"), 0},
		{"alloc-unset", args(p + "allocation unset " + consumer1 + " --resource-class MEMORY_MB"), 0},
		{"alloc-unset-json", args(p + "allocation unset " + consumer2 + " --provider cn2 -f json"), 0},
		{"alloc-delete", args(p + "allocation delete " + consumer1), 0},
		{"alloc-show-empty", args(p + "allocation show " + consumer1), 0},
		{"alloc-delete-again", args(p + "allocation delete " + consumer1), 1},

		// Reshaper: cn1-numa1-pf1 gains a VGPU inventory (the document is written just before).
		{"reshape", args(p + "reshape " + reshapeFile), 0},
		{"reshape-result", args(p + "resource-provider inventory list cn1-numa1-pf1"), 0},
		{"reshape-stale", args(p + "reshape " + reshapeFile), 1},

		// Older microversions: the client shapes requests and reads answers for them.
		{"v1.10-rp-list-json", args(p + "rp list --uuid " + uCN2 + " -f json --os-placement-api-version 1.10"), 0},
		{"v1.10-ac", args(p + "allocation-candidate list --resources VCPU:1,MEMORY_MB:1 --os-placement-api-version 1.10"), 0},
		{"v1.5-agg-set", args(p + "rp aggregate set cn2 --aggregate " + agg2 + " --os-placement-api-version 1.5"), 0},
		{"v1.10-alloc-set", args(p + "allocation set " + consumer1 + " --allocation rp=cn2,VCPU=1 --project-id p1 --user-id u1 --os-placement-api-version 1.10"), 0},
		{"v1.10-alloc-unset", args(p + "allocation unset " + consumer1 + " --os-placement-api-version 1.10"), 2},
		{"", args(p + "allocation delete " + consumer1), 0},

		// Errors.
		{"err-not-found", args(p + "resource-provider show " + uMissing), 1},
		{"err-no-such-name", args(p + "resource-provider show no-such-host"), 1},
		{"err-in-use", args(p + "resource-provider delete cn1"), 1},
		{"err-duplicate", args(p + "resource-provider create cn1"), 1},
		{"err-bad-resources", args(p + "allocation-candidate list --resources VCPU"), 2},
		{"err-no-resources", args(p + "allocation-candidate list --required HW_CPU_X86_AVX2"), 2},
		{"err-bad-format", args(p + "resource-provider list -f xml"), 2},
		{"err-bad-column", args(p + "resource-provider list -c nope"), 2},
		{"err-missing-arg", args(p + "resource-provider show"), 2},
		{"err-unknown-flag", args(p + "resource-provider list --bogus"), 2},
		{"err-unknown-command", args(p + "resource-providers-typo list"), 2},
		{"err-inventory-field", args(p + "rp inventory set cn1 VCPU:colour=blue"), 2},
		{"err-version", args(p + "rp list --os-placement-api-version one"), 2},
		{"err-version-too-high", args(p + "rp list --os-placement-api-version 1.99"), 1},
	}
	for _, step := range steps {
		if step.name == "reshape" {
			writeReshapeDoc(t, srv.URL, reshapeFile)
		}
		r := runCLI(t, srv.URL, step.args...)
		if r.code != step.code {
			t.Fatalf("allot %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", shellQuote(step.args), r.code, step.code, r.stdout, r.stderr)
		}
		if step.name != "" {
			got := strings.ReplaceAll(r.golden(step.args), reshapeFile, "reshape.json")
			checkGolden(t, step.name, got)
		}
	}
}

// writeReshapeDoc writes a reshaper document that gives cn1-numa1-pf1 a
// VGPU inventory next to its SR-IOV VFs and moves nothing, with the
// provider's current generation.
func writeReshapeDoc(t *testing.T, url, path string) {
	t.Helper()
	p, err := client.NewPlacement(url, client.Options{Token: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := p.GetInventories(context.Background(), uPF1)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"inventories": map[string]any{uPF1: map[string]any{
			"resource_provider_generation": inv.Generation,
			"inventories":                  map[string]any{"SRIOV_NET_VF": map[string]any{"total": 8}, "VGPU": map[string]any{"total": 2}},
		}},
		"allocations": map[string]any{},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
