package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// providerColumns are the columns of a provider, as osc-placement shows them.
var providerColumns = []string{"uuid", "name", "generation", "root_provider_uuid", "parent_provider_uuid"}

func providerRow(rp client.Provider) []any {
	return []any{rp.UUID, rp.Name, rp.Generation, nullable(rp.RootProviderUUID), nullable(rp.ParentProviderUUID)}
}

func providerRecord(rp client.Provider) *view {
	return recordView(providerColumns, providerRow(rp))
}

func newResourceProviderCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "resource-provider",
		Aliases: []string{"rp", "provider"},
		Short:   "Resource providers and their inventories, traits, aggregates and usages",
		Long: `Resource providers: compute hosts, NUMA nodes, devices, shared storage pools...
anything with an inventory of resources. Wherever a provider is expected,
give its UUID or its name.`,
	},
		newProviderCreateCommand(o),
		newProviderListCommand(o),
		newProviderShowCommand(o),
		newProviderSetCommand(o),
		newProviderDeleteCommand(o),
		newInventoryCommand(o),
		newProviderTraitCommand(o),
		newAggregateCommand(o),
		newProviderUsageCommand(o),
	)
}

func newProviderCreateCommand(o *clientOptions) *cobra.Command {
	var uuid, parent string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a resource provider",
		Long: `Create a resource provider named NAME (unique, at most 200 characters). The
server picks the UUID unless --uuid gives one. --parent-provider makes it a
child in a provider tree (microversion 1.14), e.g. a NUMA node of a host.`,
		Example: `  allot placement resource-provider create compute-1
  allot placement resource-provider create compute-1-numa0 --parent-provider compute-1`,
		Args: argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			np := client.NewProvider{Name: args[0], UUID: uuid}
			if parent != "" {
				var err error
				if np.ParentProviderUUID, err = providerUUID(ctx, p, parent); err != nil {
					return nil, fmt.Errorf("--parent-provider: %w", err)
				}
			}
			rp, err := p.CreateProvider(ctx, np)
			if err != nil {
				return nil, fmt.Errorf("create resource provider %s: %w", args[0], err)
			}
			return providerRecord(rp), nil
		}),
	}
	cmd.Flags().StringVar(&uuid, "uuid", "", "`UUID` of the new provider (default: chosen by the server)")
	cmd.Flags().StringVar(&parent, "parent-provider", "", "parent `PROVIDER` (UUID or name); omit for a root")
	return cmd
}

// providerListFlags are the filters of "resource-provider list".
type providerListFlags struct {
	name, uuid, inTree, resources string
	resource                      []string
	memberOf, aggregateUUIDs      []string
	required, forbidden           []string
}

// filter builds the API filter, with osc-placement's meaning of comma lists.
func (f *providerListFlags) filter(ctx context.Context, p *client.Placement) (client.ProviderFilter, error) {
	pf := client.ProviderFilter{Name: f.name, UUID: f.uuid}
	var res []string
	if f.resources != "" {
		res = append(res, f.resources)
	}
	res = append(res, f.resource...)
	if len(res) > 0 {
		rs, err := parseResources(strings.Join(res, ","))
		if err != nil {
			return pf, usageError{fmt.Errorf("--resource(s): %w", err)}
		}
		pf.Resources = client.FormatResources(rs)
	}
	g := candidateGroup{required: f.required, forbidden: f.forbidden, memberOf: f.memberOf, aggregateUUIDs: f.aggregateUUIDs}
	var err error
	if pf.Required, err = g.requiredValues(); err != nil {
		return pf, err
	}
	pf.MemberOf = g.memberOfValues()
	if f.inTree != "" {
		if pf.InTree, err = providerUUID(ctx, p, f.inTree); err != nil {
			return pf, fmt.Errorf("--in-tree: %w", err)
		}
	}
	return pf, nil
}

func newProviderListCommand(o *clientOptions) *cobra.Command {
	f := &providerListFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List resource providers, optionally filtered",
		Long: `List resource providers, sorted by name. Filters combine (AND); each is
checked on every provider by itself, not across its tree:
  --name NAME, --uuid UUID       exact match
  --member-of AGG                in the aggregate (1.3); A,B or in:A,B: in any of
                                 them; !AGG or !in:A,B: in none (1.32); repeatable
  --resources VCPU:4,DISK_GB:10  with capacity for these amounts (1.4); also
  --resource VCPU=4              osc-placement's form, repeatable
  --in-tree PROVIDER             in that provider's tree (1.14)
  --required TRAIT               with the trait (1.18); !TRAIT: without (1.22);
                                 A,B or in:A,B: any of them (1.39); repeatable
  --forbidden TRAIT              without the trait; repeatable`,
		Example: `  allot placement resource-provider list
  allot placement resource-provider list --resources VCPU:4 --required HW_CPU_X86_AVX2
  allot placement resource-provider list --in-tree compute-1 -c name -f value`,
		Args: argsExactly(),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
			pf, err := f.filter(ctx, p)
			if err != nil {
				return nil, err
			}
			rps, err := p.ListProviders(ctx, pf)
			if err != nil {
				return nil, err
			}
			sort.Slice(rps, func(i, j int) bool {
				if rps[i].Name != rps[j].Name {
					return rps[i].Name < rps[j].Name
				}
				return rps[i].UUID < rps[j].UUID
			})
			rows := make([][]any, len(rps))
			for i, rp := range rps {
				rows[i] = providerRow(rp)
			}
			return listView(providerColumns, rows), nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "only the provider with this `NAME`")
	fl.StringVar(&f.uuid, "uuid", "", "only the provider with this `UUID`")
	fl.StringArrayVar(&f.memberOf, "member-of", nil, "in this `AGGREGATE` (A,B or in:A,B: any of; !A or !in:A,B: none of); repeatable")
	fl.StringArrayVar(&f.aggregateUUIDs, "aggregate-uuid", nil, "deprecated form of --member-of")
	fl.StringVar(&f.resources, "resources", "", "with capacity for `RC:N,...`")
	fl.StringArrayVar(&f.resource, "resource", nil, "with capacity for `RC=N` (osc-placement's form); repeatable")
	fl.StringVar(&f.inTree, "in-tree", "", "in the tree of this `PROVIDER` (UUID or name)")
	fl.StringArrayVar(&f.required, "required", nil, "with this `TRAIT` (!TRAIT: without; A,B or in:A,B: any of); repeatable")
	fl.StringArrayVar(&f.forbidden, "forbidden", nil, "without this `TRAIT`; repeatable")
	_ = fl.MarkHidden("aggregate-uuid")
	return cmd
}

func newProviderShowCommand(o *clientOptions) *cobra.Command {
	var allocations bool
	cmd := &cobra.Command{
		Use:   "show PROVIDER",
		Short: "Show a resource provider",
		Long: `Show a resource provider, given by UUID or name. --allocations adds what each
consumer holds on it.`,
		Example: `  allot placement resource-provider show compute-1
  allot placement resource-provider show compute-1 --allocations -f json`,
		Args: argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			rp, err := findProvider(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			v := providerRecord(rp)
			if allocations {
				pa, err := p.GetProviderAllocations(ctx, rp.UUID)
				if err != nil {
					return nil, fmt.Errorf("allocations of resource provider %s: %w", args[0], err)
				}
				v = recordView(append(append([]string{}, providerColumns...), "allocations"),
					append(providerRow(rp), consumerAllocationsCell(pa.Allocations)))
			}
			return v, nil
		}),
	}
	cmd.Flags().BoolVar(&allocations, "allocations", false, "also show the allocations held on the provider")
	return cmd
}

// allocationsCell shows a provider's allocations: one line per consumer in
// tables, the API's object in json and yaml.
type allocationsCell map[string]client.ProviderConsumerAllocation

func consumerAllocationsCell(m map[string]client.ProviderConsumerAllocation) any {
	if m == nil {
		m = map[string]client.ProviderConsumerAllocation{}
	}
	return allocationsCell(m)
}

// MarshalJSON writes the API's object.
func (c allocationsCell) MarshalJSON() ([]byte, error) {
	return jsonMarshal(map[string]client.ProviderConsumerAllocation(c))
}

// Lines formats one line per consumer: "CONSUMER: RC=N, RC=N".
func (c allocationsCell) Lines() lines {
	var out lines
	for _, consumer := range sortedKeys(c) {
		out = append(out, consumer+": "+cellText(c[consumer].Resources, true))
	}
	return out
}

func newProviderSetCommand(o *clientOptions) *cobra.Command {
	var name, parent string
	var noParent bool
	cmd := &cobra.Command{
		Use:   "set PROVIDER",
		Short: "Rename a resource provider or change its parent",
		Long: `Rename a resource provider (--name) or change its parent: --parent-provider
sets it (a provider without a parent can get one from 1.14; moving a child
to another parent needs 1.37), --no-parent makes it a root (1.37).`,
		Example: `  allot placement resource-provider set compute-1 --name compute-01
  allot placement resource-provider set numa0 --parent-provider compute-2`,
		Args: argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if name == "" && parent == "" && !noParent {
				return nil, errUsage("nothing to change: give --name, --parent-provider or --no-parent")
			}
			if parent != "" && noParent {
				return nil, errUsage("--parent-provider and --no-parent contradict each other")
			}
			rp, err := findProvider(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			u := client.ProviderUpdate{Name: rp.Name, SetParent: noParent}
			if name != "" {
				u.Name = name
			}
			if parent != "" {
				u.SetParent = true
				if u.ParentProviderUUID, err = providerUUID(ctx, p, parent); err != nil {
					return nil, fmt.Errorf("--parent-provider: %w", err)
				}
			}
			updated, err := p.UpdateProvider(ctx, rp.UUID, u)
			if err != nil {
				return nil, fmt.Errorf("update resource provider %s: %w", args[0], err)
			}
			return providerRecord(updated), nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the new `NAME`")
	cmd.Flags().StringVar(&parent, "parent-provider", "", "the new parent `PROVIDER` (UUID or name)")
	cmd.Flags().BoolVar(&noParent, "no-parent", false, "make the provider a root (1.37)")
	return cmd
}

func newProviderDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete PROVIDER...",
		Short: "Delete resource providers",
		Long: `Delete resource providers (with their inventories, traits and aggregate
links). A provider with children or allocations cannot be deleted.`,
		Example: `  allot placement resource-provider delete compute-1-numa0 compute-1`,
		Args:    argsAtLeast("PROVIDER..."),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			for _, ref := range args {
				uuid, err := providerUUID(ctx, p, ref)
				if err != nil {
					return nil, err
				}
				if err := p.DeleteProvider(ctx, uuid); err != nil {
					return nil, fmt.Errorf("delete resource provider %s: %w", ref, err)
				}
			}
			return nil, nil
		}),
	}
}
