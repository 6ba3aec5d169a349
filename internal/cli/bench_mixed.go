package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"allot/internal/cloudgen"
	"allot/internal/loadgen"
)

func newBenchMixedCommand() *cobra.Command {
	var (
		cfg               loadgen.MixedConfig
		urls, metricsURLs []string
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "mixed",
		Short: "A live mix: schedulers query and claim while hosts update inventories and traits and operators change the catalog",
		Long: `Runs, for --duration, all at once:

  --schedulers K   workers each looping query-then-claim: GET
                   /allocation_candidates with --query (limit=10 unless it
                   names a limit), PUT /allocations/{new consumer} with the
                   first candidate, asking again after a 409 at most
                   --retries times. With --atomic-share F, a fraction F of
                   them claim with allot's atomic claim (POST
                   /allot/v1/claims, same query) instead; a server without
                   it (OpenStack Placement) is told apart and all of them
                   query and claim. Each claim is released (DELETE
                   /allocations/{consumer}) after --hold, so that the
                   cloud reaches a steady state instead of filling.
  --hosts M        compute hosts, each updating one provider the query
                   finds, --host-rate times a second, alternately its
                   inventory (GET, then PUT with the generation: one
                   class's reserved toggled by one) and its traits (a
                   trait of the run's on and off); a 409 re-reads, at most
                   --retries times.
  --catalog-rate   new custom traits a second (a catalog change).
  --create-rate    new providers a second (POST /resource_providers, then
                   PUT an inventory of VCPU).

Then it reports per operation (query, claim, atomic claim, release,
inventory, traits, catalog, create): count, throughput, latency p50, p99
and p99.9 (of successful operations, from the request to the end of the
answer), conflicts (409s) and retries, and errors by kind; as a table, or
as JSON with --json. --metrics-url (allot serve's admin listener,
http://HOST:PORT/metrics; repeatable, one per replica) adds the server's
heap in use at the end of the run (read once: with per-provider series a
scrape costs the server about a second of CPU per 10,000 providers; allot
serve leaves them out above --metrics-per-provider-max). On a terminal a progress line
shows the run. Claims still held at the end are released after it,
unmeasured.

The default --query is what allot bench load's clouds answer (see allot
bench load --help).`,
		Example: `  allot bench load --db sqlite:/tmp/big.db --providers 100000 --allocations 100000
  allot serve --db sqlite:/tmp/big.db --admin-listen 127.0.0.1:9090 &
  allot bench mixed --duration 60s --schedulers 8 --atomic-share 0.25 --hosts 200 --host-rate 0.5 \
      --catalog-rate 0.2 --create-rate 1 --metrics-url http://127.0.0.1:9090/metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitURLs(urls)
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			for _, u := range splitURLs(metricsURLs) {
				if err := loadgen.CheckMetricsURL(u); err != nil {
					return usageError{fmt.Errorf("--metrics-url %w", err)}
				}
			}
			out := cmd.OutOrStdout()
			progress := newProgress(out)
			cfg.Progress = func(elapsed time.Duration, done map[string]int) {
				var parts []string
				for _, op := range loadgen.MixedOps {
					if done[op] > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", op, done[op]))
					}
				}
				progress.show("mixed: %.0fs of %.0fs: %s", elapsed.Seconds(), cfg.Duration.Seconds(), strings.Join(parts, ", "))
			}
			res, err := loadgen.RunMixed(cmd.Context(), cfg, splitURLs(metricsURLs))
			progress.done()
			if err != nil {
				return err
			}
			if asJSON {
				return writeMixedJSON(out, cfg, res)
			}
			return writeMixedTable(out, cfg, res)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&urls, "placement-url", []string{"http://127.0.0.1:8778"}, "Placement `URL` (repeatable or comma-separated: replicas)")
	f.StringVar(&cfg.Token, "token", envOr("OS_TOKEN", "admin"), "authentication `TOKEN`, sent as X-Auth-Token [OS_TOKEN]")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to run")
	f.StringVar(&cfg.Query, "query", cloudgen.DefaultQuery, "query `STRING` of the schedulers' GET /allocation_candidates")
	f.IntVar(&cfg.Schedulers, "schedulers", 4, "scheduler workers, each looping query-then-claim")
	f.Float64Var(&cfg.AtomicShare, "atomic-share", 0, "fraction (0-1) of the schedulers that use allot's atomic claim instead")
	f.IntVar(&cfg.Retries, "retries", 3, "ask again (schedulers) or re-read (hosts) after a 409 at most `N` times")
	f.DurationVar(&cfg.Hold, "hold", 2*time.Second, "how long each claim is held before it is released")
	f.IntVar(&cfg.Hosts, "hosts", 10, "compute hosts updating their providers")
	f.Float64Var(&cfg.HostRate, "host-rate", 1, "updates a second of each host (alternately inventory and traits)")
	f.Float64Var(&cfg.CatalogRate, "catalog-rate", 0.2, "new custom traits a second")
	f.Float64Var(&cfg.CreateRate, "create-rate", 0.5, "new providers a second")
	f.StringVar(&cfg.Prefix, "prefix", fmt.Sprintf("mixed-%d", time.Now().Unix()), "name `PREFIX` of the traits and providers the run creates")
	f.StringArrayVar(&metricsURLs, "metrics-url", nil, "allot serve's admin `URL` .../metrics, to report its heap (repeatable)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// mixedReport is the JSON form of a mixed run's report.
type mixedReport struct {
	Endpoints   []string          `json:"endpoints"`
	Query       string            `json:"query"`
	Schedulers  int               `json:"schedulers"`
	AtomicShare float64           `json:"atomic_share"`
	Hosts       int               `json:"hosts"`
	HostRate    float64           `json:"host_rate"`
	Hold        float64           `json:"hold_seconds"`
	Seconds     float64           `json:"seconds"`
	Ops         []mixedOpReport   `json:"operations"`
	HeldAtEnd   int               `json:"held_at_end"`
	Heaps       []mixedHeapReport `json:"heap,omitempty"`
}

type mixedOpReport struct {
	Operation string         `json:"operation"`
	Count     int            `json:"count"`
	PerSecond float64        `json:"per_second"`
	P50       float64        `json:"p50_ms"`
	P99       float64        `json:"p99_ms"`
	P999      float64        `json:"p999_ms"`
	Conflicts int            `json:"conflicts"`
	Retries   int            `json:"retries"`
	Errors    map[string]int `json:"errors"`
	Skipped   string         `json:"skipped,omitempty"`
}

type mixedHeapReport struct {
	URL   string  `json:"url"`
	Bytes float64 `json:"bytes,omitempty"`
	Error string  `json:"error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newMixedReport(cfg loadgen.MixedConfig, res *loadgen.MixedResult) mixedReport {
	r := mixedReport{Endpoints: cfg.URLs, Query: cfg.Query, Schedulers: cfg.Schedulers, AtomicShare: cfg.AtomicShare,
		Hosts: cfg.Hosts, HostRate: cfg.HostRate, Hold: cfg.Hold.Seconds(), Seconds: res.Elapsed.Seconds(), HeldAtEnd: res.Held}
	for _, op := range loadgen.MixedOps {
		o := res.Ops[op]
		r.Ops = append(r.Ops, mixedOpReport{Operation: op, Count: o.Ops, PerSecond: o.Rate(), P50: ms(o.Percentile(50)),
			P99: ms(o.Percentile(99)), P999: ms(o.Percentile(99.9)), Conflicts: o.Conflicts, Retries: o.Retries,
			Errors: o.Errors, Skipped: o.Skipped})
	}
	for _, h := range res.Heaps {
		r.Heaps = append(r.Heaps, mixedHeapReport{URL: h.URL, Bytes: h.Bytes, Error: h.Err})
	}
	return r
}

func writeMixedJSON(w io.Writer, cfg loadgen.MixedConfig, res *loadgen.MixedResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(newMixedReport(cfg, res))
}

// writeMixedTable prints one row per operation, then the errors by kind,
// what was skipped and the heap.
func writeMixedTable(w io.Writer, cfg loadgen.MixedConfig, res *loadgen.MixedResult) error {
	r := newMixedReport(cfg, res)
	fmt.Fprintf(w, "mixed, %.1fs over %d endpoint(s): %d schedulers (%.0f%% atomic), %d hosts at %g/s, hold %s\n",
		r.Seconds, len(cfg.URLs), cfg.Schedulers, 100*cfg.AtomicShare, cfg.Hosts, cfg.HostRate, cfg.Hold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tper s\tp50 ms\tp99 ms\tp99.9 ms\tconflicts\tretries\terrors\t")
	for _, o := range r.Ops {
		n := 0
		for _, k := range o.Errors {
			n += k
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\t\n", o.Operation, o.Count, o.PerSecond, o.P50, o.P99, o.P999, o.Conflicts, o.Retries, n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Ops {
		for _, kind := range slices.Sorted(maps.Keys(o.Errors)) {
			fmt.Fprintf(w, "  %s errors %s: %d\n", o.Operation, kind, o.Errors[kind])
		}
		if o.Skipped != "" {
			fmt.Fprintf(w, "  %s skipped: %s\n", o.Operation, o.Skipped)
		}
	}
	if r.HeldAtEnd > 0 {
		fmt.Fprintf(w, "%d claims still held at the end were released after the run\n", r.HeldAtEnd)
	}
	for _, h := range r.Heaps {
		if h.Error != "" {
			fmt.Fprintf(w, "heap of %s: not read: %s\n", h.URL, h.Error)
			continue
		}
		fmt.Fprintf(w, "heap in use of %s at the end: %.0f MiB\n", h.URL, h.Bytes/(1<<20))
	}
	return nil
}
