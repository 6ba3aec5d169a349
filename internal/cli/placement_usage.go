package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"allot/internal/client"
	"allot/internal/model"
)

func newUsageCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "usage",
		Aliases: []string{"usages"},
		Short:   "Resource usage totals of a project, user or consumer type",
	}, newUsageShowCommand(o))
}

func newUsageShowCommand(o *clientOptions) *cobra.Command {
	var q client.UsageQuery
	cmd := &cobra.Command{
		Use:   "show --project-id PROJECT",
		Short: "Show the resources a project (or user) uses, per resource class",
		Long: `Show the resources a project's consumers (or one user's, with --user-id)
hold, per resource class (1.9). From 1.38 the totals are per consumer type,
with the number of consumers; --consumer-type picks a type, "all" adds all
types together and "unknown" selects consumers written before types existed.`,
		Example: `  allot placement usage show --project-id demo
  allot placement usage show --project-id demo --user-id alice --consumer-type INSTANCE`,
		Args: argsExactly(),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
			if q.ProjectID == "" {
				return nil, errUsage("give --project-id")
			}
			u, err := p.GetUsages(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("usages of project %s: %w", q.ProjectID, err)
			}
			grouped := u.ByConsumerType != nil
			if !grouped && u.Totals == nil { // no usage at all: the version tells the shape
				v, err := p.Version(ctx)
				if err != nil {
					return nil, err
				}
				grouped = v.AtLeast(model.V(1, 38))
			}
			if !grouped {
				return usageRows(u.Totals), nil
			}
			var rows [][]any
			for _, t := range sortedKeys(u.ByConsumerType) {
				g := u.ByConsumerType[t]
				for _, class := range sortedKeys(g.Usages) {
					rows = append(rows, []any{t, g.ConsumerCount, class, g.Usages[class]})
				}
			}
			return listView([]string{"consumer_type", "consumer_count", "resource_class", "usage"}, rows), nil
		}),
	}
	cmd.Flags().StringVar(&q.ProjectID, "project-id", "", "the `PROJECT` whose consumers to count (required)")
	cmd.Flags().StringVar(&q.UserID, "user-id", "", "only this `USER`'s consumers")
	cmd.Flags().StringVar(&q.ConsumerType, "consumer-type", "", "only consumers of this `TYPE` (all: every type together; unknown: untyped) (1.38)")
	return cmd
}

func usageRows(m map[string]int64) *view {
	var rows [][]any
	for _, class := range sortedKeys(m) {
		rows = append(rows, []any{class, m[class]})
	}
	return listView([]string{"resource_class", "usage"}, rows)
}

func newProviderUsageCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "usage",
		Aliases: []string{"usages"},
		Short:   "A resource provider's usage",
	}, &cobra.Command{
		Use:     "show PROVIDER",
		Short:   "Show how much of each resource class of a provider is in use",
		Long:    `Show, for each resource class a provider has inventory of, the amount allocated.`,
		Example: `  allot placement resource-provider usage show compute-1`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			u, err := p.GetProviderUsages(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("usages of resource provider %s: %w", args[0], err)
			}
			return usageRows(u.Usages), nil
		}),
	})
}

func newReshapeCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reshape FILE",
		Short: "Move inventories and allocations between providers in one step (POST /reshaper)",
		Long: `Send a reshaper document (1.30) read from FILE ("-" for standard input): the
new inventories of some providers and the new allocations of some consumers,
applied together in one transaction, e.g. to move VGPU inventory and its
allocations from a compute node to its new GPU child providers. The
document is the API's:
  {"inventories": {PROVIDER_UUID: {"resource_provider_generation": N,
                                   "inventories": {RC: {"total": N, ...}}}},
   "allocations": {CONSUMER_UUID: {"allocations": {PROVIDER_UUID: {"resources": {RC: N}}},
                                   "project_id": P, "user_id": U,
                                   "consumer_generation": N, "consumer_type": T}}}`,
		Example: `  allot placement reshape reshape.json
  allot placement reshape - < reshape.json`,
		Args: argsExactly("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return usageError{fmt.Errorf("read the reshaper document: %w", err)}
			}
			if !json.Valid(data) {
				return errUsage("%s is not a JSON document", args[0])
			}
			return o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
				if err := p.Reshape(ctx, json.RawMessage(data)); err != nil {
					return nil, fmt.Errorf("reshape: %w", err)
				}
				return nil, nil
			})(cmd, args)
		},
	}
}
