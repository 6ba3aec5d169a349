package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

func aggregateRows(aggs []string) *view {
	rows := make([][]any, 0, len(aggs))
	for _, a := range sortedStrings(aggs) {
		rows = append(rows, []any{a})
	}
	return listView([]string{"uuid"}, rows)
}

func newAggregateCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "aggregate",
		Aliases: []string{"aggregates"},
		Short:   "The aggregates a resource provider is in",
		Long: `Aggregates group resource providers (e.g. an availability zone, or the hosts
a shared storage pool serves). An aggregate is just a UUID: it exists as
soon as a provider is put in it.`,
	},
		newAggregateListCommand(o),
		newAggregateSetCommand(o),
		newAggregateUnsetCommand(o),
	)
}

func newAggregateListCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list PROVIDER",
		Short:   "List the aggregates of a resource provider",
		Long:    `List the aggregates a resource provider is in (1.1).`,
		Example: `  allot placement resource-provider aggregate list compute-1`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			pa, err := p.GetProviderAggregates(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("aggregates of resource provider %s: %w", args[0], err)
			}
			return aggregateRows(pa.Aggregates), nil
		}),
	}
}

// writeAggregates reads the provider's aggregates, lets change compute the
// new list and writes it with the right generation (or the one given).
func writeAggregates(ctx context.Context, p *client.Placement, ref string, generation *int64, change func([]string) []string) (*view, error) {
	uuid, err := providerUUID(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	cur, err := p.GetProviderAggregates(ctx, uuid)
	if err != nil {
		return nil, fmt.Errorf("aggregates of resource provider %s: %w", ref, err)
	}
	gen := generation
	if gen == nil && cur.HasGeneration {
		gen = &cur.Generation
	}
	if !cur.HasGeneration {
		gen = nil // before 1.19 the API takes a bare list
	}
	pa, err := p.SetProviderAggregates(ctx, uuid, gen, change(cur.Aggregates))
	if err != nil {
		return nil, fmt.Errorf("set the aggregates of resource provider %s: %w", ref, err)
	}
	return aggregateRows(pa.Aggregates), nil
}

func newAggregateSetCommand(o *clientOptions) *cobra.Command {
	var aggs []string
	var amend bool
	var generation int64
	cmd := &cobra.Command{
		Use:   "set PROVIDER [--aggregate AGGREGATE]...",
		Short: "Set the aggregates of a resource provider",
		Long: `Put a resource provider in the aggregates given with --aggregate, and in no
other (no --aggregate: in none). With --amend the aggregates are added to
the provider's. From 1.19 the API checks the provider's generation: it is
read and sent for you unless --generation gives it; if someone changes the
provider in between, the command fails with a conflict: run it again.`,
		Example: `  allot placement resource-provider aggregate set compute-1 --aggregate 6f1a5c1e-8a52-4bd4-9f2a-1b1e6c0a9d11
  allot placement resource-provider aggregate set compute-1 --amend --aggregate 0b9a1f6e-3d2c-4e59-a1a7-4c1f9e2d7b30`,
		Args: argsExactly("PROVIDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var gen *int64
			if cmd.Flags().Changed("generation") {
				gen = &generation
			}
			return o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
				return writeAggregates(ctx, p, args[0], gen, func(cur []string) []string {
					if amend {
						return union(cur, aggs)
					}
					return aggs
				})
			})(cmd, args)
		},
	}
	cmd.Flags().StringArrayVar(&aggs, "aggregate", nil, "an `AGGREGATE` UUID; repeatable")
	cmd.Flags().BoolVar(&amend, "amend", false, "add the aggregates to the provider's instead of replacing them")
	cmd.Flags().Int64Var(&generation, "generation", 0, "the provider's `GENERATION` to check (default: read from the server)")
	return cmd
}

func newAggregateUnsetCommand(o *clientOptions) *cobra.Command {
	var aggs []string
	cmd := &cobra.Command{
		Use:   "unset PROVIDER --aggregate AGGREGATE...",
		Short: "Take a resource provider out of aggregates",
		Long: `Take a resource provider out of the aggregates given with --aggregate (all of
its aggregates without it).`,
		Example: `  allot placement resource-provider aggregate unset compute-1 --aggregate 6f1a5c1e-8a52-4bd4-9f2a-1b1e6c0a9d11`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			return writeAggregates(ctx, p, args[0], nil, func(cur []string) []string {
				if len(aggs) == 0 {
					return nil
				}
				drop := map[string]bool{}
				for _, a := range aggs {
					drop[strings.ToLower(a)] = true
				}
				var keep []string
				for _, a := range cur {
					if !drop[strings.ToLower(a)] {
						keep = append(keep, a)
					}
				}
				return keep
			})
		}),
	}
	cmd.Flags().StringArrayVar(&aggs, "aggregate", nil, "an `AGGREGATE` UUID to leave; repeatable")
	return cmd
}
