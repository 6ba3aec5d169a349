package cloudgen_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"allot/internal/cloudgen"
	"allot/internal/model"
	"allot/internal/store"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// Load writes what the spec asks, on both stores: the providers, hosts,
// children and pools counted back from the store; every usage counter
// equals the allocations on it; the consumers are all there; and the
// cloud answers the default query of "allot bench mixed" through the API.
func TestLoad(t *testing.T) {
	specs := []cloudgen.Spec{
		{Hosts: 7},
		{Hosts: 150, Allocations: 401},
		{Hosts: 30, Nested: true, Allocations: 61},
		{Hosts: 250, Sharing: true, Allocations: 999},
		{Hosts: 120, Nested: true, Sharing: true, Allocations: 240},
	}
	for _, backend := range testserver.Backends {
		for i, spec := range specs {
			spec.Prefix = fmt.Sprintf("load%d", i)
			name := fmt.Sprintf("%s/%+v", backend, spec)
			t.Run(name, func(t *testing.T) {
				st := testserver.OpenStore(t, backend)
				var progress []int
				rep, err := cloudgen.Load(context.Background(), st, spec, func(hosts int) { progress = append(progress, hosts) })
				if err != nil {
					t.Fatal(err)
				}
				if want := (cloudgen.Report{Providers: spec.Providers(), Hosts: spec.Hosts, Pools: spec.Pools(), Consumers: spec.Allocations}); rep != want {
					t.Errorf("report %+v, want %+v", rep, want)
				}
				if len(progress) == 0 || progress[len(progress)-1] != spec.Hosts {
					t.Errorf("progress %v, want it to end at %d", progress, spec.Hosts)
				}
				checkCloud(t, st, spec)
				checkQuery(t, st, spec)
			})
		}
	}
}

// checkCloud reads the whole store back and compares it with the spec.
func checkCloud(t *testing.T, st *store.Store, spec cloudgen.Spec) {
	t.Helper()
	ctx := context.Background()
	var roots, children, pools int
	consumers := map[string]bool{}
	used := map[string]int64{} // class -> units allocated in the cloud
	err := st.Read(ctx, func(tx *store.Tx) error {
		all, err := tx.AllProviders(ctx)
		if err != nil {
			return err
		}
		if len(all) != spec.Providers() {
			t.Errorf("%d providers, want %d", len(all), spec.Providers())
		}
		for _, p := range all {
			traits, err := tx.ProviderTraits(ctx, p.ID)
			if err != nil {
				return err
			}
			names := map[string]bool{}
			for _, tr := range traits {
				names[tr.Name] = true
			}
			aggs, err := tx.ProviderAggregates(ctx, p.ID)
			if err != nil {
				return err
			}
			switch {
			case p.ParentID != 0:
				children++
				if len(traits) != 1 || !names[cloudgen.TraitAll] || len(aggs) != 0 {
					t.Errorf("child %s has traits %v and aggregates %v", p.Name, traits, aggs)
				}
			case names[model.SharesViaAggregate]:
				pools++
				if len(aggs) != 1 {
					t.Errorf("pool %s is in %d aggregates", p.Name, len(aggs))
				}
			default:
				roots++
				if !names[cloudgen.TraitAll] {
					t.Errorf("host %s lacks %s: %v", p.Name, cloudgen.TraitAll, traits)
				}
				wantAggs := 1
				if spec.Sharing {
					wantAggs = 2
				}
				if len(aggs) != wantAggs {
					t.Errorf("host %s is in %d aggregates, want %d", p.Name, len(aggs), wantAggs)
				}
			}
			invs, err := tx.Inventories(ctx, p.ID)
			if err != nil {
				return err
			}
			allocs, err := tx.ProviderAllocations(ctx, p.ID)
			if err != nil {
				return err
			}
			onIt := map[string]int64{}
			for _, a := range allocs {
				onIt[a.ResourceClass] += a.Used
				used[a.ResourceClass] += a.Used
				consumers[a.ConsumerUUID] = true
			}
			for _, inv := range invs {
				if inv.Used != onIt[inv.ResourceClass] {
					t.Errorf("%s: %s usage counter %d, allocations %d", p.Name, inv.ResourceClass, inv.Used, onIt[inv.ResourceClass])
				}
				if inv.Used > inv.Capacity() {
					t.Errorf("%s: %s over capacity: %d of %d", p.Name, inv.ResourceClass, inv.Used, inv.Capacity())
				}
				delete(onIt, inv.ResourceClass)
			}
			if len(onIt) != 0 {
				t.Errorf("%s: allocations without an inventory: %v", p.Name, onIt)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantChildren := 0
	if spec.Nested {
		wantChildren = spec.Hosts * cloudgen.NUMANodes
	}
	if roots != spec.Hosts || children != wantChildren || pools != spec.Pools() {
		t.Errorf("%d hosts, %d children, %d pools; want %d, %d, %d", roots, children, pools, spec.Hosts, wantChildren, spec.Pools())
	}
	if len(consumers) != spec.Allocations {
		t.Errorf("%d consumers with allocations, want %d", len(consumers), spec.Allocations)
	}
	n := int64(spec.Allocations)
	want := map[string]int64{"VCPU": n * cloudgen.ConsumerVCPU, "MEMORY_MB": n * cloudgen.ConsumerMemoryMB, "DISK_GB": n * cloudgen.ConsumerDiskGB}
	if spec.Allocations == 0 {
		want = map[string]int64{}
	}
	if fmt.Sprint(used) != fmt.Sprint(want) {
		t.Errorf("allocated %v, want %v", used, want)
	}
}

// checkQuery asks the Placement API over the loaded store the default
// query of "allot bench mixed": a full page of candidates.
func checkQuery(t *testing.T, st *store.Store, spec cloudgen.Spec) {
	t.Helper()
	p := testserver.StartPlacement(t, st)
	got := p.Must(200, "GET", "/allocation_candidates?"+cloudgen.DefaultQuery, "1.39", nil).JSON()
	q, _ := url.ParseQuery(cloudgen.DefaultQuery)
	want := min(spec.Hosts, 10)
	if q.Get("limit") != "10" {
		t.Fatalf("the default query %q is not a limit=10 query", cloudgen.DefaultQuery)
	}
	if n := len(got["allocation_requests"].([]any)); n != want {
		t.Errorf("the default query found %d candidates, want %d", n, want)
	}
	// At 1.38+ usages are per consumer type, with the consumer count.
	if spec.Allocations > 0 {
		usages := p.Must(200, "GET", "/usages?project_id=bench", "1.39", nil).JSON()["usages"].(map[string]any)
		inst, _ := usages["INSTANCE"].(map[string]any)
		if inst["VCPU"] != float64(spec.Allocations*cloudgen.ConsumerVCPU) || inst["consumer_count"] != float64(spec.Allocations) {
			t.Errorf("project usages %v after %d allocations", usages, spec.Allocations)
		}
	}
}

// A spec that cannot be written is refused before anything is; a second
// load with the same prefix fails on its first transaction and leaves the
// store as it was.
func TestLoadRefuses(t *testing.T) {
	for _, c := range []struct {
		spec cloudgen.Spec
		want string
	}{
		{cloudgen.Spec{Hosts: 10}, "prefix must not be empty"},
		{cloudgen.Spec{Prefix: "x"}, "number of providers must be positive"},
		{cloudgen.Spec{Prefix: "x", Hosts: 1, Allocations: -1}, "must not be negative"},
		{cloudgen.Spec{Prefix: "x", Hosts: 2, Allocations: 2*cloudgen.MaxPerHost + 1}, "do not fit on 2 hosts"},
		{cloudgen.Spec{Prefix: strings.Repeat("p", 190), Hosts: 1}, "prefix is too long"},
	} {
		if err := c.spec.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.spec, err, c.want)
		}
	}
	for _, backend := range testserver.Backends {
		st := testserver.OpenStore(t, backend)
		spec := cloudgen.Spec{Prefix: "twice", Hosts: 3, Allocations: 3}
		if _, err := cloudgen.Load(context.Background(), st, spec, nil); err != nil {
			t.Fatal(err)
		}
		rev, err := st.Revision(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, err = cloudgen.Load(context.Background(), st, spec, nil)
		if !model.IsKind(err, model.KindConflict) {
			t.Errorf("%s: loading the same prefix twice: %v, want a conflict", backend, err)
		}
		// The catalog transaction may commit (it creates nothing new);
		// the hosts' transaction must not.
		checkCloud(t, st, spec)
		if after, _ := st.Revision(context.Background()); after != rev {
			t.Errorf("%s: revision %d after the refused load, was %d", backend, after, rev)
		}
	}
}
