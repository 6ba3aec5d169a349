package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// nodeListFields are the columns of "node list", as python-ironicclient's.
var nodeListFields = []string{"uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance"}

// nodeLongFields are the columns of "node list --long", in
// python-ironicclient's order.
var nodeLongFields = []string{"allocation_uuid", "automated_clean", "bios_interface", "boot_interface", "boot_mode",
	"chassis_uuid", "clean_step", "conductor", "conductor_group", "console_enabled", "console_interface", "created_at",
	"raid_config", "deploy_interface", "deploy_step", "description", "driver", "driver_info", "driver_internal_info",
	"extra", "fault", "inspect_interface", "inspection_finished_at", "inspection_started_at", "instance_info",
	"instance_uuid", "last_error", "lessee", "maintenance", "maintenance_reason", "management_interface", "name",
	"network_data", "network_interface", "owner", "power_interface", "power_state", "properties", "protected",
	"protected_reason", "provision_updated_at", "provision_state", "raid_interface", "rescue_interface", "reservation",
	"resource_class", "retired", "retired_reason", "secure_boot", "storage_interface", "target_power_state",
	"target_provision_state", "target_raid_config", "traits", "uuid", "updated_at", "vendor_interface"}

// nodeRecord shows a node as its fields, sorted by name.
func nodeRecord(n client.Node) *view { return rawRecord(n.Raw) }

func newNodeCommand(o *clientOptions) *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:     "node",
		Aliases: []string{"nodes"},
		Short:   "Bare-metal nodes: enroll, provision and power states, maintenance, traits",
		Long: `Bare-metal nodes. A node is enrolled (state enroll), made manageable ("node
manage"), then available ("node provide"); an allocation can take it when it
is available, has a power state (after a first "node power on|off" with the
fake-hardware driver), is not in maintenance and has no instance. Wherever a
node is expected, give its UUID or its name.`,
	},
		newNodeCreateCommand(o),
		newNodeListCommand(o),
		newNodeShowCommand(o),
		newNodeSetCommand(o),
		newNodeUnsetCommand(o),
		newNodeDeleteCommand(o),
		newProvisionCommand(o, "manage", client.VerbManage, "Make a node manageable (provision verb manage)",
			`Move a node from enroll (or available, or a failed state) to manageable.`),
		newProvisionCommand(o, "provide", client.VerbProvide, "Make a node available (provision verb provide)",
			`Move a node from manageable to available, where allocations can take it.`),
		newProvisionCommand(o, "deploy", client.VerbDeploy, "Deploy a node (provision verb active)",
			`Deploy a node: available to active. An allocation made before stays with the
node; a node deployed without one can be recorded later with "allocation
create --node" (backfill).`),
		newProvisionCommand(o, "undeploy", client.VerbUndeploy, "Undeploy a node (provision verb deleted)",
			`Tear a node down: active to available. Its allocation, if any, is deleted.`),
		newNodePowerCommand(o),
		newNodeRebootCommand(o),
		newNodeMaintenanceCommand(o),
		newNodeTraitCommand(o),
	)
	cmd.AddCommand(nodeSpellings(o)...)
	return cmd
}

func newNodeCreateCommand(o *clientOptions) *cobra.Command {
	var nc client.NodeCreate
	var props, extra, driverInfo []string
	cmd := &cobra.Command{
		Use:   "create --driver DRIVER [--name NAME] [--resource-class RC] ...",
		Short: "Enroll a node",
		Long: `Enroll a node (POST /v1/nodes). --driver is required (allot knows only
fake-hardware). --property, --extra and --driver-info take KEY=VALUE and may
be repeated; a VALUE that is JSON (8, true, ["a"]) is sent as such. The new
node is in state enroll with no power state; it is shown as "node show" shows
it.`,
		Example: `  allot baremetal node create --driver fake-hardware --name node-1 --resource-class baremetal-gold
  allot baremetal node create --driver fake-hardware --name node-2 --resource-class baremetal-gold \
      --property cpus=64 --property memory_mb=262144 --extra rack=r12 --owner project-a`,
		Args: argsExactly(),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, _ []string) (*view, error) {
			if nc.Driver == "" {
				return nil, errUsage("--driver is required (e.g. --driver fake-hardware)")
			}
			var err error
			if nc.Properties, err = keyValues("property", props); err != nil {
				return nil, err
			}
			if nc.Extra, err = keyValues("extra", extra); err != nil {
				return nil, err
			}
			if nc.DriverInfo, err = keyValues("driver-info", driverInfo); err != nil {
				return nil, err
			}
			n, err := b.CreateNode(ctx, nc)
			if err != nil {
				return nil, fmt.Errorf("create node: %w", err)
			}
			return nodeRecord(n), nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&nc.Driver, "driver", "", "the node's `DRIVER` (required; allot: fake-hardware)")
	f.StringVar(&nc.Name, "name", "", "unique `NAME` of the node")
	f.StringVar(&nc.UUID, "uuid", "", "`UUID` of the node (default: chosen by the server)")
	f.StringVar(&nc.ResourceClass, "resource-class", "", "the node's resource `CLASS`, which allocations ask for")
	f.StringArrayVar(&props, "property", nil, "a `KEY=VALUE` property (repeatable)")
	f.StringArrayVar(&extra, "extra", nil, "a `KEY=VALUE` of free metadata (repeatable)")
	f.StringArrayVar(&driverInfo, "driver-info", nil, "a `KEY=VALUE` of driver information (repeatable)")
	f.StringVar(&nc.Owner, "owner", "", "the owner's `PROJECT` ID (allocations with an owner take only its nodes)")
	f.StringVar(&nc.Lessee, "lessee", "", "the lessee's `PROJECT` ID")
	f.StringVar(&nc.Description, "description", "", "free `TEXT` describing the node")
	return cmd
}

func newNodeListCommand(o *clientOptions) *cobra.Command {
	var lf listFlags
	var filter client.NodeFilter
	var maint, noMaint, assoc, unassoc bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List nodes, optionally filtered",
		Long: `List nodes in the server's order (enrollment order unless --sort), with the
columns UUID, Name, Instance UUID, Power State, Provisioning State and
Maintenance; --long shows every field, --fields the ones named. Filters
combine (AND).`,
		Example: `  allot baremetal node list
  allot baremetal node list --provision-state available --resource-class baremetal-gold --unassociated
  allot baremetal node list --fields uuid,name,traits -f json
  allot baremetal node list -c UUID -f value`,
		Args: argsExactly(),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, _ []string) (*view, error) {
			var err error
			if filter.ListOptions, err = lf.options(); err != nil {
				return nil, err
			}
			if filter.Maintenance, err = boolFilter("maintenance", maint, noMaint); err != nil {
				return nil, err
			}
			if filter.Associated, err = boolFilter("associated", assoc, unassoc); err != nil {
				return nil, err
			}
			filter.Detail = lf.long
			nodes, err := b.ListNodes(ctx, filter)
			if err != nil {
				return nil, err
			}
			objects := make([]map[string]any, len(nodes))
			for i, n := range nodes {
				objects[i] = n.Raw
			}
			return rawRows(objects, lf.columns(nodeListFields, nodeLongFields)), nil
		}),
	}
	f := cmd.Flags()
	lf.register(f, "nodes")
	f.BoolVar(&maint, "maintenance", false, "only nodes in maintenance")
	f.BoolVar(&noMaint, "no-maintenance", false, "only nodes not in maintenance")
	f.BoolVar(&assoc, "associated", false, "only nodes with an instance")
	f.BoolVar(&unassoc, "unassociated", false, "only nodes without an instance")
	f.StringVar(&filter.ProvisionState, "provision-state", "", "only nodes in this provision `STATE`")
	f.StringVar(&filter.Driver, "driver", "", "only nodes with this `DRIVER`")
	f.StringVar(&filter.ResourceClass, "resource-class", "", "only nodes of this resource `CLASS`")
	f.StringVar(&filter.Owner, "owner", "", "only nodes of this owner `PROJECT`")
	f.StringVar(&filter.Lessee, "lessee", "", "only nodes of this lessee `PROJECT`")
	return cmd
}

// boolFilter turns a --X/--no-X pair into an optional filter.
func boolFilter(name string, yes, no bool) (*bool, error) {
	switch {
	case yes && no:
		return nil, errUsage("--%s and its opposite contradict each other", name)
	case yes, no:
		return &yes, nil
	}
	return nil, nil
}

func newNodeShowCommand(o *clientOptions) *cobra.Command {
	var fields []string
	cmd := &cobra.Command{
		Use:   "show NODE",
		Short: "Show a node",
		Long: `Show a node, given by UUID or name: every field the API gives at the
microversion asked, sorted by name (links left out). --fields fetches only
the fields named.`,
		Example: `  allot baremetal node show node-1
  allot baremetal node show node-1 --fields provision_state,power_state,allocation_uuid -f json
  allot baremetal node show node-1 -c provision_state -f value`,
		Args: argsExactly("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			n, err := b.GetNode(ctx, args[0], fields...)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", args[0], err)
			}
			return nodeRecord(n), nil
		}),
	}
	cmd.Flags().StringSliceVar(&fields, "fields", nil, "fetch and show only these `FIELD`s (comma-separated or repeated)")
	return cmd
}

// nodeScalarFields are the plain node fields "node set" and "node unset"
// change; nodeObjectFields are the objects whose members they change.
var (
	nodeScalarFields = []patchField{
		{"name", "name", "the node's unique `NAME`"},
		{"resource-class", "resource_class", "the node's resource `CLASS`"},
		{"instance-uuid", "instance_uuid", "the `UUID` of the instance on the node"},
		{"owner", "owner", "the owner's `PROJECT` ID"},
		{"lessee", "lessee", "the lessee's `PROJECT` ID"},
		{"description", "description", "free `TEXT` describing the node"},
	}
	nodeObjectFields = []patchField{
		{"property", "properties", "a property: `KEY=VALUE` (repeatable)"},
		{"extra", "extra", "free metadata: `KEY=VALUE` (repeatable)"},
		{"driver-info", "driver_info", "driver information: `KEY=VALUE` (repeatable)"},
		{"instance-info", "instance_info", "instance information: `KEY=VALUE` (repeatable)"},
	}
)

// unsetFields rewrites the help of set options for unset (--FLAG, or
// --FLAG KEY for objects).
func unsetFields(fields []patchField, object bool) []patchField {
	out := make([]patchField, len(fields))
	for i, f := range fields {
		out[i] = f
		if object {
			out[i].help = "remove this `KEY` from " + f.path + " (repeatable)"
		} else {
			out[i].help = "unset the node's " + f.path
		}
	}
	return out
}

func newNodeSetCommand(o *clientOptions) *cobra.Command {
	var p *patchOptions
	cmd := &cobra.Command{
		Use:   "set NODE [--name NAME] [--resource-class RC] [--property KEY=VALUE]...",
		Short: "Change a node's fields",
		Long: `Change a node's fields with one JSON patch (PATCH /v1/nodes/{node}), as
python-ironicclient does: every option is an "add" operation, which sets a
field or an object member. A VALUE that is JSON (8, true) is sent as such.
Setting --instance-uuid associates the node with an instance (Ironic refuses
it while an allocation holds the node). Shows the node.`,
		Example: `  allot baremetal node set node-1 --name node-01 --resource-class baremetal-silver
  allot baremetal node set node-1 --property cpus=64 --extra rack=r12
  allot baremetal node set node-1 --instance-uuid 4f0b6fb4-8a51-4c6e-9d8e-0a1b2c3d4e5f`,
		Args: argsExactly("NODE"),
		RunE: runNodePatch(o, &p),
	}
	p = addSetFlags(cmd.Flags(), nodeScalarFields, nodeObjectFields)
	return cmd
}

func newNodeUnsetCommand(o *clientOptions) *cobra.Command {
	var p *patchOptions
	cmd := &cobra.Command{
		Use:   "unset NODE [--instance-uuid] [--property KEY] [--extra KEY]...",
		Short: "Unset a node's fields",
		Long: `Unset a node's fields or remove object members with one JSON patch of
"remove" operations. Unsetting --instance-uuid of an allocated node deletes
its allocation (allowed while the node is not deployed, or in maintenance).
Shows the node.`,
		Example: `  allot baremetal node unset node-1 --instance-uuid
  allot baremetal node unset node-1 --property cpus --extra rack`,
		Args: argsExactly("NODE"),
		RunE: runNodePatch(o, &p),
	}
	p = addUnsetFlags(cmd.Flags(), unsetFields(nodeScalarFields, false), unsetFields(nodeObjectFields, true))
	return cmd
}

// runNodePatch sends the JSON patch that node set or unset's options
// describe (*p, filled in once the flags are defined) and shows the node.
func runNodePatch(o *clientOptions, p **patchOptions) func(*cobra.Command, []string) error {
	return o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
		ops, err := (*p).ops()
		if err != nil {
			return nil, err
		}
		n, err := b.UpdateNode(ctx, args[0], ops)
		if err != nil {
			return nil, fmt.Errorf("update node %s: %w", args[0], err)
		}
		return nodeRecord(n), nil
	})
}

func newNodeDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NODE...",
		Short: "Delete nodes",
		Long: `Delete nodes. A node with an instance is refused unless it is in maintenance
(its allocation is then deleted with it). Every node is tried; the failures
are reported together (exit 1).`,
		Example: `  allot baremetal node delete node-1 node-2`,
		Args:    argsAtLeast("NODE..."),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, cmd *cobra.Command, args []string) (*view, error) {
			return nil, forEach(cmd.OutOrStdout(), args, "Deleted node %s", "delete node %s", func(n string) error {
				return b.DeleteNode(ctx, n)
			})
		}),
	}
}

// newProvisionCommand builds a provision-verb command ("node manage", ...).
func newProvisionCommand(o *clientOptions, name, verb, short, long string) *cobra.Command {
	var wait waitFlag
	want := client.ProvisionResult[verb]
	cmd := &cobra.Command{
		Use:   name + " NODE [--wait [SECONDS]]",
		Short: short,
		Long: long + `

Sends PUT /v1/nodes/{node}/states/provision {"target": "` + verb + `"}. Ironic
changes states asynchronously (allot at once): --wait polls until the node is
` + want + `, and fails (exit 1, with the node's last_error) if it lands in a
failed state, or after SECONDS.`,
		Example: fmt.Sprintf("  allot baremetal node %s node-1\n  allot baremetal node %s node-1 --wait 120", name, name),
		Args:    wait.args(1, argsExactly("NODE")),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			args = wait.take(args, 1)
			if err := b.SetProvisionState(ctx, args[0], verb); err != nil {
				return nil, fmt.Errorf("%s node %s: %w", name, args[0], err)
			}
			if wait.set {
				if _, err := b.WaitForProvisionState(ctx, args[0], want, wait.timeout()); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}),
	}
	wait.register(cmd.Flags(), "the node is "+want)
	return cmd
}

// powerCommand builds a power-action command; soft names the target used
// with --soft ("" when there is none).
func powerCommand(o *clientOptions, use, short, long, example, target, soft string) *cobra.Command {
	var isSoft bool
	var timeout int
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    argsExactly("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			t := target
			if isSoft {
				t = soft
			}
			if timeout < 0 {
				return nil, errUsage("--power-timeout %d: want a positive number of seconds", timeout)
			}
			if err := b.SetPowerState(ctx, args[0], t, timeout); err != nil {
				return nil, fmt.Errorf("%s node %s: %w", t, args[0], err)
			}
			return nil, nil
		}),
	}
	if soft != "" {
		cmd.Flags().BoolVar(&isSoft, "soft", false, "ask the operating system to do it ("+soft+")")
	}
	cmd.Flags().IntVar(&timeout, "power-timeout", 0, "`SECONDS` the driver may take (default: the server's)")
	return cmd
}

func newNodePowerCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:   "power",
		Short: "Power a node on or off",
		Long:  `Power actions (PUT /v1/nodes/{node}/states/power).`,
	},
		powerCommand(o, "on NODE", "Power a node on", `Power a node on. With fake-hardware, a node has no power state until its
first power action, and allocations do not take it before.`,
			"  allot baremetal node power on node-1", client.PowerOn, ""),
		powerCommand(o, "off NODE [--soft]", "Power a node off", `Power a node off; --soft asks its operating system to shut down.`,
			"  allot baremetal node power off node-1\n  allot baremetal node power off node-1 --soft --power-timeout 60", client.PowerOff, client.PowerSoftOff),
	)
}

func newNodeRebootCommand(o *clientOptions) *cobra.Command {
	return powerCommand(o, "reboot NODE [--soft]", "Reboot a node", `Reboot a node (power target rebooting); --soft asks its operating system to
reboot (soft rebooting).`,
		"  allot baremetal node reboot node-1", client.PowerReboot, client.PowerSoftRebooting)
}

func newNodeMaintenanceCommand(o *clientOptions) *cobra.Command {
	var reason string
	set := &cobra.Command{
		Use:   "set NODE [--reason TEXT]",
		Short: "Put a node in maintenance",
		Long: `Put a node in maintenance (PUT /v1/nodes/{node}/maintenance): allocations no
longer take it, and its allocation may be deleted while it is deployed.`,
		Example: `  allot baremetal node maintenance set node-1 --reason "disk swap"`,
		Args:    argsExactly("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			if err := b.SetMaintenance(ctx, args[0], reason); err != nil {
				return nil, fmt.Errorf("maintenance of node %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
	set.Flags().StringVar(&reason, "reason", "", "why (shown as maintenance_reason)")
	unset := &cobra.Command{
		Use:     "unset NODE",
		Short:   "Take a node out of maintenance",
		Long:    `Take a node out of maintenance (DELETE /v1/nodes/{node}/maintenance).`,
		Example: `  allot baremetal node maintenance unset node-1`,
		Args:    argsExactly("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			if err := b.UnsetMaintenance(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("maintenance of node %s: %w", args[0], err)
			}
			return nil, nil
		}),
	}
	return groupCommand(&cobra.Command{
		Use:   "maintenance",
		Short: "Put a node in or out of maintenance",
		Long:  `A node in maintenance is left alone: allocations do not take it.`,
	}, set, unset)
}

func newNodeTraitCommand(o *clientOptions) *cobra.Command {
	list := &cobra.Command{
		Use:     "list NODE",
		Short:   "List a node's traits",
		Long:    `List the traits of a node (microversion 1.37), in the column Traits.`,
		Example: `  allot baremetal node trait list node-1`,
		Args:    argsExactly("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			traits, err := b.NodeTraits(ctx, args[0])
			if err != nil {
				return nil, fmt.Errorf("traits of node %s: %w", args[0], err)
			}
			rows := make([][]any, len(traits))
			for i, t := range traits {
				rows[i] = []any{t}
			}
			return listView([]string{"Traits"}, rows), nil
		}),
	}
	add := &cobra.Command{
		Use:   "add NODE TRAIT...",
		Short: "Add traits to a node",
		Long: `Add traits to a node, one request each (PUT /v1/nodes/{node}/traits/{trait}).
A trait is a standard one (HW_CPU_X86_AVX2, ...) or CUSTOM_ followed by A-Z,
0-9 and _. Allocations asking for traits take only nodes that have them all.`,
		Example: `  allot baremetal node trait add node-1 CUSTOM_GPU HW_CPU_X86_AVX2`,
		Args:    argsAtLeast("NODE", "TRAIT..."),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, cmd *cobra.Command, args []string) (*view, error) {
			return nil, forEach(cmd.OutOrStdout(), args[1:], "Added trait %s", "add trait %s", func(t string) error {
				return b.AddNodeTrait(ctx, args[0], t)
			})
		}),
	}
	var all bool
	remove := &cobra.Command{
		Use:   "remove NODE [TRAIT...] [--all]",
		Short: "Remove traits from a node",
		Long:  `Remove the traits named from a node, or all of them with --all.`,
		Example: `  allot baremetal node trait remove node-1 CUSTOM_GPU
  allot baremetal node trait remove node-1 --all`,
		Args: argsAtLeast("NODE"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, cmd *cobra.Command, args []string) (*view, error) {
			switch {
			case all && len(args) > 1:
				return nil, errUsage("give traits or --all, not both")
			case all:
				if err := b.RemoveAllNodeTraits(ctx, args[0]); err != nil {
					return nil, fmt.Errorf("remove the traits of node %s: %w", args[0], err)
				}
				return nil, nil
			case len(args) == 1:
				return nil, errUsage("give the traits to remove, or --all")
			}
			return nil, forEach(cmd.OutOrStdout(), args[1:], "Removed trait %s", "remove trait %s", func(t string) error {
				return b.RemoveNodeTrait(ctx, args[0], t)
			})
		}),
	}
	remove.Flags().BoolVar(&all, "all", false, "remove every trait of the node")
	return groupCommand(&cobra.Command{
		Use:     "trait",
		Aliases: []string{"traits"},
		Short:   "A node's traits",
		Long:    `The traits of a node: qualitative properties allocations can ask for.`,
	}, list, add, remove)
}
