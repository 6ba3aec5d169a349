package placementapi_test

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// wantSummary computes a provider's summary as GET /allocation_candidates
// should render it at version (1.27 or later), from the provider's own
// endpoints.
func wantSummary(t *testing.T, p *testserver.Placement, rp, version string) map[string]any {
	t.Helper()
	invs := p.Must(200, "GET", "/resource_providers/"+rp+"/inventories", "1.39", nil).JSON()["inventories"].(map[string]any)
	usages := p.Must(200, "GET", "/resource_providers/"+rp+"/usages", "1.39", nil).JSON()["usages"].(map[string]any)
	resources := map[string]any{}
	for class, v := range invs {
		in := v.(map[string]any)
		capacity := int64((in["total"].(float64) - in["reserved"].(float64)) * in["allocation_ratio"].(float64))
		resources[class] = map[string]any{"capacity": float64(capacity), "used": usages[class]}
	}
	traits := []any{}
	for _, tr := range p.Must(200, "GET", "/resource_providers/"+rp+"/traits", "1.39", nil).JSON()["traits"].([]any) {
		traits = append(traits, tr)
	}
	sort.Slice(traits, func(i, j int) bool { return traits[i].(string) < traits[j].(string) })
	want := map[string]any{"resources": resources, "traits": traits}
	if version >= "1.29" {
		prov := p.Must(200, "GET", "/resource_providers/"+rp, "1.39", nil).JSON()
		want["parent_provider_uuid"] = prov["parent_provider_uuid"]
		want["root_provider_uuid"] = prov["root_provider_uuid"]
	}
	return want
}

// checkSummaries queries candidates at version and checks that every
// provider summary in the answer is the provider's current state, and
// that the answer names each of mustName.
func checkSummaries(t *testing.T, p *testserver.Placement, query, version string, mustName ...string) {
	t.Helper()
	sums := p.Must(200, "GET", "/allocation_candidates?"+query, version, nil).JSON()["provider_summaries"].(map[string]any)
	for _, rp := range mustName {
		if sums[rp] == nil {
			t.Errorf("%s at %s: no summary of %s in %v", query, version, rp, sums)
		}
	}
	for rp, got := range sums {
		got := got.(map[string]any)
		sort.Slice(got["traits"], func(i, j int) bool {
			tr := got["traits"].([]any)
			return tr[i].(string) < tr[j].(string)
		})
		if want := wantSummary(t, p, rp, version); !reflect.DeepEqual(got, want) {
			t.Errorf("%s at %s: summary of %s\n got %v\nwant %v", query, version, rp, got, want)
		}
	}
}

// Rendered summaries are kept between answers, but never served for a
// provider that changed since: after each change of inventory, usage,
// traits or tree, the next full answer shows the provider as it is.
func TestCandidateSummariesFollowChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		host := createProvider(t, p, "host", "")
		numa := createProvider(t, p, "numa", host)
		host2 := createProvider(t, p, "host2", "")
		hostGen := setInventory(t, p, host, 0, map[string]any{"VCPU": map[string]any{"total": 8}, "DISK_GB": map[string]any{"total": 100, "reserved": 10}})
		numaGen := setInventory(t, p, numa, 0, map[string]any{"MEMORY_MB": map[string]any{"total": 4096, "allocation_ratio": 1.5}})
		setInventory(t, p, host2, 0, map[string]any{"VCPU": map[string]any{"total": 4}})
		p.Must(201, "PUT", "/traits/CUSTOM_FAST", "1.39", nil)
		check := func(step string, mustName ...string) {
			t.Helper()
			// Twice each: the first answer may fill the memo, the second
			// is served from it. Before 1.29 a group is not satisfied
			// across a tree, and only the providers used are summarised.
			for range 2 {
				checkSummaries(t, p, "resources=VCPU:1", "1.27", host, host2)
				for _, v := range []string{"1.29", "1.39"} {
					checkSummaries(t, p, "resources=VCPU:1,MEMORY_MB:512", v, mustName...)
				}
			}
			if t.Failed() {
				t.Fatalf("after %s", step)
			}
		}
		check("setup", host, numa)

		hostGen = setInventory(t, p, host, hostGen, map[string]any{"VCPU": map[string]any{"total": 16}, "DISK_GB": map[string]any{"total": 100, "reserved": 10}})
		check("inventory change", host, numa)

		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", map[string]any{
			"allocations": map[string]any{host: map[string]any{"resources": map[string]int{"VCPU": 3}}, numa: map[string]any{"resources": map[string]int{"MEMORY_MB": 1024}}},
			"project_id":  "p1", "user_id": "u1", "consumer_generation": nil, "consumer_type": "INSTANCE"})
		check("allocation", host, numa)

		numaGen += 1 // the allocation bumped it
		numaGen = int(p.Must(200, "PUT", "/resource_providers/"+numa+"/traits", "1.39",
			map[string]any{"resource_provider_generation": numaGen, "traits": []string{"CUSTOM_FAST", "HW_NUMA_ROOT"}}).JSON()["resource_provider_generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+host+"/traits", "1.39",
			map[string]any{"resource_provider_generation": hostGen + 1, "traits": []string{"CUSTOM_FAST"}})
		check("traits", host, numa)

		// numa moves to host2's tree: its parent and root change.
		p.Must(200, "PUT", "/resource_providers/"+numa, "1.39", map[string]any{"name": "numa", "parent_provider_uuid": host2})
		check("reparent", host2, numa)
	})
}

// Queries racing with writes never see a fragment of an older state once
// the writes are done (run with -race).
func TestCandidateSummariesUnderConcurrentWrites(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	var hosts []string
	for i := range 4 {
		rp := createProvider(t, p, fmt.Sprintf("host%d", i), "")
		setInventory(t, p, rp, 0, map[string]any{"VCPU": map[string]any{"total": 8}})
		hosts = append(hosts, rp)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p.Must(200, "GET", "/allocation_candidates?resources=VCPU:1", "1.39", nil)
			}
		}()
	}
	for round := 1; round <= 10; round++ {
		for _, rp := range hosts {
			gen := int(p.Must(200, "GET", "/resource_providers/"+rp, "1.39", nil).JSON()["generation"].(float64))
			setInventory(t, p, rp, gen, map[string]any{"VCPU": map[string]any{"total": 8 + round}})
		}
	}
	close(stop)
	wg.Wait()
	checkSummaries(t, p, "resources=VCPU:1", "1.39", hosts...)
	checkSummaries(t, p, "resources=VCPU:1", "1.39", hosts...)
}
