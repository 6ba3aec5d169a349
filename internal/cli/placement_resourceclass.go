package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

func newResourceClassCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "resource-class",
		Aliases: []string{"resource-classes", "rc"},
		Short:   "Resource classes: kinds of quantitative resources (VCPU, MEMORY_MB, CUSTOM_...)",
		Long: `Resource classes name kinds of resources that providers have inventories of.
The standard ones (VCPU, MEMORY_MB, DISK_GB, PCPU, VGPU, ...) always exist;
custom ones start with CUSTOM_ (e.g. CUSTOM_BAREMETAL_GOLD).`,
	},
		newResourceClassListCommand(o),
		newResourceClassShowCommand(o),
		newResourceClassCreateCommand(o),
		newResourceClassSetCommand(o),
		newResourceClassDeleteCommand(o),
	)
}

func newResourceClassListCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List resource classes",
		Long:    `List every resource class, standard and custom, sorted by name.`,
		Example: `  allot placement resource-class list -f value`,
		Args:    argsExactly(),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, _ []string) (*view, error) {
			rcs, err := p.ListResourceClasses(ctx)
			if err != nil {
				return nil, fmt.Errorf("list resource classes: %w", err)
			}
			names := make([]string, len(rcs))
			for i, rc := range rcs {
				names[i] = rc.Name
			}
			return nameRows(names), nil
		}),
	}
}

func newResourceClassShowCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a resource class",
		Long:    `Show a resource class; fails with the API's 404 when it does not exist.`,
		Example: `  allot placement resource-class show CUSTOM_BAREMETAL_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			rc, err := p.GetResourceClass(ctx, args[0])
			if err != nil {
				return nil, fmt.Errorf("resource class %s: %w", args[0], err)
			}
			return recordView([]string{"name"}, []any{rc.Name}), nil
		}),
	}
}

func newResourceClassCreateCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a custom resource class",
		Long: `Create a custom resource class: CUSTOM_ followed by A-Z, 0-9 and _. It is an
error if the class exists; "resource-class set" succeeds either way.`,
		Example: `  allot placement resource-class create CUSTOM_BAREMETAL_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if err := p.CreateResourceClass(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("create resource class %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}

func newResourceClassSetCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "set NAME",
		Short:   "Create a custom resource class unless it exists",
		Long:    `Make sure a custom resource class exists, creating it if needed (1.7).`,
		Example: `  allot placement resource-class set CUSTOM_BAREMETAL_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if _, err := p.EnsureResourceClass(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("set resource class %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}

func newResourceClassDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a custom resource class",
		Long:    `Delete a custom resource class that no inventory uses. Standard classes cannot be deleted.`,
		Example: `  allot placement resource-class delete CUSTOM_BAREMETAL_GOLD`,
		Args:    argsExactly("NAME"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			if err := p.DeleteResourceClass(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("delete resource class %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
}
