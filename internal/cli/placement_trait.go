package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// nameRows makes one "name" row per string, sorted.
func nameRows(names []string) *view {
	rows := make([][]any, 0, len(names))
	for _, n := range sortedStrings(names) {
		rows = append(rows, []any{n})
	}
	return listView([]string{"name"}, rows)
}

func newTraitCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "trait",
		Aliases: []string{"traits"},
		Short:   "Traits: qualitative properties of providers (HW_CPU_X86_AVX2, CUSTOM_...)",
		Long: `Traits name qualitative properties of resource providers. The standard ones
(os-traits: HW_*, COMPUTE_*, STORAGE_*, ...) always exist; custom ones start
with CUSTOM_. Attach them to providers with "resource-provider trait set".`,
	},
		newTraitListCommand(o),
		newTraitShowCommand(o),
		newTraitCreateCommand(o),
		newTraitDeleteCommand(o),
	)
}

func newTraitListCommand(o *clientOptions) *cobra.Command {
	var name string
	var associated bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List traits",
		Long: `List traits, sorted by name. --name startswith:PREFIX or --name in:A,B
filters by name; --associated keeps only traits some provider has.`,
		Example: `  allot placement trait list --name startswith:CUSTOM_
  allot placement trait list --associated -f value`,
		Args: argsExactly(),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
			f := client.TraitFilter{Name: name}
			if associated {
				f.Associated = &associated
			}
			traits, err := p.ListTraits(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("list traits: %w", err)
			}
			return nameRows(traits), nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "`FILTER`: startswith:PREFIX or in:NAME1,NAME2")
	cmd.Flags().BoolVar(&associated, "associated", false, "only traits associated with at least one provider")
	return cmd
}

func newTraitShowCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Check that a trait exists",
		Long:    `Show a trait: succeeds (and prints its name) when the trait exists, fails with the API's 404 otherwise.`,
		Example: `  allot placement trait show HW_CPU_X86_AVX2`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if err := p.GetTrait(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("trait %s: %w", args[0], err)
			}
			return recordView([]string{"name"}, []any{args[0]}), nil
		}),
	}
}

func newTraitCreateCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a custom trait",
		Long: `Create a custom trait. Its name starts with CUSTOM_ and uses only A-Z, 0-9 and
_. Creating a trait that exists succeeds.`,
		Example: `  allot placement trait create CUSTOM_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if _, err := p.CreateTrait(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("create trait %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}

func newTraitDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a custom trait",
		Long:    `Delete a custom trait that no provider has. Standard traits cannot be deleted.`,
		Example: `  allot placement trait delete CUSTOM_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if err := p.DeleteTrait(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("delete trait %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}

func newProviderTraitCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "trait",
		Aliases: []string{"traits"},
		Short:   "A resource provider's traits",
		Long:    `The traits of a resource provider.`,
	},
		newProviderTraitListCommand(o),
		newProviderTraitSetCommand(o),
		newProviderTraitDeleteCommand(o),
	)
}

func newProviderTraitListCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list PROVIDER",
		Short:   "List a resource provider's traits",
		Long:    `List the traits of a resource provider, sorted by name.`,
		Example: `  allot placement resource-provider trait list compute-1`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			pt, err := p.GetProviderTraits(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("traits of resource provider %s: %w", args[0], err)
			}
			return nameRows(pt.Traits), nil
		}),
	}
}

func newProviderTraitSetCommand(o *clientOptions) *cobra.Command {
	var traits []string
	var amend bool
	cmd := &cobra.Command{
		Use:   "set PROVIDER --trait TRAIT...",
		Short: "Set a resource provider's traits",
		Long: `Set the traits of a resource provider: the --trait options replace all of its
traits (with --amend they are added to them). Every trait must exist (create
custom ones with "trait create"). The provider's generation is read and sent
for you; if someone changes the provider in between, the command fails with
a conflict: run it again.`,
		Example: `  allot placement resource-provider trait set compute-1 --trait HW_CPU_X86_AVX2 --trait CUSTOM_GOLD
  allot placement resource-provider trait set compute-1 --amend --trait COMPUTE_STATUS_DISABLED`,
		Args: argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			cur, err := p.GetProviderTraits(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("traits of resource provider %s: %w", args[0], err)
			}
			want := traits
			if amend {
				want = union(cur.Traits, traits)
			}
			pt, err := p.SetProviderTraits(ctx, uuid, cur.Generation, want)
			if err != nil {
				return nil, fmt.Errorf("set the traits of resource provider %s: %w", args[0], err)
			}
			return nameRows(pt.Traits), nil
		}),
	}
	cmd.Flags().StringArrayVar(&traits, "trait", nil, "a `TRAIT` of the provider; repeatable")
	cmd.Flags().BoolVar(&amend, "amend", false, "add the traits to the provider's instead of replacing them")
	return cmd
}

// union returns the sorted union of a and b without duplicates.
func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func newProviderTraitDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "delete PROVIDER",
		Short:   "Remove all traits from a resource provider",
		Long:    `Remove every trait from a resource provider.`,
		Example: `  allot placement resource-provider trait delete compute-1`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			if err := p.DeleteProviderTraits(ctx, uuid); err != nil {
				return nil, fmt.Errorf("delete the traits of resource provider %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}
