package cli

import (
	"errors"
	"fmt"
	"strings"
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
	}, newBenchClaimsCommand(), newBenchCandidatesCommand())
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
		cfg       loadgen.Config
		urls      []string
		providers int
		total     int64
		prefix    string
	)
	cmd := &cobra.Command{
		Use:   "claims",
		Short: "Claim resources for new consumers as fast as possible (PUT /allocations/{consumer})",
		Long: `Creates --providers providers with --total units of --class each (through the
first URL), then runs --concurrency workers for --duration, each claiming
--amount of the class for a new consumer per request, on a random provider or,
with --candidates, on a candidate of GET /allocation_candidates asked first on
the same endpoint (a scheduler's query-then-claim), or, with --atomic, through
allot's atomic claim (POST /allot/v1/claims: the same query, the candidate
chosen and claimed by the server in one call; --strategy orders the
candidates). Workers are spread over the URLs round-robin. Claims that fail (409 for capacity or a concurrent update,
503 while the database is away) are counted by kind, not retried.`,
		Example: `  allot bench claims --duration 20s --concurrency 16
  allot bench claims --placement-url http://10.0.0.1:8778,http://10.0.0.2:8778,http://10.0.0.3:8778 --candidates
  allot bench claims --concurrency 24 --providers 20 --total 200 --atomic --strategy pack`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitURLs(urls)
			if len(cfg.URLs) == 0 {
				return usageError{errors.New("--placement-url: give at least one URL")}
			}
			if providers <= 0 || total <= 0 || cfg.Amount <= 0 || cfg.Concurrency <= 0 || cfg.Duration <= 0 {
				return usageError{errors.New("--providers, --total, --amount, --concurrency and --duration must be positive")}
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			t0 := time.Now()
			rps, err := loadgen.Setup(ctx, cfg, providers, total, prefix)
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			fmt.Fprintf(out, "setup: %d providers with %s=%d in %.1fs\n", len(rps), cfg.Class, total, time.Since(t0).Seconds())
			res, err := loadgen.RunClaims(ctx, cfg, rps)
			if err != nil {
				return err
			}
			mode := "random provider"
			switch {
			case cfg.Atomic:
				mode = "atomic claim"
				if cfg.Strategy != "" {
					mode += ", strategy " + cfg.Strategy
				}
			case cfg.Candidates:
				mode = "query candidates, then claim"
			}
			fmt.Fprintf(out, "claims (%s), %d workers over %d endpoint(s): %s\n", mode, cfg.Concurrency, len(cfg.URLs), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&urls, "placement-url", []string{"http://127.0.0.1:8778"}, "Placement `URL` (repeatable or comma-separated)")
	f.StringVar(&cfg.Token, "token", envOr("OS_TOKEN", "admin"), "authentication `TOKEN`, sent as X-Auth-Token [OS_TOKEN]")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "number of workers, each with one request in flight")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run")
	f.IntVar(&providers, "providers", 100, "providers to create for the run")
	f.Int64Var(&total, "total", 1000000, "units of the class on each provider")
	f.StringVar(&cfg.Class, "class", "VCPU", "resource class to claim")
	f.Int64Var(&cfg.Amount, "amount", 1, "units per claim")
	f.BoolVar(&cfg.Candidates, "candidates", false, "query allocation candidates before each claim")
	f.IntVar(&cfg.CandidateLimit, "candidate-limit", 10, "limit of each candidates query")
	f.BoolVar(&cfg.Atomic, "atomic", false, "claim with allot's atomic claim (POST /allot/v1/claims) instead of query-then-claim")
	f.StringVar(&cfg.Strategy, "strategy", "", "candidate order of --atomic: `default`, pack, spread or random (default: the server's)")
	f.StringVar(&prefix, "prefix", fmt.Sprintf("bench-%d", time.Now().Unix()), "name prefix of the providers created")
	return cmd
}
