package placementapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"allot/internal/api/placementapi"
	"allot/internal/cputime"
	"allot/internal/engine"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
	"allot/internal/testserver"
)

// bigAnswerQuery asks for a NUMA node and the host's disk: two candidates
// per tree of treeOf7, and a summary of every provider of each tree.
const bigAnswerQuery = "resources=DISK_GB:20&resources1=VCPU:2,MEMORY_MB:4096&required1=HW_NUMA_ROOT"

// BenchmarkBigAnswers measures large allocation-candidate answers end to
// end (issue 19): a client GETs them over HTTP on loopback from a
// Placement API over a real SQLite store, and reads the whole body; the
// server searches, consolidates, renders and writes. The clouds are trees
// of 7 (loadCloud) and the query bigAnswerQuery: 1,000 trees (7,000
// providers) answer 2,000 candidates in about 2.4 MB of JSON; 5,000 trees
// (35,000 providers) reach the default cap of 10,000 candidates. More
// sizes: ALLOT_BENCH_TREES=1000,20000. It reports MB/s of JSON (from
// SetBytes), the process's CPU time per answer (cpu-ns/op, client
// included) and the answer's size.
func BenchmarkBigAnswers(b *testing.B) {
	sizes := []int{1000, 5000}
	if s := os.Getenv("ALLOT_BENCH_TREES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("ALLOT_BENCH_TREES: %q is not a number of trees", f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, trees := range sizes {
		b.Run(fmt.Sprintf("trees=%d/providers=%d", trees, 7*trees), func(b *testing.B) {
			url := serveCloud(b, 7*trees, true)
			benchAnswers(b, url+"/allocation_candidates?"+bigAnswerQuery)
		})
	}
}

// BenchmarkGrowthHTTP measures how an answer grows with the cloud (issue
// 19) end to end, as BenchmarkBigAnswers does: limit=10, limit=1000 and
// the full answer (capped at 10,000 candidates) of
// resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20 on clouds of 1k, 10k and
// 100k providers, flat (one provider a host) or nested (trees of 7). A
// cloud is loaded only when a benchmark of it runs (the 100k ones take a
// minute each): e.g. -bench 'GrowthHTTP/nested/10k'.
func BenchmarkGrowthHTTP(b *testing.B) {
	const q = "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20"
	for _, nested := range []bool{false, true} {
		shape := "flat"
		if nested {
			shape = "nested"
		}
		b.Run(shape, func(b *testing.B) {
			for _, size := range []int{1000, 10000, 100000} {
				b.Run(fmt.Sprintf("%dk", size/1000), func(b *testing.B) {
					url := serveCloud(b, size, nested)
					for _, limit := range []string{"10", "1000", "full"} {
						name := "limit" + limit
						if limit == "full" {
							name = "full"
						}
						b.Run(name, func(b *testing.B) {
							u := url + "/allocation_candidates?" + q
							if limit != "full" {
								u += "&limit=" + limit
							}
							benchAnswers(b, u)
						})
					}
				})
			}
		})
	}
}

// serveCloud loads a cloud of about providers providers into a fresh
// SQLite store and serves the Placement API over it on loopback (capped at
// 10,000 candidates as allot serve is by default); it returns the URL.
func serveCloud(b *testing.B, providers int, nested bool) string {
	st := testserver.OpenStore(b, "sqlite")
	loadCloud(b, st, providers, nested)
	svc := placement.New(st, placement.Options{Logger: testserver.Quiet, Search: engine.SearchOptions{MaxCandidates: 10000}})
	srv := httptest.NewServer(placementapi.New(svc, placementapi.Options{Logger: testserver.Quiet}).Handler())
	b.Cleanup(srv.Close)
	return srv.URL
}

// benchAnswers GETs url at microversion 1.39 and reads the answer, b.N
// times after one untimed answer (the index's load, a warm summary memo).
func benchAnswers(b *testing.B, url string) {
	client := &http.Client{}
	get := func() int64 {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.39")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
		}
		return n
	}
	size := get()
	b.SetBytes(size)
	cpu := cpuTime(b)
	for b.Loop() {
		get()
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size)/1e6, "MB/answer")
}

// cpuTime is the process's CPU time (internal/cputime).
func cpuTime(b *testing.B) time.Duration {
	d, err := cputime.Process()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// loadCloud writes about n providers into st in one transaction. Nested:
// trees of 7, a root with DISK_GB and a CPU trait, two NUMA children with
// VCPU and MEMORY_MB, and under each NUMA node two NICs with SRIOV_NET_VF.
// Flat: hosts of one provider with DISK_GB, VCPU and MEMORY_MB. Some
// capacity is reserved everywhere.
func loadCloud(b *testing.B, st *store.Store, n int, nested bool) {
	ctx := context.Background()
	err := st.Write(ctx, func(tx *store.Tx) error {
		w, err := testserver.NewProviderWriter(ctx, tx, "eeeeeeee-0000-4000-8000-",
			[]string{"VCPU", "MEMORY_MB", "DISK_GB", "SRIOV_NET_VF"}, []string{"HW_CPU_X86_AVX2", "HW_NUMA_ROOT", "HW_NIC_SRIOV"})
		if err != nil {
			return err
		}
		add := func(parent *model.Provider, trait string, invs ...model.Inventory) (model.Provider, error) {
			return w.Add(ctx, parent, invs, []string{trait}, nil)
		}
		inv := func(class string, total, reserved int64, ratio float64) model.Inventory {
			return model.Inventory{ResourceClass: class, Total: total, Reserved: reserved, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: ratio}
		}
		for t := 0; ; t++ {
			disk := inv("DISK_GB", 1600, int64(t%100), 1)
			if !nested {
				if w.Count()+1 > n {
					return nil
				}
				if _, err := add(nil, "HW_CPU_X86_AVX2", disk, inv("VCPU", 64, int64(t%4), 4), inv("MEMORY_MB", 262144, 4096, 1)); err != nil {
					return err
				}
				continue
			}
			if w.Count()+7 > n {
				return nil
			}
			root, err := add(nil, "HW_CPU_X86_AVX2", disk)
			if err != nil {
				return err
			}
			for range 2 {
				numa, err := add(&root, "HW_NUMA_ROOT", inv("VCPU", 32, int64(t%4), 4), inv("MEMORY_MB", 131072, 2048, 1))
				if err != nil {
					return err
				}
				for range 2 {
					if _, err := add(&numa, "HW_NIC_SRIOV", inv("SRIOV_NET_VF", 64, 0, 1)); err != nil {
						return err
					}
				}
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}
