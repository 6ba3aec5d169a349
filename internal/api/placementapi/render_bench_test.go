package placementapi

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"allot/internal/engine"
	"allot/internal/model"
	"allot/internal/query"
)

// renderCloud is a synthetic cloud of n hosts, each with VCPU, MEMORY_MB
// and DISK_GB and two traits, on the root or (nested) with VCPU and
// MEMORY_MB on two NUMA children.
func renderCloud(n int, nested bool) []model.ProviderState {
	var out []model.ProviderState
	id := int64(0)
	add := func(parent *model.Provider) model.Provider {
		id++
		u := fmt.Sprintf("%08x-0000-4000-8000-%012x", id, id)
		p := model.Provider{ID: id, UUID: u, Name: u, RootID: id, RootUUID: u}
		if parent != nil {
			p.ParentID, p.ParentUUID, p.RootID, p.RootUUID = parent.ID, parent.UUID, parent.RootID, parent.RootUUID
		}
		return p
	}
	inv := func(class string, total, used int64) model.Inventory {
		return model.Inventory{ResourceClass: class, Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1, Used: used}
	}
	for i := 0; i < n; i++ {
		root := model.ProviderState{Provider: add(nil), Traits: []string{"HW_CPU_X86_AVX2", "CUSTOM_RACK_" + fmt.Sprint(i%40)}}
		root.Inventories = []model.Inventory{inv("DISK_GB", 1600, int64(i%400))}
		if !nested {
			root.Inventories = append(root.Inventories, inv("VCPU", 64, int64(i%64)), inv("MEMORY_MB", 262144, int64(i%32)*2048))
			out = append(out, root)
			continue
		}
		out = append(out, root)
		for range 2 {
			numa := model.ProviderState{Provider: add(&root.Provider), Traits: []string{"HW_NUMA_ROOT"}}
			numa.Inventories = []model.Inventory{inv("VCPU", 32, int64(i%32)), inv("MEMORY_MB", 131072, int64(i%16)*2048)}
			out = append(out, numa)
		}
	}
	return out
}

// benchCPU is the CPU time (user and system) the process used: on a
// shared machine a steadier measure than the wall clock.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRenderCandidates renders full answers (every candidate of 10k
// hosts, capped at 10,000 as allot serve is by default) in the formats
// whose provider summaries are kept between answers (1.29+ and 1.27), and
// one that renders them every time (1.26), from a warm memo. It reports
// the process's CPU time per answer (cpu-ns/op) besides the wall clock.
func BenchmarkRenderCandidates(b *testing.B) {
	for _, nested := range []bool{false, true} {
		shape := "flat"
		if nested {
			shape = "nested"
		}
		e := engine.New()
		e.Apply(engine.Update{Revision: 1, Full: true, Providers: renderCloud(10000, nested),
			Classes: []string{"VCPU", "MEMORY_MB", "DISK_GB"}, Traits: []string{"HW_CPU_X86_AVX2", "HW_NUMA_ROOT"}})
		q := query.Candidates{NestedAware: true, Groups: []query.Group{
			{Resources: []query.Amount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 4096}, {Class: "DISK_GB", Amount: 40}}}}}
		res, err := e.Candidates(q, engine.SearchOptions{MaxCandidates: 10000})
		if err != nil {
			b.Fatal(err)
		}
		memo := newSummaryMemo()
		for _, v := range []model.Version{model.V(1, 39), model.V(1, 27), model.V(1, 26)} {
			b.Run(fmt.Sprintf("%s/10k/all/%s", shape, v), func(b *testing.B) {
				buf := make([]byte, 0, 16<<20)
				cpu := benchCPU(b)
				for i := 0; i < b.N; i++ {
					buf = renderCandidates(buf[:0], res, q, v, memo)
				}
				b.ReportMetric(float64(benchCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(len(res.Requests)), "candidates")
				b.ReportMetric(float64(len(buf)), "bytes")
			})
		}
	}
}
