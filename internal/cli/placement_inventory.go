package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// inventoryFields are an inventory's fields in osc-placement's column order.
var inventoryFields = []string{"allocation_ratio", "min_unit", "max_unit", "reserved", "step_size", "total"}

// inventoryValues returns an inventory's values in inventoryFields order.
func inventoryValues(inv client.Inventory) []any {
	return []any{inv.AllocationRatio, inv.MinUnit, inv.MaxUnit, inv.Reserved, inv.StepSize, inv.Total}
}

// specValues returns a write's values in inventoryFields order (nil where
// the server's default applies).
func specValues(s client.InventorySpec) []any {
	val := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var ratio any
	if s.AllocationRatio != nil {
		ratio = *s.AllocationRatio
	}
	return []any{ratio, val(s.MinUnit), val(s.MaxUnit), val(s.Reserved), val(s.StepSize), val(s.Total)}
}

func newInventoryCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "inventory",
		Aliases: []string{"inventories"},
		Short:   "A resource provider's inventories: how much of each resource class it has",
		Long: `A resource provider's inventories. Each resource class a provider offers has
one inventory: total, reserved (kept back), min_unit and max_unit (the
smallest and largest single allocation), step_size (allocations are
multiples of it) and allocation_ratio (overcommit). The capacity is
(total - reserved) * allocation_ratio.`,
	},
		newInventoryListCommand(o),
		newInventoryShowCommand(o),
		newInventorySetCommand(o),
		newInventoryDeleteCommand(o),
	)
}

func newInventoryListCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list PROVIDER",
		Short:   "List a resource provider's inventories, with their usage",
		Long:    `List a resource provider's inventories, one row per resource class, with the amount in use.`,
		Example: `  allot placement resource-provider inventory list compute-1`,
		Args:    argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			invs, err := p.GetInventories(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("inventories of resource provider %s: %w", args[0], err)
			}
			usages, err := p.GetProviderUsages(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("usages of resource provider %s: %w", args[0], err)
			}
			var rows [][]any
			for _, class := range sortedKeys(invs.Inventories) {
				row := append([]any{class}, inventoryValues(invs.Inventories[class])...)
				rows = append(rows, append(row, usages.Usages[class]))
			}
			return listView(append(append([]string{"resource_class"}, inventoryFields...), "used"), rows), nil
		}),
	}
}

func newInventoryShowCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "show PROVIDER RESOURCE_CLASS",
		Short:   "Show one inventory of a resource provider, with its usage",
		Long:    `Show the inventory of one resource class of a resource provider, with the amount in use.`,
		Example: `  allot placement resource-provider inventory show compute-1 VCPU`,
		Args:    argsExactly("PROVIDER", "RESOURCE_CLASS"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			inv, err := p.GetInventory(ctx, uuid, args[1])
			if err != nil {
				return nil, fmt.Errorf("inventory %s of resource provider %s: %w", args[1], args[0], err)
			}
			usages, err := p.GetProviderUsages(ctx, uuid)
			if err != nil {
				return nil, fmt.Errorf("usages of resource provider %s: %w", args[0], err)
			}
			return recordView(append(append([]string{}, inventoryFields...), "used"),
				append(inventoryValues(inv), usages.Usages[args[1]])), nil
		}),
	}
}

// inventoryChange is one "RC=VALUE" or "RC:FIELD=VALUE" item.
type inventoryChange struct {
	class, field, value string
}

// parseInventoryChanges reads a comma list of inventory changes.
func parseInventoryChanges(s string) ([]inventoryChange, error) {
	var out []inventoryChange
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		key, value, ok := strings.Cut(item, "=")
		if !ok || key == "" || value == "" {
			return nil, fmt.Errorf("%q: want RESOURCE_CLASS=TOTAL or RESOURCE_CLASS:FIELD=VALUE, e.g. VCPU=8 or VCPU:allocation_ratio=4.0", item)
		}
		class, field, hasField := strings.Cut(key, ":")
		if !hasField {
			field = "total"
		}
		if class == "" || strings.Contains(field, ":") {
			return nil, fmt.Errorf("%q: want RESOURCE_CLASS:FIELD=VALUE", item)
		}
		out = append(out, inventoryChange{class: class, field: field, value: value})
	}
	return out, nil
}

// apply sets the change's field in spec.
func (c inventoryChange) apply(spec *client.InventorySpec) error {
	known := false
	for _, f := range inventoryFields {
		known = known || f == c.field
	}
	if !known {
		return fmt.Errorf("%s:%s=%s: unknown inventory field %q; the fields are %s", c.class, c.field, c.value, c.field, strings.Join(inventoryFields, ", "))
	}
	if c.field == "allocation_ratio" {
		f, err := strconv.ParseFloat(c.value, 64)
		if err != nil {
			return fmt.Errorf("%s:%s=%s: the allocation ratio must be a number", c.class, c.field, c.value)
		}
		spec.AllocationRatio = &f
		return nil
	}
	n, err := strconv.ParseInt(c.value, 10, 64)
	if err != nil {
		return fmt.Errorf("%s:%s=%s: %s must be an integer", c.class, c.field, c.value, c.field)
	}
	switch c.field {
	case "total":
		spec.Total = &n
	case "reserved":
		spec.Reserved = &n
	case "min_unit":
		spec.MinUnit = &n
	case "max_unit":
		spec.MaxUnit = &n
	case "step_size":
		spec.StepSize = &n
	}
	return nil
}

func newInventorySetCommand(o *clientOptions) *cobra.Command {
	var resources []string
	var amend, dryRun bool
	cmd := &cobra.Command{
		Use:   "set PROVIDER [RC=TOTAL,...]...",
		Short: "Set a resource provider's inventories",
		Long: `Set a resource provider's inventories. Each change is RC=TOTAL or
RC:FIELD=VALUE, with FIELD one of total, reserved, min_unit, max_unit,
step_size and allocation_ratio; give them as comma lists after the provider,
or one by one with --resource (osc-placement's form). Fields not given take
the API's defaults (reserved 0, min_unit 1, max_unit 2147483647, step_size 1,
allocation_ratio 1.0).

This replaces the provider's whole inventory: classes not named are removed.
With --amend, the named classes and fields change and everything else stays.
The provider's generation is read and sent for you; if someone changes the
provider in between, the command fails with a conflict: run it again.`,
		Example: `  allot placement resource-provider inventory set compute-1 VCPU=8,MEMORY_MB=16384,DISK_GB=500
  allot placement resource-provider inventory set compute-1 --resource VCPU=8 --resource VCPU:allocation_ratio=4.0
  allot placement resource-provider inventory set compute-1 --amend VCPU:reserved=1`,
		Args: argsAtLeast("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			var changes []inventoryChange
			for _, s := range append(append([]string{}, args[1:]...), resources...) {
				cs, err := parseInventoryChanges(s)
				if err != nil {
					return nil, usageError{err}
				}
				changes = append(changes, cs...)
			}
			if len(changes) == 0 {
				return nil, errUsage("nothing to set: give RC=TOTAL,... or --resource RC:FIELD=VALUE (to remove inventories use \"inventory delete\")")
			}
			rp, err := findProvider(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			specs := map[string]client.InventorySpec{}
			generation := rp.Generation
			if amend {
				cur, err := p.GetInventories(ctx, rp.UUID)
				if err != nil {
					return nil, fmt.Errorf("inventories of resource provider %s: %w", args[0], err)
				}
				generation = cur.Generation
				for class, inv := range cur.Inventories {
					specs[class] = inv.Spec()
				}
			}
			for _, c := range changes {
				spec := specs[c.class]
				if err := c.apply(&spec); err != nil {
					return nil, usageError{err}
				}
				specs[c.class] = spec
			}
			for _, class := range sortedKeys(specs) {
				if specs[class].Total == nil {
					return nil, errUsage("%s has no total: give %s=TOTAL", class, class)
				}
			}
			columns := append([]string{"resource_class"}, inventoryFields...)
			if dryRun {
				var rows [][]any
				for _, class := range sortedKeys(specs) {
					rows = append(rows, append([]any{class}, specValues(specs[class])...))
				}
				return listView(columns, rows), nil
			}
			invs, err := p.SetInventories(ctx, rp.UUID, generation, specs)
			if err != nil {
				return nil, fmt.Errorf("set inventories of resource provider %s: %w", args[0], err)
			}
			var rows [][]any
			for _, class := range sortedKeys(invs.Inventories) {
				rows = append(rows, append([]any{class}, inventoryValues(invs.Inventories[class])...))
			}
			return listView(columns, rows), nil
		}),
	}
	cmd.Flags().StringArrayVar(&resources, "resource", nil, "an inventory change `RC=TOTAL` or RC:FIELD=VALUE; repeatable")
	cmd.Flags().BoolVar(&amend, "amend", false, "change only the classes and fields given, keep the rest")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the inventories that would be set, set nothing")
	return cmd
}

func newInventoryDeleteCommand(o *clientOptions) *cobra.Command {
	var classes []string
	cmd := &cobra.Command{
		Use:   "delete PROVIDER",
		Short: "Delete a resource provider's inventories",
		Long: `Delete the inventories of the classes given with --resource-class, or all of
the provider's inventories without it (1.5). An inventory in use cannot be
deleted.`,
		Example: `  allot placement resource-provider inventory delete compute-1 --resource-class DISK_GB
  allot placement resource-provider inventory delete compute-1`,
		Args: argsExactly("PROVIDER"),
		RunE: o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			uuid, err := providerUUID(ctx, p, args[0])
			if err != nil {
				return nil, err
			}
			if len(classes) == 0 {
				if err := p.DeleteInventories(ctx, uuid); err != nil {
					return nil, fmt.Errorf("delete the inventories of resource provider %s: %w", args[0], err)
				}
				return nil, nil
			}
			for _, class := range classes {
				if err := p.DeleteInventory(ctx, uuid, class); err != nil {
					return nil, fmt.Errorf("delete inventory %s of resource provider %s: %w", class, args[0], err)
				}
			}
			return nil, nil
		}),
	}
	cmd.Flags().StringArrayVar(&classes, "resource-class", nil, "delete only this `RESOURCE_CLASS`'s inventory; repeatable")
	return cmd
}
