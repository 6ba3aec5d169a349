package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"testing"

	"allot/internal/client"
	"allot/internal/model"
	"allot/internal/testserver"
)

const (
	rp1  = "c1000000-0000-0000-0000-000000000001"
	rp2  = "c1000000-0000-0000-0000-000000000002"
	agg  = "a1000000-0000-0000-0000-000000000001"
	cons = "cc000000-0000-0000-0000-000000000001"
)

func newClient(t *testing.T, url, version string) *client.Placement {
	t.Helper()
	p, err := client.NewPlacement(url, client.Options{Token: "admin", Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlacementClient drives every typed method against a real server.
func TestPlacementClient(t *testing.T) {
	srv := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	ctx := context.Background()
	p := newClient(t, srv.URL, "")

	v, err := p.Version(ctx)
	must(t, err)
	if v != model.V(1, 39) {
		t.Fatalf("latest is %v, want 1.39", v)
	}
	root, err := p.CreateProvider(ctx, client.NewProvider{Name: "cn1", UUID: rp1})
	must(t, err)
	child, err := p.CreateProvider(ctx, client.NewProvider{Name: "cn1-numa0", UUID: rp2, ParentProviderUUID: rp1})
	must(t, err)
	if root.RootProviderUUID != rp1 || child.ParentProviderUUID != rp1 || child.RootProviderUUID != rp1 {
		t.Fatalf("tree: %+v %+v", root, child)
	}
	found, err := p.FindProvider(ctx, "cn1-numa0")
	must(t, err)
	if found.UUID != rp2 {
		t.Fatalf("FindProvider by name: %+v", found)
	}
	var nf *client.NotFoundError
	if _, err := p.FindProvider(ctx, "nope"); !errors.As(err, &nf) {
		t.Fatalf("FindProvider(nope): %v", err)
	}

	invs, err := p.SetInventories(ctx, rp1, root.Generation, map[string]client.InventorySpec{
		"MEMORY_MB": {Total: ptr(int64(4096)), Reserved: ptr(int64(96))},
	})
	must(t, err)
	if inv := invs.Inventories["MEMORY_MB"]; inv.Total != 4096 || inv.Reserved != 96 || inv.MaxUnit != model.MaxInt || inv.AllocationRatio != 1 || inv.Capacity() != 4000 {
		t.Fatalf("inventory: %+v", invs)
	}
	got, err := p.UpdateInventory(ctx, rp1, "MEMORY_MB", invs.Generation, client.InventorySpec{Total: ptr(int64(8192)), AllocationRatio: ptr(1.5)})
	must(t, err)
	if got.Total != 8192 || got.AllocationRatio != 1.5 || got.Reserved != 0 {
		t.Fatalf("updated inventory: %+v", got)
	}
	numa, err := p.GetProvider(ctx, rp2)
	must(t, err)
	_, err = p.SetInventories(ctx, rp2, numa.Generation, map[string]client.InventorySpec{"VCPU": {Total: ptr(int64(8))}})
	must(t, err)
	if _, err := p.SetInventories(ctx, rp2, numa.Generation, nil); !client.IsConflict(err) {
		t.Fatalf("stale generation: %v", err)
	}

	_, err = p.CreateTrait(ctx, "CUSTOM_T1")
	must(t, err)
	pt, err := p.GetProviderTraits(ctx, rp1)
	must(t, err)
	pt, err = p.SetProviderTraits(ctx, rp1, pt.Generation, []string{"CUSTOM_T1", "HW_CPU_X86_AVX2"})
	must(t, err)
	traits, err := p.ListTraits(ctx, client.TraitFilter{Name: "startswith:CUSTOM_"})
	must(t, err)
	if !reflect.DeepEqual(traits, []string{"CUSTOM_T1"}) {
		t.Fatalf("traits: %v", traits)
	}
	pa, err := p.GetProviderAggregates(ctx, rp1)
	must(t, err)
	if !pa.HasGeneration {
		t.Fatal("no generation in aggregates at 1.39")
	}
	pa, err = p.SetProviderAggregates(ctx, rp1, &pa.Generation, []string{agg})
	must(t, err)
	if !reflect.DeepEqual(pa.Aggregates, []string{agg}) {
		t.Fatalf("aggregates: %+v", pa)
	}

	q := client.CandidateQuery{
		Groups: []client.RequestGroup{
			{Resources: []client.Resource{{Class: "MEMORY_MB", Amount: 1024}}, Required: []string{"HW_CPU_X86_AVX2"}, MemberOf: []string{agg}},
			{Suffix: "_CPU", Resources: []client.Resource{{Class: "VCPU", Amount: 2}}, InTree: rp1},
		},
		Limit: 5,
	}
	c, err := p.AllocationCandidates(ctx, q)
	must(t, err)
	if len(c.AllocationRequests) != 1 || c.Version != model.V(1, 39) {
		t.Fatalf("candidates: %+v", c)
	}
	ar := c.AllocationRequests[0]
	want := map[string]map[string]int64{rp1: {"MEMORY_MB": 1024}, rp2: {"VCPU": 2}}
	if !reflect.DeepEqual(ar.Allocations, want) || !reflect.DeepEqual(ar.Mappings["_CPU"], []string{rp2}) {
		t.Fatalf("allocation request: %+v", ar)
	}
	if s := c.ProviderSummaries[rp2]; s.ParentProviderUUID != rp1 || s.Resources["VCPU"].Capacity != 8 {
		t.Fatalf("summary: %+v", s)
	}
	var raw map[string]any
	must(t, json.Unmarshal(c.Raw, &raw))

	// The allocation request is a ready-made allocation body.
	must(t, p.SetAllocations(ctx, cons, client.AllocationWrite{Allocations: ar.Allocations, ProjectID: "p", UserID: "u", ConsumerType: "INSTANCE", Mappings: ar.Mappings}))
	ca, err := p.GetAllocations(ctx, cons)
	must(t, err)
	if ca.ConsumerGeneration == nil || *ca.ConsumerGeneration != 1 || ca.ProjectID != "p" || ca.ConsumerType != "INSTANCE" || ca.Allocations[rp2].Resources["VCPU"] != 2 {
		t.Fatalf("allocations: %+v", ca)
	}
	if err := p.SetAllocations(ctx, cons, client.AllocationWrite{Allocations: ar.Allocations, ProjectID: "p", UserID: "u", ConsumerType: "INSTANCE"}); !client.IsConflict(err) {
		t.Fatalf("write with a nil generation for an existing consumer: %v", err)
	}
	u, err := p.GetUsages(ctx, client.UsageQuery{ProjectID: "p"})
	must(t, err)
	if g := u.ByConsumerType["INSTANCE"]; g.ConsumerCount != 1 || g.Usages["VCPU"] != 2 || g.Usages["MEMORY_MB"] != 1024 {
		t.Fatalf("usages: %+v", u)
	}
	pu, err := p.GetProviderUsages(ctx, rp2)
	must(t, err)
	if pu.Usages["VCPU"] != 2 {
		t.Fatalf("provider usages: %+v", pu)
	}
	pallocs, err := p.GetProviderAllocations(ctx, rp2)
	must(t, err)
	if pallocs.Allocations[cons].Resources["VCPU"] != 2 {
		t.Fatalf("provider allocations: %+v", pallocs)
	}
	if err := p.DeleteProvider(ctx, rp2); !client.IsConflict(err) {
		t.Fatalf("delete a provider in use: %v", err)
	}
	must(t, p.DeleteAllocations(ctx, cons))
	if err := p.DeleteAllocations(ctx, cons); !client.IsNotFound(err) {
		t.Fatalf("delete again: %v", err)
	}

	// Reshape: move the VCPU inventory from the NUMA node to the host.
	numa, err = p.GetProvider(ctx, rp2)
	must(t, err)
	host, err := p.GetInventories(ctx, rp1)
	must(t, err)
	doc := map[string]any{
		"inventories": map[string]any{
			rp1: map[string]any{"resource_provider_generation": host.Generation, "inventories": map[string]any{"MEMORY_MB": map[string]any{"total": 8192}, "VCPU": map[string]any{"total": 8}}},
			rp2: map[string]any{"resource_provider_generation": numa.Generation, "inventories": map[string]any{}},
		},
		"allocations": map[string]any{},
	}
	must(t, p.Reshape(ctx, doc))
	host, err = p.GetInventories(ctx, rp1)
	must(t, err)
	if len(host.Inventories) != 2 {
		t.Fatalf("after reshape: %+v", host)
	}

	created, err := p.EnsureResourceClass(ctx, "CUSTOM_X")
	must(t, err)
	if !created {
		t.Fatal("EnsureResourceClass did not create CUSTOM_X")
	}
	if err := p.CreateResourceClass(ctx, "CUSTOM_X"); !client.IsConflict(err) {
		t.Fatalf("create an existing class: %v", err)
	}
	rc, err := p.GetResourceClass(ctx, "CUSTOM_X")
	must(t, err)
	if rc.Name != "CUSTOM_X" {
		t.Fatalf("resource class: %+v", rc)
	}
	must(t, p.DeleteResourceClass(ctx, "CUSTOM_X"))
	must(t, p.DeleteProviderTraits(ctx, rp1))
	must(t, p.DeleteTrait(ctx, "CUSTOM_T1"))
	if err := p.GetTrait(ctx, "CUSTOM_T1"); !client.IsNotFound(err) {
		t.Fatalf("deleted trait: %v", err)
	}
	must(t, p.DeleteInventories(ctx, rp1))
	must(t, p.DeleteProvider(ctx, rp2))
	renamed, err := p.UpdateProvider(ctx, rp1, client.ProviderUpdate{Name: "cn1-renamed"})
	must(t, err)
	if renamed.Name != "cn1-renamed" {
		t.Fatalf("rename: %+v", renamed)
	}
	rps, err := p.ListProviders(ctx, client.ProviderFilter{})
	must(t, err)
	if len(rps) != 1 {
		t.Fatalf("providers: %+v", rps)
	}
}

func ptr[T any](v T) *T { return &v }

// TestOldMicroversions checks the client against the API's older shapes:
// providers created without a body (before 1.20), bare-list aggregates
// (before 1.19), list-format allocations and candidates (before 1.12).
func TestOldMicroversions(t *testing.T) {
	srv := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	ctx := context.Background()
	p := newClient(t, srv.URL, "1.10")
	rp, err := p.CreateProvider(ctx, client.NewProvider{Name: "old", UUID: rp1})
	must(t, err)
	if rp.UUID != rp1 || rp.RootProviderUUID != "" {
		t.Fatalf("provider at 1.10: %+v", rp)
	}
	pa, err := p.GetProviderAggregates(ctx, rp1)
	must(t, err)
	if pa.HasGeneration {
		t.Fatal("generation in aggregates at 1.10")
	}
	pa, err = p.SetProviderAggregates(ctx, rp1, nil, []string{agg})
	must(t, err)
	if !reflect.DeepEqual(pa.Aggregates, []string{agg}) {
		t.Fatalf("aggregates: %+v", pa)
	}
	_, err = p.SetInventories(ctx, rp1, rp.Generation, map[string]client.InventorySpec{"VCPU": {Total: ptr(int64(4))}})
	must(t, err)
	c, err := p.AllocationCandidates(ctx, client.CandidateQuery{Groups: []client.RequestGroup{{Resources: []client.Resource{{Class: "VCPU", Amount: 1}}}}})
	must(t, err)
	if len(c.AllocationRequests) != 1 || c.AllocationRequests[0].Allocations[rp1]["VCPU"] != 1 || c.Version != model.V(1, 10) {
		t.Fatalf("candidates at 1.10: %+v", c)
	}
	must(t, p.SetAllocations(ctx, cons, client.AllocationWrite{Allocations: c.AllocationRequests[0].Allocations, ProjectID: "p", UserID: "u"}))
	ca, err := p.GetAllocations(ctx, cons)
	must(t, err)
	if ca.Allocations[rp1].Resources["VCPU"] != 1 {
		t.Fatalf("allocations at 1.10: %+v", ca)
	}
	u, err := p.GetUsages(ctx, client.UsageQuery{ProjectID: "p"})
	must(t, err)
	if u.Totals["VCPU"] != 1 || u.ByConsumerType != nil {
		t.Fatalf("usages at 1.10: %+v", u)
	}
}

// TestAllocationBodies checks the allocation write body per microversion.
func TestAllocationBodies(t *testing.T) {
	gen := int64(3)
	w := client.AllocationWrite{
		Allocations: map[string]map[string]int64{rp1: {"VCPU": 1}},
		ProjectID:   "p", UserID: "u", ConsumerGeneration: &gen, ConsumerType: "INSTANCE",
		Mappings: map[string][]string{"": {rp1}},
	}
	cases := []struct {
		v    model.Version
		want string
	}{
		{model.V(1, 0), `{"allocations":[{"resource_provider":{"uuid":"` + rp1 + `"},"resources":{"VCPU":1}}]}`},
		{model.V(1, 8), `{"allocations":[{"resource_provider":{"uuid":"` + rp1 + `"},"resources":{"VCPU":1}}],"project_id":"p","user_id":"u"}`},
		{model.V(1, 12), `{"allocations":{"` + rp1 + `":{"resources":{"VCPU":1}}},"project_id":"p","user_id":"u"}`},
		{model.V(1, 28), `{"allocations":{"` + rp1 + `":{"resources":{"VCPU":1}}},"consumer_generation":3,"project_id":"p","user_id":"u"}`},
		{model.V(1, 34), `{"allocations":{"` + rp1 + `":{"resources":{"VCPU":1}}},"consumer_generation":3,"mappings":{"":["` + rp1 + `"]},"project_id":"p","user_id":"u"}`},
		{model.V(1, 38), `{"allocations":{"` + rp1 + `":{"resources":{"VCPU":1}}},"consumer_generation":3,"consumer_type":"INSTANCE","mappings":{"":["` + rp1 + `"]},"project_id":"p","user_id":"u"}`},
	}
	for _, c := range cases {
		t.Run(c.v.String(), func(t *testing.T) {
			data, err := json.Marshal(w.Body(c.v))
			must(t, err)
			if string(data) != c.want {
				t.Errorf("body\n got %s\nwant %s", data, c.want)
			}
		})
	}
	w.ConsumerGeneration = nil
	data, _ := json.Marshal(w.Body(model.V(1, 28)))
	var m map[string]any
	must(t, json.Unmarshal(data, &m))
	if g, ok := m["consumer_generation"]; !ok || g != nil {
		t.Errorf("a new consumer must send consumer_generation: null, got %s", data)
	}
}

// TestCandidateQueryValues checks the query encoding.
func TestCandidateQueryValues(t *testing.T) {
	cases := []struct {
		name string
		q    client.CandidateQuery
		want url.Values
	}{
		{"empty", client.CandidateQuery{}, url.Values{}},
		{"seed", client.CandidateQuery{
			Groups: []client.RequestGroup{
				{Resources: []client.Resource{{"VCPU", 4}, {"MEMORY_MB", 2048}}, Required: []string{"HW_CPU_X86_AVX2"}, MemberOf: []string{agg}, InTree: rp1},
				{Suffix: "_A", Resources: []client.Resource{{"VCPU", 1}}},
				{Suffix: "_B", Required: []string{"in:A,B", "!C"}, MemberOf: []string{"!in:X,Y"}},
			},
			RootRequired: "!COMPUTE_STATUS_DISABLED", SameSubtree: []string{"_A,_B"}, GroupPolicy: "isolate", Limit: 10,
		}, url.Values{
			"resources": {"VCPU:4,MEMORY_MB:2048"}, "required": {"HW_CPU_X86_AVX2"}, "member_of": {agg}, "in_tree": {rp1},
			"resources_A": {"VCPU:1"}, "required_B": {"in:A,B", "!C"}, "member_of_B": {"!in:X,Y"},
			"root_required": {"!COMPUTE_STATUS_DISABLED"}, "same_subtree": {"_A,_B"}, "group_policy": {"isolate"}, "limit": {"10"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.q.Values(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestHeaders checks what every request carries, through a server that
// echoes the negotiated version, and that errors come back as *APIError.
func TestHeaders(t *testing.T) {
	srv := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	ctx := context.Background()
	cases := []struct {
		version string
		want    model.Version
	}{{"", model.V(1, 39)}, {"latest", model.V(1, 39)}, {"1.14", model.V(1, 14)}}
	for _, c := range cases {
		p := newClient(t, srv.URL, c.version)
		resp, err := p.Do(ctx, http.MethodGet, "/resource_providers", nil, nil)
		must(t, err)
		if resp.Version != c.want {
			t.Errorf("version %q: answered %v, want %v", c.version, resp.Version, c.want)
		}
	}
	p, err := client.NewPlacement(srv.URL, client.Options{Token: "someone"})
	must(t, err)
	_, err = p.ListProviders(ctx, client.ProviderFilter{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.RequestID == "" {
		t.Fatalf("non-admin token: %#v", err)
	}
	p, err = client.NewPlacement(srv.URL, client.Options{Token: "admin", Version: "1.99"})
	must(t, err)
	if _, err = p.ListProviders(ctx, client.ProviderFilter{}); !client.IsStatus(err, 406) {
		t.Fatalf("version 1.99: %v", err)
	}
	for _, bad := range []struct{ url, version string }{{"localhost:8778", ""}, {"ftp://h", ""}, {"http://h", "1"}, {"http://h", "one.two"}} {
		if _, err := client.NewPlacement(bad.url, client.Options{Version: bad.version}); err == nil {
			t.Errorf("NewPlacement(%q, %q) accepted", bad.url, bad.version)
		}
	}
}

// TestProviderFilterValues checks the provider list query.
func TestProviderFilterValues(t *testing.T) {
	f := client.ProviderFilter{Name: "n", MemberOf: []string{"a", "in:b,c"}, Resources: "VCPU:1", InTree: rp1, Required: []string{"T", "!U"}}
	got := f.Values()
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"in_tree", "member_of", "name", "required", "resources"}) || len(got["member_of"]) != 2 || len(got["required"]) != 2 {
		t.Errorf("values: %v", got)
	}
}
