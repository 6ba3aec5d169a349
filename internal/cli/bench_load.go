package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"allot/internal/cloudgen"
	"allot/internal/store"
)

// newBenchLoadCommand is "allot bench load": a generated cloud written
// straight into a store, for benchmarks at 10,000 and 100,000 providers.
func newBenchLoadCommand() *cobra.Command {
	var (
		dsn  string
		spec cloudgen.Spec
	)
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Write a generated cloud straight into a store (not through the API), for benchmarks at scale",
		Long: fmt.Sprintf(`Writes --providers compute hosts into the store named by --db (as allot
serve names it), through the store's own transactions, %d hosts per
transaction, with bulk inserts: no HTTP, so 100,000 hosts load in minutes
(see docs/performance.md). Run it before allot serve starts on that store
(on SQLite, a serving allot holds the file), or beside it on PostgreSQL.

Each host (PREFIX-cn-0000001, ...) has VCPU %d (allocation ratio %g),
MEMORY_MB %d and DISK_GB %d, the trait %s (and %s on every
other host), and is in one of %d aggregates.
  --nested       each host gets %d NUMA children (HOST-numa0, ...) that hold
                 its VCPU and MEMORY_MB, and carry %s
  --sharing      DISK_GB is on storage pools (PREFIX-pool-00001, ...,
                 MISC_SHARES_VIA_AGGREGATE, DISK_GB %d), one per %d hosts,
                 shared through an aggregate, instead of on the hosts
  --allocations  consumers (project and user "bench", type INSTANCE) spread
                 round-robin over the hosts, each taking VCPU %d, MEMORY_MB
                 %d and DISK_GB %d (at most %d per host)

Every shape answers the default query of allot bench mixed:
  %s`,
			cloudgen.BatchSize, cloudgen.HostVCPU, cloudgen.VCPURatio, cloudgen.HostMemoryMB, cloudgen.HostDiskGB,
			cloudgen.TraitAll, cloudgen.TraitOdd, cloudgen.Aggregates, cloudgen.NUMANodes, cloudgen.TraitAll,
			cloudgen.PoolDiskGB, cloudgen.HostsPerPool, cloudgen.ConsumerVCPU, cloudgen.ConsumerMemoryMB, cloudgen.ConsumerDiskGB,
			cloudgen.MaxPerHost, cloudgen.DefaultQuery),
		Example: `  allot bench load --db sqlite:/tmp/big.db --providers 100000 --allocations 100000
  allot bench load --db postgres://allot@127.0.0.1/allot --providers 10000 --nested --sharing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := spec.Validate(); err != nil {
				return usageError{fmt.Errorf("--providers, --allocations, --prefix: %w", err)}
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, dsn, store.Options{Logger: dbLogger(cmd)})
			if err != nil {
				return storeError(err, "allot bench load")
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			progress := newProgress(out)
			t0 := time.Now()
			rep, err := cloudgen.Load(ctx, st, spec, func(hosts int) {
				progress.show("load: %d of %d hosts, %.0fs", hosts, spec.Hosts, time.Since(t0).Seconds())
			})
			progress.done()
			if err != nil {
				if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
					return fmt.Errorf("interrupted; the hosts written so far stay: %w", err)
				}
				return err
			}
			took := time.Since(t0)
			fmt.Fprintf(out, "loaded %d providers (%d hosts, %d pools) and %d consumers in %.1fs: %.0f providers/s\n",
				rep.Providers, rep.Hosts, rep.Pools, rep.Consumers, took.Seconds(), float64(rep.Providers)/took.Seconds())
			fmt.Fprintf(out, "default query of allot bench mixed: %s\n", cloudgen.DefaultQuery)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&spec.Hosts, "providers", 1000, "number of compute hosts (root providers)")
	f.BoolVar(&spec.Nested, "nested", false, fmt.Sprintf("give each host %d NUMA children holding its VCPU and MEMORY_MB", cloudgen.NUMANodes))
	f.BoolVar(&spec.Sharing, "sharing", false, fmt.Sprintf("put DISK_GB on storage pools shared by %d hosts each", cloudgen.HostsPerPool))
	f.IntVar(&spec.Allocations, "allocations", 0, "number of consumers to allocate, spread over the hosts")
	f.StringVar(&spec.Prefix, "prefix", "load", "name `PREFIX` of the providers (load twice with different prefixes)")
	dbFlag(cmd, &dsn)
	return cmd
}
