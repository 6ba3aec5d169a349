package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"allot/internal/client"
	"allot/internal/importer"
	"allot/internal/model"
	"allot/internal/testserver"
)

// cloud is a small nested cloud with a sharing provider, written to a
// Placement through its API.
type cloud struct {
	cn1, numa0, fpga, share, cn2 string
	c1, c2, c3                   string
}

const agg1 = "11111111-1111-4111-8111-111111111111"

// placementAt returns a client of url at microversion v.
func placementAt(t *testing.T, url, v string) *client.Placement {
	t.Helper()
	p, err := client.NewPlacement(url, client.Options{Token: "admin", Version: v})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// provider creates a provider with inventories, traits and aggregates.
func provider(t *testing.T, p *client.Placement, name, parent string, invs map[string]client.InventorySpec, traits, aggs []string) string {
	t.Helper()
	ctx := context.Background()
	rp := must[client.Provider](t)(p.CreateProvider(ctx, client.NewProvider{Name: name, ParentProviderUUID: parent}))
	gen := rp.Generation
	if invs != nil {
		gen = must[client.Inventories](t)(p.SetInventories(ctx, rp.UUID, gen, invs)).Generation
	}
	if traits != nil {
		gen = must[client.ProviderTraits](t)(p.SetProviderTraits(ctx, rp.UUID, gen, traits)).Generation
	}
	if aggs != nil {
		must[client.ProviderAggregates](t)(p.SetProviderAggregates(ctx, rp.UUID, &gen, aggs))
	}
	return rp.UUID
}

func inv(total int64) client.InventorySpec { return client.InventorySpec{Total: &total} }

func invRatio(total, reserved int64, ratio float64) client.InventorySpec {
	return client.InventorySpec{Total: &total, Reserved: &reserved, AllocationRatio: &ratio}
}

// allocate writes a consumer's allocations; an empty consumerType writes
// at microversion 1.37, leaving the consumer without a type.
func allocate(t *testing.T, url, consumer, consumerType string, allocs map[string]map[string]int64) {
	t.Helper()
	v := "1.39"
	if consumerType == "" {
		v = "1.37"
	}
	err := placementAt(t, url, v).SetAllocations(context.Background(), consumer, client.AllocationWrite{
		Allocations: allocs, ProjectID: "proj-" + consumer[:4], UserID: "user-" + consumer[:4], ConsumerType: consumerType})
	if err != nil {
		t.Fatal(err)
	}
}

// newCloud writes the cloud to the Placement at url.
func newCloud(t *testing.T, url string) cloud {
	t.Helper()
	ctx := context.Background()
	p := placementAt(t, url, "1.39")
	must[bool](t)(p.EnsureResourceClass(ctx, "CUSTOM_FPGA"))
	must[bool](t)(p.CreateTrait(ctx, "CUSTOM_RACK_1"))
	var c cloud
	c.cn1 = provider(t, p, "cn1", "", map[string]client.InventorySpec{"DISK_GB": invRatio(500, 10, 1)},
		[]string{"HW_CPU_X86_AVX2", "CUSTOM_RACK_1"}, []string{agg1})
	c.numa0 = provider(t, p, "cn1-numa0", c.cn1, map[string]client.InventorySpec{
		"VCPU": invRatio(8, 0, 4), "MEMORY_MB": invRatio(16384, 512, 1.5)}, []string{"HW_NUMA_ROOT"}, nil)
	c.fpga = provider(t, p, "cn1-numa0-fpga", c.numa0, map[string]client.InventorySpec{"CUSTOM_FPGA": inv(2)}, nil, nil)
	c.share = provider(t, p, "ss1", "", map[string]client.InventorySpec{"DISK_GB": inv(1000)},
		[]string{model.SharesViaAggregate}, []string{agg1})
	c.cn2 = provider(t, p, "cn2", "", map[string]client.InventorySpec{"VCPU": inv(8), "MEMORY_MB": inv(8192)}, nil, nil)
	c.c1 = "c1000000-0000-4000-8000-000000000001"
	c.c2 = "c2000000-0000-4000-8000-000000000002"
	c.c3 = "c3000000-0000-4000-8000-000000000003"
	allocate(t, url, c.c1, "INSTANCE", map[string]map[string]int64{
		c.numa0: {"VCPU": 2, "MEMORY_MB": 1024}, c.share: {"DISK_GB": 100}, c.fpga: {"CUSTOM_FPGA": 1}})
	allocate(t, url, c.c2, "MIGRATION", map[string]map[string]int64{c.cn2: {"VCPU": 1}})
	allocate(t, url, c.c3, "", map[string]map[string]int64{c.cn2: {"MEMORY_MB": 512}, c.cn1: {"DISK_GB": 20}})
	return c
}

// connect returns the two services of an import.
func connect(t *testing.T, srcURL, dstURL string) (*importer.Service, *importer.Service) {
	t.Helper()
	ctx := context.Background()
	src, err := importer.Connect(ctx, "source", importer.Endpoint{URL: srcURL, Options: client.Options{Token: "admin"}}, importer.MinSourceVersion)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := importer.Connect(ctx, "target", importer.Endpoint{URL: dstURL, Options: client.Options{Token: "admin"}}, importer.MinTargetVersion)
	if err != nil {
		t.Fatal(err)
	}
	return src, dst
}

// run imports and returns the report, failing the test on an error.
func run(t *testing.T, src, dst *importer.Service, opts importer.Options) *importer.Report {
	t.Helper()
	r, err := importer.ImportPlacement(context.Background(), src, dst, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// differences compares the two services.
func differences(t *testing.T, src, dst *importer.Service) []importer.Difference {
	t.Helper()
	diffs, err := importer.Verify(context.Background(), src, dst, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	return diffs
}

func startSQLite(t *testing.T) *testserver.Placement {
	return testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
}

func TestImportCopiesEverything(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			from := startSQLite(t)
			to := testserver.StartPlacement(t, testserver.OpenStore(t, backend))
			c := newCloud(t, from.URL)
			src, dst := connect(t, from.URL, to.URL)
			r := run(t, src, dst, importer.Options{Workers: 3})
			want := importer.Report{
				Classes:   importer.Count{Created: 1},
				Traits:    importer.Count{Created: 1},
				Providers: importer.Count{Created: 5},
				Consumers: importer.Count{Created: 3},
			}
			if r.Classes != want.Classes || r.Traits != want.Traits || r.Providers != want.Providers || r.Consumers != want.Consumers || len(r.Problems) != 0 {
				t.Fatalf("report %+v, want %+v", *r, want)
			}
			if diffs := differences(t, src, dst); len(diffs) != 0 {
				t.Fatalf("differences after the import: %v", diffs)
			}
			// Read the target directly too, not only through Compare.
			ctx := context.Background()
			p := placementAt(t, to.URL, "1.39")
			fpga := must[client.Provider](t)(p.GetProvider(ctx, c.fpga))
			if fpga.Name != "cn1-numa0-fpga" || fpga.ParentProviderUUID != c.numa0 || fpga.RootProviderUUID != c.cn1 {
				t.Errorf("fpga provider %+v: want name cn1-numa0-fpga, parent %s, root %s", fpga, c.numa0, c.cn1)
			}
			for consumer, wantType := range map[string]string{c.c1: "INSTANCE", c.c2: "MIGRATION", c.c3: "unknown"} {
				a := must[client.ConsumerAllocations](t)(p.GetAllocations(ctx, consumer))
				if a.ConsumerType != wantType || a.ProjectID != "proj-"+consumer[:4] || a.UserID != "user-"+consumer[:4] {
					t.Errorf("consumer %s: type %q project %q user %q, want %q proj-%s user-%s",
						consumer, a.ConsumerType, a.ProjectID, a.UserID, wantType, consumer[:4], consumer[:4])
				}
			}
			u := must[client.ProviderUsages](t)(p.GetProviderUsages(ctx, c.share))
			if u.Usages["DISK_GB"] != 100 {
				t.Errorf("sharing provider's DISK_GB usage %d, want 100", u.Usages["DISK_GB"])
			}

			// A second run finds everything in place and writes nothing.
			r = run(t, src, dst, importer.Options{Workers: 2})
			if r.Providers != (importer.Count{Unchanged: 5}) || r.Consumers != (importer.Count{Unchanged: 3}) ||
				r.Classes != (importer.Count{Unchanged: 1}) || r.Traits != (importer.Count{Unchanged: 1}) {
				t.Errorf("second run %+v: want everything unchanged", *r)
			}
		})
	}
}

// TestImportResumes interrupts imports at several points and checks that
// the rerun completes them.
func TestImportResumes(t *testing.T) {
	for _, stop := range []struct {
		step string
		done int
	}{
		{"import providers", 1},
		{"import providers", 3},
		{"import consumers", 1},
		{"import consumers", 2},
	} {
		t.Run(strings.ReplaceAll(stop.step, " ", "_")+"_"+string(rune('0'+stop.done)), func(t *testing.T) {
			from, to := startSQLite(t), startSQLite(t)
			newCloud(t, from.URL)
			src, dst := connect(t, from.URL, to.URL)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := importer.ImportPlacement(ctx, src, dst, importer.Options{Workers: 1, Progress: func(p importer.Progress) {
				if p.Step == stop.step && p.Done == stop.done {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted import: error %v, want context.Canceled", err)
			}
			if diffs := differences(t, src, dst); len(diffs) == 0 {
				t.Fatal("the interrupted import left no difference: it was not interrupted")
			}
			r := run(t, src, dst, importer.Options{Workers: 2})
			if len(r.Problems) != 0 {
				t.Fatalf("rerun problems: %v", r.Problems)
			}
			if r.Providers.Unchanged+r.Providers.Updated == 0 && stop.step == "import consumers" {
				t.Errorf("rerun %+v: the providers written before the interruption should be found", r.Providers)
			}
			if diffs := differences(t, src, dst); len(diffs) != 0 {
				t.Fatalf("differences after the rerun: %v", diffs)
			}
		})
	}
}
