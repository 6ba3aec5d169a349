package engine

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"allot/internal/model"
	"allot/internal/query"
)

// genCloud builds a synthetic cloud of about n providers: hosts with
// VCPU/MEMORY_MB (on the root, or on two NUMA children when nested), local
// disk on most hosts, sharing disk pools in host aggregates, CPU traits and
// some usage.
func genCloud(n int, nested bool) []model.ProviderState {
	var out []model.ProviderState
	id := int64(0)
	uuid := func() string { id++; return fmt.Sprintf("%08x-0000-4000-8000-%012x", id, id) }
	aggs := make([]string, max(2, n/500))
	for i := range aggs {
		aggs[i] = fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012x", i)
	}
	add := func(parent *model.ProviderState) *model.ProviderState {
		u := uuid()
		p := model.ProviderState{Provider: model.Provider{ID: id, UUID: u, Name: u}}
		if parent != nil {
			p.ParentID, p.ParentUUID, p.RootID, p.RootUUID = parent.ID, parent.UUID, parent.RootID, parent.RootUUID
		} else {
			p.RootID, p.RootUUID = p.ID, p.UUID
		}
		out = append(out, p)
		return &out[len(out)-1]
	}
	for i := 0; i < len(aggs); i++ {
		sp := add(nil)
		sp.Inventories = []model.Inventory{{ResourceClass: "DISK_GB", Total: 200000, MinUnit: 1, MaxUnit: 20000, StepSize: 1, AllocationRatio: 1}}
		sp.Traits = []string{model.SharesViaAggregate}
		sp.Aggregates = []string{aggs[i]}
	}
	perHost := 1
	if nested {
		perHost = 3
	}
	for i := 0; len(out)+perHost <= n; i++ {
		root := add(nil)
		root.Aggregates = []string{aggs[i%len(aggs)]}
		root.Traits = []string{"HW_CPU_X86_AVX2"}
		if i%3 == 0 {
			root.Traits = append(root.Traits, "HW_CPU_X86_AVX512F")
		}
		if i%20 == 0 {
			root.Traits = append(root.Traits, "COMPUTE_STATUS_DISABLED")
		}
		if i%5 != 0 {
			root.Inventories = append(root.Inventories, model.Inventory{ResourceClass: "DISK_GB", Total: 1600, Reserved: 10, MinUnit: 1, MaxUnit: 1600, StepSize: 1, AllocationRatio: 1, Used: int64(i % 400)})
		}
		vcpu := model.Inventory{ResourceClass: "VCPU", Total: 64, MinUnit: 1, MaxUnit: 64, StepSize: 1, AllocationRatio: 4, Used: int64(i % 64)}
		mem := model.Inventory{ResourceClass: "MEMORY_MB", Total: 262144, Reserved: 4096, MinUnit: 1, MaxUnit: 262144, StepSize: 1, AllocationRatio: 1, Used: int64(i%32) * 2048}
		if !nested {
			root.Inventories = append(root.Inventories, vcpu, mem)
			continue
		}
		rootCopy := *root
		for k := 0; k < 2; k++ {
			numa := add(&rootCopy)
			numa.Traits = []string{"HW_NUMA_ROOT"}
			v, m := vcpu, mem
			v.Total, v.MaxUnit, m.Total, m.MaxUnit = 32, 32, 131072, 131072
			numa.Inventories = []model.Inventory{v, m}
		}
	}
	return out
}

var benchTraits = []string{"HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F", "COMPUTE_STATUS_DISABLED", "HW_NUMA_ROOT", "CUSTOM_PHYSNET", model.SharesViaAggregate}

func benchEngine(cloud []model.ProviderState) *Engine {
	e := New()
	e.Apply(Update{Revision: 1, Full: true, Providers: cloud,
		Classes: []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_VF", "CUSTOM_UNIT"}, Traits: benchTraits})
	e.prepare()
	return e
}

// rssMiB reads the process's resident set size (Linux).
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// heapMiB is the live heap after two collections (the second frees what
// sync.Pool victim caches, such as recycled result arenas, still held).
func heapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkCandidates runs typical queries on generated clouds of 1k, 10k
// and 100k providers, flat and nested, with sharing providers, capped at
// 10,000 candidates as allot serve is by default.
func BenchmarkCandidates(b *testing.B) {
	queries := []struct {
		name string
		q    query.Candidates
	}{
		{"simple_limit1000", query.Candidates{Limit: 1000, NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}},
		{"simple_all", query.Candidates{NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}},
		{"traits_limit1000", query.Candidates{Limit: 1000, NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}},
				Required: query.TraitExpr{AllOf: [][]string{{"HW_CPU_X86_AVX512F"}}, Forbidden: []string{"COMPUTE_STATUS_DISABLED"}}}}}},
	}
	nestedQ := query.Candidates{Limit: 1000, GroupPolicy: "isolate", NestedAware: true, Groups: []query.Group{
		{Resources: []query.Amount{{Class: "DISK_GB", Amount: 20}}},
		{Suffix: "1", Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}}, Required: query.TraitExpr{AllOf: [][]string{{"HW_NUMA_ROOT"}}}},
		{Suffix: "2", Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}}, Required: query.TraitExpr{AllOf: [][]string{{"HW_NUMA_ROOT"}}}},
	}}
	for _, size := range []int{1000, 10000, 100000} {
		for _, nested := range []bool{false, true} {
			shape := "flat"
			if nested {
				shape = "nested"
			}
			cloud := genCloud(size, nested)
			e := benchEngine(cloud)
			qs := queries
			if nested {
				qs = append(qs, struct {
					name string
					q    query.Candidates
				}{"numa_isolate_limit1000", nestedQ})
			}
			for _, tc := range qs {
				b.Run(fmt.Sprintf("%s/%dk/%s", shape, size/1000, tc.name), func(b *testing.B) {
					var n int
					for i := 0; i < b.N; i++ {
						res, err := e.Candidates(tc.q, SearchOptions{MaxCandidates: 10000})
						if err != nil {
							b.Fatal(err)
						}
						n = len(res.Requests)
					}
					b.ReportMetric(float64(n), "candidates")
				})
			}
		}
	}
}

// BenchmarkIndexMemory reports the heap the index takes at 100k providers.
func BenchmarkIndexMemory(b *testing.B) {
	for _, nested := range []bool{false, true} {
		b.Run(fmt.Sprintf("100k/nested=%v", nested), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				before := heapMiB()
				cloud := genCloud(100000, nested)
				e := benchEngine(cloud)
				cloud = nil
				after := heapMiB()
				b.ReportMetric(after-before, "MiB")
				b.ReportMetric(rssMiB(), "RSS_MiB")
				b.ReportMetric(float64(e.Len()), "providers")
			}
		})
	}
}

// wideTree builds the wide-tree cases of SPEC E: hosts whose children each
// hold a few units of one class.
func wideTree(hosts, children, units int, usedEvery int) []model.ProviderState {
	var out []model.ProviderState
	id := int64(0)
	for h := 0; h < hosts; h++ {
		id++
		root := model.ProviderState{Provider: model.Provider{ID: id, UUID: fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012x", id)}}
		root.RootID, root.RootUUID = root.ID, root.UUID
		out = append(out, root)
		for c := 0; c < children; c++ {
			id++
			p := model.ProviderState{Provider: model.Provider{ID: id, UUID: fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012x", id),
				ParentID: root.ID, ParentUUID: root.UUID, RootID: root.ID, RootUUID: root.UUID}}
			inv := model.Inventory{ResourceClass: "CUSTOM_VF", Total: int64(units), MinUnit: 1, MaxUnit: int64(units), StepSize: 1, AllocationRatio: 1}
			if usedEvery > 0 && c%usedEvery == 0 {
				inv.Used = 1
			}
			p.Inventories = []model.Inventory{inv}
			out = append(out, p)
		}
	}
	return out
}

func wideQuery(groups int, policy string) query.Candidates {
	q := query.Candidates{GroupPolicy: policy, NestedAware: true}
	for g := 1; g <= groups; g++ {
		q.Groups = append(q.Groups, query.Group{Suffix: fmt.Sprint(g), Resources: []query.Amount{{Class: "CUSTOM_VF", Amount: 1}}})
	}
	return q
}

// BenchmarkWideTrees: 1 host with 8 single-unit children and 8 granular
// groups (Placement: ~12 s at a cap of 1000), and 2 hosts x 8 PFs x 8 VFs
// with 6 groups (~10 s), both capped at 1000 candidates.
func BenchmarkWideTrees(b *testing.B) {
	cases := []struct {
		name  string
		cloud []model.ProviderState
		q     query.Candidates
	}{
		{"1host_8children_8groups_isolate", wideTree(1, 8, 1, 0), wideQuery(8, "isolate")},
		{"1host_8children_8groups_none", wideTree(1, 8, 1, 0), wideQuery(8, "none")},
		{"2hosts_8pf_8vf_6groups", wideTree(2, 8, 8, 0), wideQuery(6, "none")},
	}
	for _, tc := range cases {
		e := benchEngine(tc.cloud)
		b.Run(tc.name, func(b *testing.B) {
			var n int
			start := time.Now()
			for i := 0; i < b.N; i++ {
				res, err := e.Candidates(tc.q, SearchOptions{MaxCandidates: 1000})
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Requests)
			}
			b.ReportMetric(float64(n), "candidates")
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/query")
		})
	}
}

// TestWideTreesAreClaimable checks that every candidate of the wide-tree
// cases fits the capacity left by existing usage, and that they answer in
// bounded time with the cap.
func TestWideTreesAreClaimable(t *testing.T) {
	for _, tc := range []struct {
		cloud []model.ProviderState
		q     query.Candidates
	}{
		{wideTree(1, 8, 1, 3), wideQuery(8, "isolate")},
		{wideTree(1, 8, 1, 3), wideQuery(6, "isolate")},
		{wideTree(2, 8, 8, 2), wideQuery(6, "none")},
		{wideTree(1, 8, 2, 1), wideQuery(8, "none")},
	} {
		e := benchEngine(tc.cloud)
		start := time.Now()
		res, err := e.Candidates(tc.q, SearchOptions{MaxCandidates: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("wide tree took %v", d)
		}
		inv := map[string]model.Inventory{}
		for _, p := range tc.cloud {
			for _, in := range p.Inventories {
				inv[p.UUID] = in
			}
		}
		for _, r := range res.Requests {
			for _, pa := range r.Allocations {
				for _, a := range pa.Amounts {
					in := inv[pa.UUID]
					if !in.CanAllocateCombined(a.Amount) {
						t.Fatalf("candidate over capacity on %s: used %d + %d > %d", pa.UUID, in.Used, a.Amount, in.Capacity())
					}
				}
			}
		}
	}
}

// BenchmarkExplain compares an explained search with the plain one on the
// queries of BenchmarkCandidates at 10k providers (the budget: at most 2x),
// and a query no tree satisfies (every tree examined, nearest misses).
func BenchmarkExplain(b *testing.B) {
	queries := map[string]query.Candidates{
		"simple_limit1000": {Limit: 1000, NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}},
		"traits_limit1000": {Limit: 1000, NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}},
				Required: query.TraitExpr{AllOf: [][]string{{"HW_CPU_X86_AVX512F"}}, Forbidden: []string{"COMPUTE_STATUS_DISABLED"}}}}},
		"none_fit": {NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 200}, {Class: "MEMORY_MB", Amount: 4096}}}}},
		"numa_isolate_limit1000": {Limit: 1000, GroupPolicy: "isolate", NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "DISK_GB", Amount: 20}}},
			{Suffix: "1", Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}}, Required: query.TraitExpr{AllOf: [][]string{{"HW_NUMA_ROOT"}}}},
			{Suffix: "2", Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}}, Required: query.TraitExpr{AllOf: [][]string{{"HW_NUMA_ROOT"}}}},
		}},
	}
	for _, nested := range []bool{false, true} {
		shape := "flat"
		if nested {
			shape = "nested"
		}
		e := benchEngine(genCloud(10000, nested))
		for _, name := range []string{"simple_limit1000", "traits_limit1000", "none_fit", "numa_isolate_limit1000"} {
			q := queries[name]
			if name == "numa_isolate_limit1000" && !nested {
				continue
			}
			for _, explained := range []bool{false, true} {
				mode := "plain"
				if explained {
					mode = "explained"
				}
				b.Run(fmt.Sprintf("%s/10k/%s/%s", shape, name, mode), func(b *testing.B) {
					opts := SearchOptions{MaxCandidates: 10000}
					for i := 0; i < b.N; i++ {
						var res *Result
						var err error
						if explained {
							res, _, err = e.Explain(q, opts)
						} else {
							res, err = e.Candidates(q, opts)
						}
						if err != nil {
							b.Fatal(err)
						}
						res.Release()
					}
				})
			}
		}
	}
}
