package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"allot/internal/loadgen"
)

// newBenchCommand builds "allot bench": the project's own load tool.
func newBenchCommand() *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:   "bench",
		Short: "Load tools: measure a Placement deployment (allot's or OpenStack's) under scheduler-like load",
		Long: `Load tools that drive Placement endpoints over HTTP the way schedulers do and
report throughput, latency percentiles and errors by kind. Give several
--placement-url (or a comma list) to spread the workers over replicas.`,
	}, newBenchClaimsCommand(), newBenchCandidatesCommand(), newBenchMixedCommand(), newBenchLoadCommand())
}

// splitURLs flattens repeated and comma-separated --placement-url values.
func splitURLs(values []string) []string {
	var out []string
	for _, u := range values {
		for _, part := range strings.Split(u, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func newBenchCandidatesCommand() *cobra.Command {
	var (
		cfg  loadgen.QueryConfig
		urls []string
	)
	cmd := &cobra.Command{
		Use:   "candidates",
		Short: "Send allocation-candidates queries as fast as possible (GET /allocation_candidates)",
		Long: `Runs --concurrency workers for --duration, each sending the --query strings
in turn to GET /allocation_candidates and reading every answer to its last
byte. Latency is measured from the request to the end of the body. Each
worker keeps its connection open unless --new-connections is given (then
every request opens one, as a client without keep-alive does). Answers
other than 200 are counted by status and error code. Nothing is written.`,
		Example: `  allot bench candidates --query 'resources=VCPU:1,MEMORY_MB:1024&limit=10'
  allot bench candidates --concurrency 1 --new-connections \
      --query 'resources=VCPU:1&in_tree=UUID' --query 'resources=VCPU:2&member_of=in:A,B'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitURLs(urls)
			if len(cfg.URLs) == 0 {
				return usageError{errors.New("--placement-url: give at least one URL")}
			}
			if len(cfg.Queries) == 0 {
				return usageError{errors.New("--query: give at least one query string, e.g. --query 'resources=VCPU:1'")}
			}
			for i, q := range cfg.Queries {
				cfg.Queries[i] = strings.TrimPrefix(q, "?")
			}
			if cfg.Concurrency <= 0 || cfg.Duration <= 0 {
				return usageError{errors.New("--concurrency and --duration must be positive")}
			}
			res, err := loadgen.RunQueries(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			conns := "keep-alive"
			if cfg.NewConnections {
				conns = "a new connection per request"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "candidates (%d quer%s, %s), %d workers over %d endpoint(s): %s\n",
				len(cfg.Queries), map[bool]string{true: "y", false: "ies"}[len(cfg.Queries) == 1], conns, cfg.Concurrency, len(cfg.URLs), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&urls, "placement-url", []string{"http://127.0.0.1:8778"}, "Placement `URL` (repeatable or comma-separated)")
	f.StringVar(&cfg.Token, "token", envOr("OS_TOKEN", "admin"), "authentication `TOKEN`, sent as X-Auth-Token [OS_TOKEN]")
	f.StringVar(&cfg.Version, "os-placement-api-version", "1.39", "Placement microversion asked for")
	f.StringArrayVar(&cfg.Queries, "query", nil, "query `STRING` of GET /allocation_candidates (repeatable; sent in turn)")
	f.IntVar(&cfg.Concurrency, "concurrency", 1, "number of workers, each with one request in flight")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run")
	f.BoolVar(&cfg.NewConnections, "new-connections", false, "open a new connection for every request")
	return cmd
}

func newBenchClaimsCommand() *cobra.Command {
	var (
		cfg               loadgen.Config
		urls, modes       []string
		providers, rounds int
		total             int64
		prefix            string
		candidates        bool
		atomic            bool
	)
	cmd := &cobra.Command{
		Use:   "claims",
		Short: "Claim resources for new consumers as fast as possible, in one or several modes side by side",
		Long: `Creates --providers providers with --total units of --class each, in an
aggregate of their own (through the first URL), then runs --concurrency
workers for --duration, each claiming --amount of the class for a new
consumer at a time, in a mode:

  random  PUT /allocations/{consumer} on a random provider of the run's
  query   a scheduler's query-then-claim: GET /allocation_candidates
          (member_of the run's aggregate, --candidate-limit), pick the first
          candidate (--pick K: one at random among the first K), PUT its
          allocations; on a 409 ask again and retry, at most --retries times
  atomic  allot's atomic claim (POST /allot/v1/claims) with the same query:
          the server chooses and claims in one call, and retries on its
          side (--strategy orders its candidates)

--mode query,atomic runs several modes side by side in one invocation,
each on fresh providers, --rounds times interleaved (round 1: every mode,
round 2: every mode, ...), and ends with a table per mode: claims/s,
client-visible conflicts (the 409s answered to claims), retries, claims
given up, claims that would still fit at the end, latency p50 and p99
(medians over the rounds, ranges in brackets).

--until-full ends a worker when the cloud is full for it (no candidate
left, or the atomic claim answers that nothing fits) and a run when every
worker has ended (or at --duration): size --providers, --total and
--amount so that the cloud fills during the run, and claims contend for
the last free hosts. Workers are spread over the URLs round-robin. Failures
(a claim given up after its retries, 503 while the database is away) are
counted by kind.`,
		Example: `  allot bench claims --duration 20s --concurrency 16
  allot bench claims --placement-url http://10.0.0.1:8778,http://10.0.0.2:8778,http://10.0.0.3:8778 --mode query
  allot bench claims --concurrency 24 --providers 100 --total 64 --amount 4 --until-full \
      --mode query,atomic --rounds 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitURLs(urls)
			if len(cfg.URLs) == 0 {
				return usageError{errors.New("--placement-url: give at least one URL")}
			}
			if providers <= 0 || total <= 0 || cfg.Amount <= 0 || cfg.Concurrency <= 0 || cfg.Duration <= 0 || rounds <= 0 || cfg.Pick <= 0 || cfg.CandidateLimit <= 0 {
				return usageError{errors.New("--providers, --total, --amount, --concurrency, --duration, --rounds, --pick and --candidate-limit must be positive")}
			}
			if cfg.Retries < 0 {
				return usageError{errors.New("--retries must not be negative")}
			}
			ms, err := benchModes(splitURLs(modes), candidates, atomic)
			if err != nil {
				return usageError{err}
			}
			if cfg.UntilFull && slices.Contains(ms, loadgen.ModeRandom) {
				return usageError{errors.New("--until-full needs the query or atomic mode: claims on random providers cannot tell when the cloud is full")}
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			runs := map[loadgen.Mode][]benchRun{}
			for round := 1; round <= rounds; round++ {
				for _, m := range ms {
					run := cfg
					run.Mode = m
					name := prefix
					if len(ms) > 1 || rounds > 1 {
						name = fmt.Sprintf("%s-%s-%d", prefix, m, round)
					}
					t0 := time.Now()
					cloud, err := loadgen.Setup(ctx, run, providers, total, name)
					if err != nil {
						return fmt.Errorf("setup: %w", err)
					}
					fmt.Fprintf(out, "setup: %d providers with %s=%d in %.1fs\n", len(cloud.Providers), cfg.Class, total, time.Since(t0).Seconds())
					res, err := loadgen.RunClaims(ctx, run, cloud)
					if err != nil {
						return err
					}
					r := benchRun{res: res, left: -1}
					if m != loadgen.ModeRandom {
						if r.left, err = loadgen.Remaining(ctx, run, cloud); err != nil {
							return err
						}
					}
					runs[m] = append(runs[m], r)
					fmt.Fprintf(out, "claims (%s), %d workers over %d endpoint(s): %s\n", modeName(run), cfg.Concurrency, len(cfg.URLs), res)
					if r.left >= 0 {
						fmt.Fprintf(out, "  %d claims of %s=%d still fit at the end\n", r.left, cfg.Class, cfg.Amount)
					}
				}
			}
			if len(ms) > 1 || rounds > 1 {
				return writeBenchTable(out, ms, runs)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&urls, "placement-url", []string{"http://127.0.0.1:8778"}, "Placement `URL` (repeatable or comma-separated)")
	f.StringVar(&cfg.Token, "token", envOr("OS_TOKEN", "admin"), "authentication `TOKEN`, sent as X-Auth-Token [OS_TOKEN]")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "number of workers, each with one request in flight")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run (at most, with --until-full)")
	f.IntVar(&providers, "providers", 100, "providers to create for each run")
	f.Int64Var(&total, "total", 1000000, "units of the class on each provider")
	f.StringVar(&cfg.Class, "class", "VCPU", "resource class to claim")
	f.Int64Var(&cfg.Amount, "amount", 1, "units per claim")
	f.StringArrayVar(&modes, "mode", nil, "`MODE`s to run side by side: random, query, atomic (repeatable or comma-separated; default random)")
	f.IntVar(&rounds, "rounds", 1, "run every mode this many times, interleaved, each on fresh providers")
	f.BoolVar(&candidates, "candidates", false, "the query mode (same as --mode query)")
	f.BoolVar(&atomic, "atomic", false, "the atomic mode (same as --mode atomic)")
	f.IntVar(&cfg.CandidateLimit, "candidate-limit", 10, "limit of each candidates query")
	f.IntVar(&cfg.Pick, "pick", 1, "query mode: claim one of the first `K` candidates at random (1: the first)")
	f.IntVar(&cfg.Retries, "retries", 3, "query mode: ask again and retry a claim refused with a 409 at most `N` times")
	f.BoolVar(&cfg.UntilFull, "until-full", false, "end each run when the cloud is full (query and atomic modes)")
	f.StringVar(&cfg.Strategy, "strategy", "", "candidate order of the atomic mode: `default`, pack, spread or random (default: the server's)")
	f.StringVar(&prefix, "prefix", fmt.Sprintf("bench-%d", time.Now().Unix()), "name prefix of the providers created")
	return cmd
}

// benchModes reads --mode and its shorthands --candidates and --atomic.
func benchModes(names []string, candidates, atomic bool) ([]loadgen.Mode, error) {
	var out []loadgen.Mode
	add := func(m loadgen.Mode) error {
		if slices.Contains(out, m) {
			return fmt.Errorf("--mode: %s is named twice", m)
		}
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		m, err := loadgen.ParseMode(n)
		if err != nil {
			return nil, fmt.Errorf("--mode: %w", err)
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, m := range []struct {
		on   bool
		mode loadgen.Mode
	}{{candidates, loadgen.ModeQuery}, {atomic, loadgen.ModeAtomic}} {
		if m.on {
			if err := add(m.mode); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		out = []loadgen.Mode{loadgen.ModeRandom}
	}
	return out, nil
}

// modeName describes a run's mode in its report line.
func modeName(cfg loadgen.Config) string {
	switch cfg.Mode {
	case loadgen.ModeAtomic:
		if cfg.Strategy != "" {
			return "atomic claim, strategy " + cfg.Strategy
		}
		return "atomic claim"
	case loadgen.ModeQuery:
		pick := "the first"
		if cfg.Pick > 1 {
			pick = fmt.Sprintf("one of the first %d", cfg.Pick)
		}
		return fmt.Sprintf("query candidates, claim %s, at most %d retries", pick, cfg.Retries)
	}
	return "random provider"
}

// benchRun is one run of a mode: what it measured and the claims that
// still fit at its end (-1: not counted).
type benchRun struct {
	res  loadgen.Result
	left int64
}

// writeBenchTable prints one row per mode: the median over its runs of
// each column, with the range when there are several runs.
func writeBenchTable(w io.Writer, modes []loadgen.Mode, runs map[loadgen.Mode][]benchRun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\truns\tclaims/s\tconflicts\tretries\tgave up\tstill fit\tp50 ms\tp99 ms\t")
	for _, m := range modes {
		rs := runs[m]
		col := func(f func(benchRun) float64, digits int) string {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return medianRange(v, digits)
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		left := "-"
		if m != loadgen.ModeRandom {
			left = col(func(r benchRun) float64 { return float64(r.left) }, 0)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m, len(rs),
			col(func(r benchRun) float64 { return r.res.Rate() }, 0),
			col(func(r benchRun) float64 { return float64(r.res.Conflicts) }, 0),
			col(func(r benchRun) float64 { return float64(r.res.Retries) }, 0),
			col(func(r benchRun) float64 { return float64(r.res.Failed()) }, 0),
			left,
			col(func(r benchRun) float64 { return ms(r.res.Percentile(50)) }, 1),
			col(func(r benchRun) float64 { return ms(r.res.Percentile(99)) }, 1))
	}
	return tw.Flush()
}

// medianRange formats the median of v, and its range when v has several
// different values: "412 (398-437)".
func medianRange(v []float64, digits int) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	out := strconv.FormatFloat(med, 'f', digits, 64)
	if s[0] != s[len(s)-1] {
		out += " (" + strconv.FormatFloat(s[0], 'f', digits, 64) + "-" + strconv.FormatFloat(s[len(s)-1], 'f', digits, 64) + ")"
	}
	return out
}
