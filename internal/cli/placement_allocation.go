package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/client"
	"allot/internal/model"
)

// allocationColumns are the columns of a consumer's allocations: one row per
// provider.
var allocationColumns = []string{"resource_provider", "generation", "resources", "project_id", "user_id", "consumer_type", "consumer_generation"}

func allocationsView(ca client.ConsumerAllocations) *view {
	var rows [][]any
	for _, rp := range sortedKeys(ca.Allocations) {
		a := ca.Allocations[rp]
		var gen, cgen any
		if a.Generation != nil {
			gen = *a.Generation
		}
		if ca.ConsumerGeneration != nil {
			cgen = *ca.ConsumerGeneration
		}
		res := a.Resources
		if res == nil {
			res = map[string]int64{}
		}
		rows = append(rows, []any{rp, gen, res, nullable(ca.ProjectID), nullable(ca.UserID), nullable(ca.ConsumerType), cgen})
	}
	return listView(allocationColumns, rows)
}

func newAllocationCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "allocation",
		Aliases: []string{"allocations"},
		Short:   "A consumer's allocations: what an instance (or other consumer) holds",
		Long: `Allocations are the resources a consumer (an instance, a migration, a
bare-metal allocation...: anything with a UUID) holds on resource providers.
A consumer's allocations are always written as a whole. (osc-placement calls
these commands "resource provider allocation ...".)`,
	},
		newAllocationShowCommand(o),
		newAllocationSetCommand(o),
		newAllocationUnsetCommand(o),
		newAllocationDeleteCommand(o),
	)
}

func newAllocationShowCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show CONSUMER",
		Short: "Show a consumer's allocations",
		Long: `Show a consumer's allocations, one row per resource provider, with the
consumer's project, user, type (1.38) and generation (1.28). A consumer
without allocations shows no rows.`,
		Example: `  allot placement allocation show 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57`,
		Args:    argsUUID("CONSUMER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			ca, err := p.GetAllocations(ctx, args[0])
			if err != nil {
				return nil, fmt.Errorf("allocations of consumer %s: %w", args[0], err)
			}
			return allocationsView(ca), nil
		}),
	}
}

// parseAllocations reads osc-placement's --allocation values:
// "rp=PROVIDER,RC=N,RC=N"; several values for one provider merge.
func parseAllocations(ctx context.Context, p *client.Placement, values []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	for _, value := range values {
		var rp string
		res := map[string]int64{}
		for _, item := range strings.Split(value, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok || k == "" || v == "" {
				return nil, errUsage("--allocation %q: want rp=PROVIDER,RESOURCE_CLASS=AMOUNT,... e.g. rp=compute-1,VCPU=2,MEMORY_MB=1024", value)
			}
			if k == "rp" {
				rp = v
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, errUsage("--allocation %q: the amount of %s must be an integer", value, k)
			}
			res[k] = n
		}
		if rp == "" {
			return nil, errUsage("--allocation %q: name the provider with rp=PROVIDER", value)
		}
		if len(res) == 0 {
			return nil, errUsage("--allocation %q: give at least one RESOURCE_CLASS=AMOUNT", value)
		}
		uuid, err := providerUUID(ctx, p, rp)
		if err != nil {
			return nil, fmt.Errorf("--allocation: %w", err)
		}
		if out[uuid] == nil {
			out[uuid] = map[string]int64{}
		}
		for class, n := range res {
			if prev, ok := out[uuid][class]; ok && prev != n {
				return nil, errUsage("--allocation: %s is given twice for provider %s, with %d and %d", class, rp, prev, n)
			}
			out[uuid][class] = n
		}
	}
	return out, nil
}

// consumerWrite prepares a full write of the consumer's allocations,
// keeping its project, user and type unless given, with the generation
// just read.
func consumerWrite(ctx context.Context, p *client.Placement, cur client.ConsumerAllocations, allocs map[string]map[string]int64, project, user, ctype string) (client.AllocationWrite, error) {
	w := client.AllocationWrite{
		Allocations:        allocs,
		ProjectID:          firstOf(project, cur.ProjectID),
		UserID:             firstOf(user, cur.UserID),
		ConsumerGeneration: cur.ConsumerGeneration,
		ConsumerType:       ctype,
	}
	if w.ConsumerType == "" && cur.ConsumerType != "unknown" {
		w.ConsumerType = cur.ConsumerType
	}
	v, err := p.Version(ctx)
	if err != nil {
		return w, err
	}
	if v.AtLeast(model.V(1, 8)) && (w.ProjectID == "" || w.UserID == "") {
		return w, errUsage("give --project-id and --user-id: the API needs them from microversion 1.8 (this consumer has none yet)")
	}
	if v.AtLeast(model.V(1, 38)) && w.ConsumerType == "" {
		return w, errUsage("give --consumer-type (e.g. INSTANCE): the API needs it from microversion 1.38 (this consumer has none yet)")
	}
	return w, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newAllocationSetCommand(o *clientOptions) *cobra.Command {
	var allocations []string
	var project, user, ctype string
	cmd := &cobra.Command{
		Use:   "set CONSUMER --allocation rp=PROVIDER,RC=N,...",
		Short: "Set a consumer's allocations",
		Long: `Replace all of a consumer's allocations with the --allocation options (each
rp=PROVIDER,RESOURCE_CLASS=AMOUNT,...; PROVIDER is a UUID or a name). The
API needs --project-id and --user-id (1.8) and --consumer-type (1.38); for a
consumer that has allocations they default to its current ones. The
consumer's generation (1.28) is read and sent for you; if someone changes the
consumer in between, the command fails with a conflict: run it again.`,
		Example: `  allot placement allocation set 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57 \
    --allocation rp=compute-1,VCPU=2,MEMORY_MB=1024 --allocation rp=shared-disk,DISK_GB=20 \
    --project-id demo --user-id alice --consumer-type INSTANCE`,
		Args: argsUUID("CONSUMER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if len(allocations) == 0 {
				return nil, errUsage("give at least one --allocation rp=PROVIDER,RESOURCE_CLASS=AMOUNT")
			}
			allocs, err := parseAllocations(ctx, p, allocations)
			if err != nil {
				return nil, err
			}
			cur, err := p.GetAllocations(ctx, args[0])
			if err != nil {
				return nil, fmt.Errorf("allocations of consumer %s: %w", args[0], err)
			}
			w, err := consumerWrite(ctx, p, cur, allocs, project, user, ctype)
			if err != nil {
				return nil, err
			}
			if err := p.SetAllocations(ctx, args[0], w); err != nil {
				return nil, fmt.Errorf("set the allocations of consumer %s: %w", args[0], err)
			}
			return showAllocations(ctx, p, args[0])
		}),
	}
	cmd.Flags().StringArrayVar(&allocations, "allocation", nil, "an allocation `rp=PROVIDER,RC=N,...`; repeatable")
	cmd.Flags().StringVar(&project, "project-id", "", "the consumer's `PROJECT` (1.8)")
	cmd.Flags().StringVar(&user, "user-id", "", "the consumer's `USER` (1.8)")
	cmd.Flags().StringVar(&ctype, "consumer-type", "", "the consumer's `TYPE`, e.g. INSTANCE or MIGRATION (1.38)")
	return cmd
}

func showAllocations(ctx context.Context, p *client.Placement, consumer string) (*view, error) {
	ca, err := p.GetAllocations(ctx, consumer)
	if err != nil {
		return nil, fmt.Errorf("allocations of consumer %s: %w", consumer, err)
	}
	return allocationsView(ca), nil
}

func newAllocationUnsetCommand(o *clientOptions) *cobra.Command {
	var providers, classes []string
	var ctype string
	cmd := &cobra.Command{
		Use:   "unset CONSUMER",
		Short: "Remove some of a consumer's allocations",
		Long: `Remove a consumer's allocations on the providers given with --provider, or of
the resource classes given with --resource-class (on every provider, or on
the --provider ones), keeping the rest. Without either, remove them all.
Needs microversion 1.12; from 1.28 the write is checked against the
consumer's generation.`,
		Example: `  allot placement allocation unset 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57 --provider compute-1
  allot placement allocation unset 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57 --resource-class VGPU`,
		Args: argsUUID("CONSUMER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			v, err := p.Version(ctx)
			if err != nil {
				return nil, err
			}
			if v.Less(model.V(1, 12)) {
				return nil, errUsage("allocation unset needs microversion 1.12 or later (use allocation set)")
			}
			cur, err := p.GetAllocations(ctx, args[0])
			if err != nil {
				return nil, fmt.Errorf("allocations of consumer %s: %w", args[0], err)
			}
			if len(cur.Allocations) == 0 {
				return allocationsView(cur), nil
			}
			only := map[string]bool{}
			for _, ref := range providers {
				uuid, err := providerUUID(ctx, p, ref)
				if err != nil {
					return nil, err
				}
				only[uuid] = true
			}
			keep := map[string]map[string]int64{}
			for rp, a := range cur.Allocations {
				res := map[string]int64{}
				for class, n := range a.Resources {
					res[class] = n
				}
				hit := len(only) == 0 || only[rp]
				switch {
				case hit && len(classes) == 0:
					res = nil
				case hit:
					for _, c := range classes {
						delete(res, c)
					}
				}
				if len(res) > 0 {
					keep[rp] = res
				}
			}
			if len(keep) == 0 && v.Less(model.V(1, 28)) {
				if err := p.DeleteAllocations(ctx, args[0]); err != nil {
					return nil, fmt.Errorf("delete the allocations of consumer %s: %w", args[0], err)
				}
				return showAllocations(ctx, p, args[0])
			}
			w, err := consumerWrite(ctx, p, cur, keep, "", "", ctype)
			if err != nil {
				return nil, err
			}
			if err := p.SetAllocations(ctx, args[0], w); err != nil {
				return nil, fmt.Errorf("set the allocations of consumer %s: %w", args[0], err)
			}
			return showAllocations(ctx, p, args[0])
		}),
	}
	cmd.Flags().StringArrayVar(&providers, "provider", nil, "remove the allocations on this `PROVIDER` (UUID or name); repeatable")
	cmd.Flags().StringArrayVar(&classes, "resource-class", nil, "remove the allocations of this `RESOURCE_CLASS`; repeatable")
	cmd.Flags().StringVar(&ctype, "consumer-type", "", "the consumer's `TYPE`, for a consumer written before 1.38 (which has none)")
	return cmd
}

func newAllocationDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CONSUMER",
		Short: "Delete all of a consumer's allocations",
		Long: `Delete all of a consumer's allocations (unconditionally: "allocation unset"
checks the consumer's generation).`,
		Example: `  allot placement allocation delete 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57`,
		Args:    argsUUID("CONSUMER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if err := p.DeleteAllocations(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("delete the allocations of consumer %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}
