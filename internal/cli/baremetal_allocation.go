package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"allot/internal/client"
)

// allocationListFields are the columns of "allocation list", as
// python-ironicclient's; allocationLongFields those of --long.
var (
	allocationListFields = []string{"uuid", "name", "resource_class", "state", "node_uuid"}
	allocationLongFields = []string{"uuid", "name", "state", "owner", "node_uuid", "last_error", "resource_class",
		"traits", "candidate_nodes", "extra", "created_at", "updated_at"}
)

// allocationRecord shows an allocation as its fields, sorted by name.
func allocationRecord(a client.Allocation) *view { return rawRecord(a.Raw) }

func newBaremetalAllocationCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:     "allocation",
		Aliases: []string{"allocations"},
		Short:   "Allocations: claim an available node by resource class and traits",
		Long: `An allocation asks for one node of a resource class, with all the traits
given, optionally among candidate nodes. The server answers at once in state
allocating and picks a node in the background: the allocation becomes active
(node_uuid set; the node's instance_uuid is the allocation's UUID) or error
(last_error says why). Allocations need microversion 1.52 (1.57 to change
them, 1.58 to backfill, 1.60 for owners). Give an allocation by UUID or name.`,
	},
		newBMAllocationCreateCommand(o),
		newBMAllocationListCommand(o),
		newBMAllocationShowCommand(o),
		newBMAllocationPatchCommand(o, true),
		newBMAllocationPatchCommand(o, false),
		newBMAllocationDeleteCommand(o),
	)
}

func newBMAllocationCreateCommand(o *clientOptions) *cobra.Command {
	var ac client.AllocationCreate
	var extra []string
	var wait waitFlag
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "create --resource-class RC [--trait T]... [--candidate-node N]... [--wait [SECONDS] | --dry-run]",
		Short: "Create an allocation (claim a node)",
		Long: `Create an allocation (POST /v1/allocations) for a node of --resource-class
having every --trait, among the --candidate-node ones if given (UUIDs or
names). --name (unique), --uuid, --extra KEY=VALUE and --owner (a project: only
nodes it owns or leases, 1.60) are recorded with it. --node NODE backfills
instead: it records an allocation for a node deployed without one (1.58);
--resource-class is then optional.

Without --wait the allocation is shown as created (state allocating). With
--wait it is polled until active and then shown; if it ends in state error,
its last_error is printed with the command that shows why node by node
("allocation show UUID --failure") and the exit status is 1; after SECONDS (if given)
the wait gives up with exit status 1 (the allocation stays).

--dry-run creates nothing (allot's POST /allot/v1/allocations/dry-run, not
part of Ironic): it shows every node the allocation would be considered on
(the --candidate-node ones, or every node of the class you may see), whether
it fits and every reason it does not, then the node the server would pick
(or the nodes it would choose among at random). -f json shows the answer as
the server sent it.`,
		Example: `  allot baremetal allocation create --resource-class baremetal-gold --wait 60
  allot baremetal allocation create --resource-class baremetal-gpu --trait CUSTOM_GPU --name job-17 --extra team=ml --wait
  allot baremetal allocation create --resource-class baremetal-gold --candidate-node node-1 --candidate-node node-2
  allot baremetal allocation create --node deployed-node-3 --name legacy-3
  allot baremetal allocation create --resource-class baremetal-gpu --trait CUSTOM_GPU --dry-run`,
		Args: wait.args(0, argsExactly()),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			wait.take(args, 0)
			if ac.ResourceClass == "" && ac.Node == "" {
				return nil, errUsage("--resource-class is required except when --node is used")
			}
			var err error
			if ac.Extra, err = keyValues("extra", extra); err != nil {
				return nil, err
			}
			if dryRun {
				if wait.set || ac.Node != "" {
					return nil, errUsage("--dry-run creates nothing, so it takes neither --wait nor --node (a backfill chooses no node)")
				}
				return dryRunAllocation(ctx, b, ac)
			}
			a, err := b.CreateAllocation(ctx, ac)
			if err != nil {
				return nil, fmt.Errorf("create allocation: %w", err)
			}
			if wait.set {
				if a, err = b.WaitForAllocation(ctx, a.UUID, wait.timeout()); err != nil {
					return nil, withFailureHint(err, a.UUID)
				}
			}
			return allocationRecord(a), nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&ac.ResourceClass, "resource-class", "", "the resource `CLASS` of the node wanted (required unless --node)")
	f.StringArrayVar(&ac.Traits, "trait", nil, "a `TRAIT` the node must have (repeatable)")
	f.StringArrayVar(&ac.CandidateNodes, "candidate-node", nil, "a `NODE` (UUID or name) that may be chosen (repeatable; default: any)")
	f.StringVar(&ac.Name, "name", "", "unique `NAME` of the allocation")
	f.StringVar(&ac.UUID, "uuid", "", "`UUID` of the allocation (default: chosen by the server)")
	f.StringArrayVar(&extra, "extra", nil, "a `KEY=VALUE` of free metadata (repeatable)")
	f.StringVar(&ac.Owner, "owner", "", "the owner's `PROJECT` ID: only nodes it owns or leases (1.60)")
	f.StringVar(&ac.Node, "node", "", "backfill: record the allocation of this deployed `NODE` (1.58)")
	f.BoolVar(&dryRun, "dry-run", false, "create nothing: show each node's verdict and the node the server would pick (allot only)")
	wait.register(f, "the allocation is active")
	return cmd
}

// withFailureHint adds to the error of a wait that ended with the
// allocation in state error where to read why, node by node.
func withFailureHint(err error, uuid string) error {
	var failed *client.StateFailedError
	if errors.As(err, &failed) && failed.State == client.AllocationError {
		return fmt.Errorf("%w\nwhy, node by node: allot baremetal allocation show %s --failure", err, uuid)
	}
	return err
}

// dryRunAllocation runs "allocation create --dry-run": a table of the
// nodes considered (node, name, fits, reasons) and one of the node the
// server would pick (the document itself with -f json or -f yaml).
func dryRunAllocation(ctx context.Context, b *client.Baremetal, ac client.AllocationCreate) (*view, error) {
	d, err := b.DryRunAllocation(ctx, ac)
	if err != nil {
		return nil, fmt.Errorf("dry run of allocation: %w", err)
	}
	raw, err := decodeDocument(d.Raw)
	if err != nil {
		return nil, err
	}
	nodes := grid{title: "nodes considered", columns: []string{"node", "name", "fits", "reasons"}}
	names := map[string]string{}
	for _, n := range d.Nodes {
		nodes.rows = append(nodes.rows, []any{n.UUID, n.Name, n.Fits, lines(n.Reasons)})
		names[n.UUID] = n.Name
	}
	title := "would pick"
	if len(d.WouldPick) > 1 {
		title = "would pick one of (at random)"
	}
	pick := grid{title: title, columns: []string{"node", "name"}}
	for _, u := range d.WouldPick {
		pick.rows = append(pick.rows, []any{u, names[u]})
	}
	return &view{tables: []grid{nodes, pick}, raw: raw}, nil
}

func newBMAllocationListCommand(o *clientOptions) *cobra.Command {
	var lf listFlags
	var filter client.AllocationFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List allocations, optionally filtered",
		Long: `List allocations in the server's order (creation order unless --sort), with
the columns UUID, Name, Resource Class, State and Node UUID; --long shows
every field, --fields the ones named. Filters combine (AND).`,
		Example: `  allot baremetal allocation list
  allot baremetal allocation list --state error --long
  allot baremetal allocation list --node node-1 -c UUID -f value`,
		Args: argsExactly(),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, _ []string) (*view, error) {
			var err error
			if filter.ListOptions, err = lf.options(); err != nil {
				return nil, err
			}
			allocs, err := b.ListAllocations(ctx, filter)
			if err != nil {
				return nil, err
			}
			objects := make([]map[string]any, len(allocs))
			for i, a := range allocs {
				objects[i] = a.Raw
			}
			return rawRows(objects, lf.columns(allocationListFields, allocationLongFields)), nil
		}),
	}
	f := cmd.Flags()
	lf.register(f, "allocations")
	f.StringVar(&filter.Node, "node", "", "only the allocation of this `NODE` (UUID or name)")
	f.StringVar(&filter.ResourceClass, "resource-class", "", "only allocations of this resource `CLASS`")
	f.StringVar(&filter.State, "state", "", "only allocations in this `STATE` (allocating, active, error)")
	f.StringVar(&filter.Owner, "owner", "", "only allocations of this owner `PROJECT` (1.60)")
	return cmd
}

func newBMAllocationShowCommand(o *clientOptions) *cobra.Command {
	var fields []string
	var failure bool
	cmd := &cobra.Command{
		Use:   "show ALLOCATION [--failure]",
		Short: "Show an allocation",
		Long: `Show an allocation, given by UUID or name: every field, sorted by name
(links left out). --fields fetches only the fields named.

--failure shows instead why an allocation in state error failed, node by node
(allot's GET /allot/v1/allocations/{allocation}/failure, not part of Ironic):
each node it was considered on, with every reason it did not fit when the
server gave up, as "allocation create --dry-run" shows them.`,
		Example: `  allot baremetal allocation show job-17
  allot baremetal allocation show job-17 -c node_uuid -f value
  allot baremetal allocation show job-17 --failure`,
		Args: argsExactly("ALLOCATION"),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
			if failure {
				if len(fields) > 0 {
					return nil, errUsage("--failure shows the nodes' verdicts, not the allocation's fields: leave --fields out")
				}
				return allocationFailure(ctx, b, args[0])
			}
			a, err := b.GetAllocation(ctx, args[0], fields...)
			if err != nil {
				return nil, fmt.Errorf("allocation %s: %w", args[0], err)
			}
			return allocationRecord(a), nil
		}),
	}
	cmd.Flags().StringSliceVar(&fields, "fields", nil, "fetch and show only these `FIELD`s (comma-separated or repeated)")
	cmd.Flags().BoolVar(&failure, "failure", false, "show why the allocation failed, node by node (allot only)")
	return cmd
}

// allocationFailure runs "allocation show --failure": a table of the
// nodes considered (node, name, reasons), titled with how many there were
// (the document itself with -f json or -f yaml).
func allocationFailure(ctx context.Context, b *client.Baremetal, ident string) (*view, error) {
	f, err := b.GetAllocationFailure(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("failure of allocation %s: %w", ident, err)
	}
	raw, err := decodeDocument(f.Raw)
	if err != nil {
		return nil, err
	}
	title := fmt.Sprintf("%d nodes considered", f.Considered)
	if len(f.Nodes) < f.Considered {
		title += fmt.Sprintf(" (%d shown)", len(f.Nodes))
	}
	nodes := grid{title: title, columns: []string{"node", "name", "reasons"}}
	for _, n := range f.Nodes {
		nodes.rows = append(nodes.rows, []any{n.UUID, n.Name, lines(n.Reasons)})
	}
	return &view{tables: []grid{nodes}, raw: raw}, nil
}

// allocationNameField and allocationExtraField are what "allocation set"
// and "allocation unset" change.
var (
	allocationNameField  = []patchField{{"name", "name", "the allocation's unique `NAME`"}}
	allocationExtraField = []patchField{{"extra", "extra", "free metadata: `KEY=VALUE` (repeatable)"}}
)

// newBMAllocationPatchCommand builds "allocation set" (set true) or
// "allocation unset".
func newBMAllocationPatchCommand(o *clientOptions, set bool) *cobra.Command {
	var p *patchOptions
	cmd := &cobra.Command{
		Use:   "set ALLOCATION [--name NAME] [--extra KEY=VALUE]...",
		Short: "Rename an allocation or set its extra metadata",
		Long: `Change an allocation's name or extra metadata with one JSON patch of "add"
operations (PATCH /v1/allocations/{allocation}, microversion 1.57); nothing
else of an allocation can change. Shows the allocation.`,
		Example: `  allot baremetal allocation set job-17 --name job-17b --extra team=ml`,
	}
	if !set {
		cmd.Use = "unset ALLOCATION [--name] [--extra KEY]..."
		cmd.Short = "Remove an allocation's name or extra metadata"
		cmd.Long = `Remove an allocation's name (--name) or members of its extra metadata (--extra
KEY, repeatable) with one JSON patch of "remove" operations (1.57). Shows the
allocation.`
		cmd.Example = `  allot baremetal allocation unset job-17 --extra team`
	}
	cmd.Args = argsExactly("ALLOCATION")
	cmd.RunE = o.runBaremetal(func(ctx context.Context, b *client.Baremetal, _ *cobra.Command, args []string) (*view, error) {
		ops, err := p.ops()
		if err != nil {
			return nil, err
		}
		a, err := b.UpdateAllocation(ctx, args[0], ops)
		if err != nil {
			return nil, fmt.Errorf("update allocation %s: %w", args[0], err)
		}
		return allocationRecord(a), nil
	})
	if set {
		p = addSetFlags(cmd.Flags(), allocationNameField, allocationExtraField)
	} else {
		p = addUnsetFlags(cmd.Flags(), []patchField{{"name", "name", "unset the allocation's name"}},
			[]patchField{{"extra", "extra", "remove this `KEY` from extra (repeatable)"}})
	}
	return cmd
}

func newBMAllocationDeleteCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ALLOCATION...",
		Short: "Delete allocations, freeing their nodes",
		Long: `Delete allocations: their nodes lose their instance_uuid and can be allocated
again. The allocation of a deployed node (state active) is refused unless the
node is in maintenance. Every allocation is tried; the failures are reported
together (exit 1).`,
		Example: `  allot baremetal allocation delete job-17`,
		Args:    argsAtLeast("ALLOCATION..."),
		RunE: o.runBaremetal(func(ctx context.Context, b *client.Baremetal, cmd *cobra.Command, args []string) (*view, error) {
			return nil, forEach(cmd.OutOrStdout(), args, "Deleted allocation %s", "delete allocation %s", func(a string) error {
				return b.DeleteAllocation(ctx, a)
			})
		}),
	}
}
