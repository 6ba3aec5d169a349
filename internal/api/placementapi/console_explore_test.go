package placementapi_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/testserver"
)

// consoleCloud seeds two trees, a flat host and a sharing provider, with
// aggregates on roots, a child and the sharing provider, and a consumer
// of each type; it returns the providers by name.
func consoleCloud(t *testing.T, p *testserver.Placement) map[string]string {
	t.Helper()
	rp := map[string]string{}
	rp["Host-A"] = createProvider(t, p, "Host-A", "")
	rp["host-a-numa0"] = createProvider(t, p, "host-a-numa0", rp["Host-A"])
	rp["host-b"] = createProvider(t, p, "host-b", "")
	rp["rack2-c"] = createProvider(t, p, "rack2-c", "")
	rp["nfs"] = createProvider(t, p, "nfs", "")
	setInventory(t, p, rp["Host-A"], 0, map[string]any{"MEMORY_MB": map[string]any{"total": 4096, "reserved": 512}})
	setInventory(t, p, rp["host-a-numa0"], 0, map[string]any{"VCPU": map[string]any{"total": 8, "allocation_ratio": 2.0}})
	setInventory(t, p, rp["host-b"], 0, map[string]any{"VCPU": map[string]any{"total": 4}, "MEMORY_MB": map[string]any{"total": 2048}})
	setInventory(t, p, rp["rack2-c"], 0, map[string]any{"VCPU": map[string]any{"total": 16, "reserved": 2}})
	setInventory(t, p, rp["nfs"], 0, map[string]any{"DISK_GB": map[string]any{"total": 1000}})
	aggX, aggY := uuid.NewString(), uuid.NewString()
	aggs := map[string][]string{"Host-A": {aggX}, "host-a-numa0": {aggY}, "host-b": {aggX, aggY}, "nfs": {aggY}}
	for name, list := range aggs {
		gen := int(p.Must(200, "GET", "/resource_providers/"+rp[name], "1.39", nil).JSON()["generation"].(float64))
		p.Must(200, "PUT", "/resource_providers/"+rp[name]+"/aggregates", "1.39", map[string]any{"resource_provider_generation": gen, "aggregates": list})
	}
	gen := int(p.Must(200, "GET", "/resource_providers/"+rp["nfs"], "1.39", nil).JSON()["generation"].(float64))
	p.Must(200, "PUT", "/resource_providers/"+rp["nfs"]+"/traits", "1.39", map[string]any{"resource_provider_generation": gen, "traits": []string{model.SharesViaAggregate}})
	gen = int(p.Must(200, "GET", "/resource_providers/"+rp["rack2-c"], "1.39", nil).JSON()["generation"].(float64))
	p.Must(200, "PUT", "/resource_providers/"+rp["rack2-c"]+"/traits", "1.39", map[string]any{"resource_provider_generation": gen, "traits": []string{"HW_CPU_X86_AVX2"}})
	for i, c := range []struct {
		rp   string
		res  map[string]int
		kind string
	}{{"host-a-numa0", map[string]int{"VCPU": 12}, "INSTANCE"}, {"host-b", map[string]int{"VCPU": 1, "MEMORY_MB": 512}, "MIGRATION"}, {"Host-A", map[string]int{"MEMORY_MB": 1024}, ""}} {
		body := claim(rp[c.rp], c.res, nil)
		body["user_id"] = "u" + string(rune('1'+i))
		version := "1.39"
		if c.kind == "" {
			delete(body, "consumer_type")
			version = "1.37" // a consumer of unknown type
		} else {
			body["consumer_type"] = c.kind
		}
		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), version, body)
	}
	return rp
}

// apiProvider is what the standard endpoints say of one provider.
type apiProvider struct {
	UUID, Name, Root string
	Aggregates       []string
	Traits           []string
	Inventories      map[string]struct {
		Total, Reserved int64
		Ratio           float64 `json:"allocation_ratio"`
	}
	Usages map[string]int64
}

// apiProviders reads every provider from the standard endpoints.
func apiProviders(t *testing.T, p *testserver.Placement) []apiProvider {
	t.Helper()
	var list struct {
		Providers []struct {
			UUID string `json:"uuid"`
			Name string `json:"name"`
			Root string `json:"root_provider_uuid"`
		} `json:"resource_providers"`
	}
	decode(t, p.Must(200, "GET", "/resource_providers", "1.39", nil).Body, &list)
	var out []apiProvider
	for _, rp := range list.Providers {
		a := apiProvider{UUID: rp.UUID, Name: rp.Name, Root: rp.Root}
		base := "/resource_providers/" + rp.UUID
		var aggs struct{ Aggregates []string }
		var traits struct{ Traits []string }
		var invs struct {
			Inventories map[string]struct {
				Total, Reserved int64
				Ratio           float64 `json:"allocation_ratio"`
			}
		}
		var usages struct{ Usages map[string]int64 }
		decode(t, p.Must(200, "GET", base+"/aggregates", "1.39", nil).Body, &aggs)
		decode(t, p.Must(200, "GET", base+"/traits", "1.39", nil).Body, &traits)
		decode(t, p.Must(200, "GET", base+"/inventories", "1.39", nil).Body, &invs)
		decode(t, p.Must(200, "GET", base+"/usages", "1.39", nil).Body, &usages)
		a.Aggregates, a.Traits, a.Inventories, a.Usages = aggs.Aggregates, traits.Traits, invs.Inventories, usages.Usages
		out = append(out, a)
	}
	return out
}

func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
}

// addTo adds one provider's inventory of class to a class's sums.
func addTo(c *model.ClassCapacity, a apiProvider, class string) {
	inv := a.Inventories[class]
	capacity := int64(float64(inv.Total-inv.Reserved) * inv.Ratio)
	c.Providers++
	c.Total += inv.Total
	c.Reserved += inv.Reserved
	c.Capacity += capacity
	c.Used += a.Usages[class]
	c.Free += max(capacity-a.Usages[class], 0)
}

// The console's extensions: per-aggregate capacity, every tree's share of
// a class, the provider search, sharing relations and a provider's
// consumers, each against what the standard endpoints say; their bad
// queries and policy; on both stores.
func TestConsoleExploreEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		rp := consoleCloud(t, p)
		all := apiProviders(t, p)
		byUUID := map[string]apiProvider{}
		for _, a := range all {
			byUUID[a.UUID] = a
		}

		t.Run("aggregates", func(t *testing.T) {
			// A provider counts in its own aggregates and its root's.
			want := map[string]map[string]*model.ClassCapacity{}
			members := map[string]int{}
			for _, a := range all {
				aggs := slices.Clone(a.Aggregates)
				if a.Root != a.UUID {
					for _, g := range byUUID[a.Root].Aggregates {
						if !slices.Contains(aggs, g) {
							aggs = append(aggs, g)
						}
					}
				}
				for _, g := range aggs {
					members[g]++
					if want[g] == nil {
						want[g] = map[string]*model.ClassCapacity{}
					}
					for class := range a.Inventories {
						if want[g][class] == nil {
							want[g][class] = &model.ClassCapacity{ResourceClass: class}
						}
						addTo(want[g][class], a, class)
					}
				}
			}
			var got model.AggregateCapacities
			decode(t, p.Must(200, "GET", "/allot/v1/capacity/aggregates", "", nil).Body, &got)
			if got.Count != len(want) || len(got.Aggregates) != len(want) {
				t.Fatalf("%d aggregates (count %d), want %d", len(got.Aggregates), got.Count, len(want))
			}
			for i, g := range got.Aggregates {
				if i > 0 && got.Aggregates[i-1].UUID >= g.UUID {
					t.Errorf("aggregates out of UUID order: %s before %s", got.Aggregates[i-1].UUID, g.UUID)
				}
				if g.Providers != members[g.UUID] || len(g.Classes) != len(want[g.UUID]) {
					t.Errorf("aggregate %s: %d providers, %d classes; want %d, %d", g.UUID, g.Providers, len(g.Classes), members[g.UUID], len(want[g.UUID]))
				}
				for _, c := range g.Classes {
					if w := want[g.UUID][c.ResourceClass]; w == nil || c != *w {
						t.Errorf("aggregate %s: %+v, want %+v", g.UUID, c, w)
					}
				}
			}
			// Pages of one are the whole list in order.
			var paged []string
			for off := 0; off < got.Count+1; off++ {
				var page model.AggregateCapacities
				decode(t, p.Must(200, "GET", "/allot/v1/capacity/aggregates?limit=1&offset="+strconv.Itoa(off), "", nil).Body, &page)
				for _, g := range page.Aggregates {
					paged = append(paged, g.UUID)
				}
			}
			var whole []string
			for _, g := range got.Aggregates {
				whole = append(whole, g.UUID)
			}
			if !slices.Equal(paged, whole) {
				t.Errorf("pages %v, whole %v", paged, whole)
			}
		})

		t.Run("roots", func(t *testing.T) {
			type tree struct {
				name           string
				capacity, used int64
			}
			trees := map[string]*tree{}
			for _, a := range all {
				if inv, ok := a.Inventories["VCPU"]; ok {
					tr := trees[a.Root]
					if tr == nil {
						tr = &tree{name: byUUID[a.Root].Name}
						trees[a.Root] = tr
					}
					tr.capacity += int64(float64(inv.Total-inv.Reserved) * inv.Ratio)
					tr.used += a.Usages["VCPU"]
				}
			}
			roots := make([]string, 0, len(trees))
			for u := range trees {
				roots = append(roots, u)
			}
			slices.SortFunc(roots, func(a, b string) int { return strings.Compare(trees[a].name, trees[b].name) })
			var got model.RootShares
			decode(t, p.Must(200, "GET", "/allot/v1/capacity/roots?resource_class=VCPU&limit=2&offset=1", "", nil).Body, &got)
			if got.Count != len(roots) || len(got.UsedPermille) != len(roots) || got.Offset != 1 || len(got.Roots) != min(2, len(roots)-1) {
				t.Fatalf("roots %+v, want %d trees", got, len(roots))
			}
			for i, u := range roots {
				if want := trees[u].used * 1000 / trees[u].capacity; got.UsedPermille[i] != want {
					t.Errorf("tree %s: %d‰ used, want %d", trees[u].name, got.UsedPermille[i], want)
				}
			}
			for i, r := range got.Roots {
				w := trees[roots[1+i]]
				if r.UUID != roots[1+i] || r.Name != w.name || r.Capacity != w.capacity || r.Used != w.used {
					t.Errorf("page row %d: %+v, want %s %+v", i, r, roots[1+i], *w)
				}
			}
			decode(t, p.Must(200, "GET", "/allot/v1/capacity/roots?resource_class=CUSTOM_NOBODY", "", nil).Body, &got)
			if got.Count != 0 || len(got.UsedPermille) != 0 || len(got.Roots) != 0 {
				t.Errorf("a class nobody has: %+v", got)
			}
		})

		t.Run("search", func(t *testing.T) {
			search := func(q string) (count int, found []string) {
				t.Helper()
				var ans struct {
					Count     int `json:"count"`
					Providers []struct {
						UUID string `json:"uuid"`
					} `json:"resource_providers"`
				}
				decode(t, p.Must(200, "GET", "/allot/v1/resource_providers?"+q, "", nil).Body, &ans)
				for _, f := range ans.Providers {
					found = append(found, f.UUID)
				}
				return ans.Count, found
			}
			// expect lists, in name order, the providers keep accepts.
			expect := func(keep func(a apiProvider) bool) []string {
				var out []apiProvider
				for _, a := range all {
					if keep(a) {
						out = append(out, a)
					}
				}
				slices.SortFunc(out, func(a, b apiProvider) int { return strings.Compare(a.Name, b.Name) })
				ids := []string{}
				for _, a := range out {
					ids = append(ids, a.UUID)
				}
				return ids
			}
			prefix := rp["rack2-c"][:6]
			for _, c := range []struct {
				q    string
				keep func(a apiProvider) bool
			}{
				{"name=HOST-a", func(a apiProvider) bool { return strings.Contains(strings.ToLower(a.Name), "host-a") }},
				{"name=o", func(a apiProvider) bool { return strings.Contains(strings.ToLower(a.Name), "o") }},
				{"uuid=" + strings.ToUpper(prefix), func(a apiProvider) bool { return strings.HasPrefix(a.UUID, prefix) }},
				{"required=HW_CPU_X86_AVX2", func(a apiProvider) bool { return slices.Contains(a.Traits, "HW_CPU_X86_AVX2") }},
				{"name=host&member_of=" + byUUID[rp["host-b"]].Aggregates[0], func(a apiProvider) bool {
					return strings.Contains(strings.ToLower(a.Name), "host") && slices.Contains(a.Aggregates, byUUID[rp["host-b"]].Aggregates[0])
				}},
				{"", func(apiProvider) bool { return true }},
			} {
				want := expect(c.keep)
				count, got := search(c.q)
				if count != len(want) || !slices.Equal(got, want) {
					t.Errorf("%q: %d %v, want %v", c.q, count, got, want)
				}
				// One at a time, the pages are the same list.
				var paged []string
				for off := 0; off < len(want); off++ {
					_, one := search(c.q + "&limit=1&offset=" + strconv.Itoa(off))
					paged = append(paged, one...)
				}
				if !slices.Equal(paged, want) {
					t.Errorf("%q a page at a time: %v, want %v", c.q, paged, want)
				}
			}
		})

		t.Run("sharing", func(t *testing.T) {
			var nfs, hostA, rack model.Sharing
			decode(t, p.Must(200, "GET", "/allot/v1/resource_providers/"+rp["nfs"]+"/sharing", "", nil).Body, &nfs)
			decode(t, p.Must(200, "GET", "/allot/v1/resource_providers/"+rp["host-a-numa0"]+"/sharing", "", nil).Body, &hostA)
			decode(t, p.Must(200, "GET", "/allot/v1/resource_providers/"+rp["rack2-c"]+"/sharing", "", nil).Body, &rack)
			// nfs shares aggregate Y with host-a-numa0 (Host-A's tree), host-b
			// and itself.
			serves := func(s model.Sharing) (out []string) {
				for _, r := range s.Serves {
					out = append(out, r.Name)
				}
				return out
			}
			if !nfs.Shares || !slices.Equal(nfs.Aggregates, byUUID[rp["nfs"]].Aggregates) || nfs.ServesCount != 3 ||
				!slices.Equal(serves(nfs), []string{"Host-A", "host-b", "nfs"}) {
				t.Errorf("nfs: %+v", nfs)
			}
			if hostA.Shares || len(hostA.SharedBy) != 1 || hostA.SharedBy[0].UUID != rp["nfs"] {
				t.Errorf("host-a-numa0: %+v, want shared by nfs", hostA)
			}
			if rack.Shares || len(rack.SharedBy) != 0 || len(rack.Serves) != 0 {
				t.Errorf("rack2-c: %+v, want no sharing", rack)
			}
			var one model.Sharing
			decode(t, p.Must(200, "GET", "/allot/v1/resource_providers/"+rp["nfs"]+"/sharing?limit=1", "", nil).Body, &one)
			if len(one.Serves) != 1 || one.ServesCount != 3 {
				t.Errorf("limit=1: %+v", one)
			}
			p.Must(404, "GET", "/allot/v1/resource_providers/"+uuid.NewString()+"/sharing", "", nil)
		})

		t.Run("consumers", func(t *testing.T) {
			for _, name := range []string{"host-a-numa0", "host-b", "Host-A"} {
				var standard struct {
					Allocations map[string]struct {
						Resources map[string]int64 `json:"resources"`
					} `json:"allocations"`
				}
				decode(t, p.Must(200, "GET", "/resource_providers/"+rp[name]+"/allocations", "1.39", nil).Body, &standard)
				var got struct {
					Count     int `json:"count"`
					Consumers []struct {
						UUID      string           `json:"consumer_uuid"`
						Project   string           `json:"project_id"`
						User      string           `json:"user_id"`
						Type      string           `json:"consumer_type"`
						Resources map[string]int64 `json:"resources"`
					} `json:"consumers"`
				}
				decode(t, p.Must(200, "GET", "/allot/v1/resource_providers/"+rp[name]+"/consumers", "", nil).Body, &got)
				if got.Count != len(standard.Allocations) || len(got.Consumers) != len(standard.Allocations) {
					t.Fatalf("%s: %+v, GET allocations %+v", name, got, standard)
				}
				for _, c := range got.Consumers {
					var cons struct {
						Project string `json:"project_id"`
						User    string `json:"user_id"`
						Type    string `json:"consumer_type"`
					}
					decode(t, p.Must(200, "GET", "/allocations/"+c.UUID, "1.38", nil).Body, &cons)
					if c.Project != cons.Project || c.User != cons.User || c.Type != cons.Type {
						t.Errorf("%s consumer %s: %s/%s/%s, GET /allocations says %+v", name, c.UUID, c.Project, c.User, c.Type, cons)
					}
					if !maps.Equal(c.Resources, standard.Allocations[c.UUID].Resources) {
						t.Errorf("%s consumer %s: %v, GET allocations %v", name, c.UUID, c.Resources, standard.Allocations[c.UUID].Resources)
					}
				}
			}
			var types []string
			for _, name := range []string{"host-a-numa0", "host-b", "Host-A"} {
				r := p.Must(200, "GET", "/allot/v1/resource_providers/"+rp[name]+"/consumers", "", nil)
				for _, c := range r.JSON()["consumers"].([]any) {
					types = append(types, c.(map[string]any)["consumer_type"].(string))
				}
			}
			slices.Sort(types)
			if !slices.Equal(types, []string{"INSTANCE", "MIGRATION", "unknown"}) {
				t.Errorf("consumer types %v", types)
			}
			p.Must(404, "GET", "/allot/v1/resource_providers/"+uuid.NewString()+"/consumers", "", nil)
		})

		t.Run("bad queries", func(t *testing.T) {
			for _, path := range []string{
				"/allot/v1/capacity/aggregates?limit=0", "/allot/v1/capacity/aggregates?limit=1001", "/allot/v1/capacity/aggregates?offset=-1",
				"/allot/v1/capacity/aggregates?x=1", "/allot/v1/capacity/aggregates?limit=1&limit=2",
				"/allot/v1/capacity/roots", "/allot/v1/capacity/roots?resource_class=VCPU&offset=x", "/allot/v1/capacity/roots?resource_class=%zz",
				"/allot/v1/resource_providers?uuid=xyz", "/allot/v1/resource_providers?name=a&name=b", "/allot/v1/resource_providers?in_tree=" + rp["nfs"],
				"/allot/v1/resource_providers?required=NO_SUCH_TRAIT_FORMAT!", "/allot/v1/resource_providers?member_of=nope",
				"/allot/v1/resource_providers?name=" + strings.Repeat("n", 201), "/allot/v1/resource_providers?limit=abc",
				"/allot/v1/resource_providers/" + rp["nfs"] + "/sharing?limit=0", "/allot/v1/resource_providers/" + rp["nfs"] + "/consumers?all=1",
			} {
				r := p.Must(400, "GET", path, "", nil)
				errs, _ := r.JSON()["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["detail"] == "" {
					t.Errorf("%s: %s", path, r.Body)
				}
			}
		})

		t.Run("policy", func(t *testing.T) {
			for _, path := range []string{"/allot/v1/capacity/aggregates", "/allot/v1/capacity/roots?resource_class=VCPU", "/allot/v1/resource_providers",
				"/allot/v1/resource_providers/" + rp["nfs"] + "/sharing", "/allot/v1/resource_providers/" + rp["nfs"] + "/consumers"} {
				if status, body := getAs(t, p, path, map[string]string{"X-Auth-Token": "user"}); status != http.StatusForbidden {
					t.Errorf("%s: a non-admin got %d %s, want 403", path, status, body)
				}
			}
		})
	})
}
