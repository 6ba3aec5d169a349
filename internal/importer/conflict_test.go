package importer_test

import (
	"context"
	"strings"
	"testing"

	"allot/internal/client"
	"allot/internal/importer"
)

// problemsOf maps each skipped object to its reason.
func problemsOf(r *importer.Report) map[string]string {
	out := map[string]string{}
	for _, p := range r.Problems {
		out[p.Object] = p.Reason
	}
	return out
}

// wantProblems checks that exactly the objects named (by a part of their
// name) were skipped, each for a reason containing the text given.
func wantProblems(t *testing.T, r *importer.Report, want map[string]string) {
	t.Helper()
	got := problemsOf(r)
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(got), len(want), r.Problems)
	}
	for part, reason := range want {
		found := false
		for object, why := range got {
			if strings.Contains(object, part) {
				found = true
				if !strings.Contains(why, reason) {
					t.Errorf("%s skipped because %q, want a reason with %q", object, why, reason)
				}
			}
		}
		if !found {
			t.Errorf("no problem for %s (want %q); problems: %v", part, reason, r.Problems)
		}
	}
}

func TestImportProviderConflicts(t *testing.T) {
	from, to := startSQLite(t), startSQLite(t)
	c := newCloud(t, from.URL)
	ctx := context.Background()
	p := placementAt(t, to.URL, "1.39")
	// The target holds numa0's UUID as a root named otherwise, and another
	// provider under cn2's name.
	must[client.Provider](t)(p.CreateProvider(ctx, client.NewProvider{Name: "imposter", UUID: c.numa0}))
	other := must[client.Provider](t)(p.CreateProvider(ctx, client.NewProvider{Name: "cn2"}))
	src, dst := connect(t, from.URL, to.URL)

	r := run(t, src, dst, importer.Options{Workers: 2})
	wantProblems(t, r, map[string]string{
		c.numa0: "use --force",
		c.fpga:  "parent " + c.numa0 + " was not imported",
		c.cn2:   "another provider named \"cn2\" (" + other.UUID + ")",
		c.c1:    "not imported",
		c.c2:    "not imported",
		c.c3:    "not imported",
	})
	if r.Providers != (importer.Count{Created: 2, Skipped: 3}) || r.Consumers != (importer.Count{Skipped: 3}) {
		t.Errorf("providers %+v, consumers %+v", r.Providers, r.Consumers)
	}
	// Nothing of a skipped consumer reached the target.
	for _, consumer := range []string{c.c1, c.c2, c.c3} {
		if a := must[client.ConsumerAllocations](t)(p.GetAllocations(ctx, consumer)); len(a.Allocations) != 0 {
			t.Errorf("skipped consumer %s has allocations in the target: %v", consumer, a.Allocations)
		}
	}

	// --force fixes numa0 (renamed and moved under cn1) but not the name
	// held by another UUID.
	r = run(t, src, dst, importer.Options{Workers: 2, Force: true})
	wantProblems(t, r, map[string]string{
		c.cn2: "another provider named",
		c.c2:  "not imported",
		c.c3:  "not imported",
	})
	numa0 := must[client.Provider](t)(p.GetProvider(ctx, c.numa0))
	if numa0.Name != "cn1-numa0" || numa0.ParentProviderUUID != c.cn1 {
		t.Errorf("after --force numa0 is %+v, want name cn1-numa0 under %s", numa0, c.cn1)
	}

	// Once the operator removes the impostor, a rerun completes the import.
	if err := p.DeleteProvider(ctx, other.UUID); err != nil {
		t.Fatal(err)
	}
	r = run(t, src, dst, importer.Options{Workers: 2})
	if len(r.Problems) != 0 {
		t.Fatalf("problems after the fix: %v", r.Problems)
	}
	if diffs := differences(t, src, dst); len(diffs) != 0 {
		t.Fatalf("differences: %v", diffs)
	}
}

func TestImportConsumerConflict(t *testing.T) {
	from, to := startSQLite(t), startSQLite(t)
	c := newCloud(t, from.URL)
	src, dst := connect(t, from.URL, to.URL)
	run(t, src, dst, importer.Options{Workers: 2})
	// The target's c2 moves on: other allocations, another project.
	ctx := context.Background()
	p := placementAt(t, to.URL, "1.39")
	a := must[client.ConsumerAllocations](t)(p.GetAllocations(ctx, c.c2))
	err := p.SetAllocations(ctx, c.c2, client.AllocationWrite{Allocations: map[string]map[string]int64{c.cn2: {"VCPU": 3}},
		ProjectID: "elsewhere", UserID: a.UserID, ConsumerType: "MIGRATION", ConsumerGeneration: a.ConsumerGeneration})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, src, dst, importer.Options{Workers: 2})
	wantProblems(t, r, map[string]string{c.c2: "project elsewhere, the source's proj-c200"})
	if got := must[client.ConsumerAllocations](t)(p.GetAllocations(ctx, c.c2)); got.Allocations[c.cn2].Resources["VCPU"] != 3 {
		t.Errorf("without --force the target's consumer changed: %+v", got)
	}
	diffs := differences(t, src, dst)
	want := map[string][2]string{
		"project":                       {"proj-c200", "elsewhere"},
		"allocation " + c.cn2 + " VCPU": {"1", "3"},
		"usage VCPU":                    {"1", "3"},
	}
	if len(diffs) != len(want) {
		t.Errorf("differences %v, want %d", diffs, len(want))
	}
	for _, d := range diffs {
		w, ok := want[d.Field]
		if !ok || d.Source != w[0] || d.Target != w[1] {
			t.Errorf("unexpected difference %v", d)
		}
	}

	r = run(t, src, dst, importer.Options{Workers: 2, Force: true})
	if len(r.Problems) != 0 || r.Consumers != (importer.Count{Updated: 1, Unchanged: 2}) {
		t.Fatalf("--force: %+v", *r)
	}
	if diffs := differences(t, src, dst); len(diffs) != 0 {
		t.Fatalf("differences after --force: %v", diffs)
	}
}

// TestImportOverCapacity copies a source whose inventory was shrunk under
// its allocations: the consumer that no longer fits is skipped whole and
// reported; the rest is imported.
func TestImportOverCapacity(t *testing.T) {
	from, to := startSQLite(t), startSQLite(t)
	c := newCloud(t, from.URL)
	ctx := context.Background()
	sp := placementAt(t, from.URL, "1.39")
	big := "b1000000-0000-4000-8000-00000000000b"
	allocate(t, from.URL, big, "INSTANCE", map[string]map[string]int64{c.cn2: {"VCPU": 6}, c.share: {"DISK_GB": 50}})
	invs := must[client.Inventories](t)(sp.GetInventories(ctx, c.cn2))
	shrunk := invs.Inventories["VCPU"].Spec()
	four := int64(4)
	shrunk.Total = &four
	must[client.Inventory](t)(sp.UpdateInventory(ctx, c.cn2, "VCPU", invs.Generation, shrunk))

	src, dst := connect(t, from.URL, to.URL)
	r := run(t, src, dst, importer.Options{Workers: 2})
	wantProblems(t, r, map[string]string{big: "the target refused its allocations"})
	if r.Consumers != (importer.Count{Created: 3, Skipped: 1}) {
		t.Errorf("consumers %+v", r.Consumers)
	}
	p := placementAt(t, to.URL, "1.39")
	if a := must[client.ConsumerAllocations](t)(p.GetAllocations(ctx, big)); len(a.Allocations) != 0 {
		t.Errorf("the refused consumer is half there: %v", a.Allocations)
	}
	diffs := differences(t, src, dst)
	var fields []string
	for _, d := range diffs {
		fields = append(fields, d.Object+" "+d.Field)
	}
	want := []string{
		"resource provider " + c.share + " (ss1) usage DISK_GB",
		"resource provider " + c.cn2 + " (cn2) usage VCPU",
		"consumer " + big + " exists",
	}
	if len(diffs) != len(want) {
		t.Fatalf("differences %v, want %v", fields, want)
	}
	for _, w := range want {
		found := false
		for _, f := range fields {
			found = found || f == w
		}
		if !found {
			t.Errorf("no difference %q in %v", w, fields)
		}
	}
}

// TestImportSwappedName: the target holds a source provider's name on
// another source provider's UUID (a rename in the source after an earlier
// import): --force renames that one, and the next run creates the other.
func TestImportSwappedName(t *testing.T) {
	from, to := startSQLite(t), startSQLite(t)
	c := newCloud(t, from.URL)
	ctx := context.Background()
	p := placementAt(t, to.URL, "1.39")
	must[client.Provider](t)(p.CreateProvider(ctx, client.NewProvider{Name: "cn1", UUID: c.cn2}))
	src, dst := connect(t, from.URL, to.URL)

	r := run(t, src, dst, importer.Options{Workers: 2, Force: true})
	wantProblems(t, r, map[string]string{
		"(cn1)":            "which the source names \"cn2\"; import again once it is renamed",
		"(cn1-numa0)":      "was not imported",
		"(cn1-numa0-fpga)": "was not imported",
		c.c1:               "not imported",
		c.c3:               "not imported",
	})
	if got := must[client.Provider](t)(p.GetProvider(ctx, c.cn2)); got.Name != "cn2" {
		t.Errorf("--force left %s named %q, want cn2", c.cn2, got.Name)
	}
	r = run(t, src, dst, importer.Options{Workers: 2})
	if len(r.Problems) != 0 {
		t.Fatalf("second run: %v", r.Problems)
	}
	if diffs := differences(t, src, dst); len(diffs) != 0 {
		t.Fatalf("differences: %v", diffs)
	}
}
