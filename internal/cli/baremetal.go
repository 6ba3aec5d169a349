package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/client"
)

// newBaremetalCommand builds "allot baremetal" and its subcommands.
func newBaremetalCommand(o *clientOptions) *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "baremetal",
		Short: "Client of the OpenStack Bare Metal API (allot's or Ironic's): nodes and allocations",
		Long: `Commands for any Bare Metal API endpoint, allot's or OpenStack Ironic's: enroll
nodes and drive their provision and power states, maintenance and traits, and
allocate nodes by resource class and traits.

They mirror python-ironicclient's "openstack baremetal ..." commands and
options: "openstack baremetal node list" is "allot baremetal node list".
Nodes and allocations can be named by UUID or by name.

The endpoint is --baremetal-url (default http://127.0.0.1:6385, or
ALLOT_BAREMETAL_URL); requests ask for --os-baremetal-api-version (default
"latest", or OS_BAREMETAL_API_VERSION) in X-OpenStack-Ironic-API-Version.
No token is needed (Ironic noauth); --token or OS_TOKEN is sent as
X-Auth-Token when given. Output: -f table|json|yaml|value|csv, -c COLUMN to
pick columns (list columns are named as in the table, e.g. -c UUID -c Name;
show fields by their API name, e.g. -c provision_state).

Exit status: 0 success, 1 the API answered an error (its message is shown),
could not be reached, or an allocation waited for failed or timed out, 2 the
command line was wrong.`,
		Example: `  allot baremetal node create --driver fake-hardware --name node-1 --resource-class baremetal-gold
  allot baremetal node manage node-1 && allot baremetal node provide node-1 && allot baremetal node power on node-1
  allot baremetal allocation create --resource-class baremetal-gold --trait CUSTOM_GPU --wait 60
  allot baremetal --baremetal-url http://ironic.example:6385 node list -f json`,
	},
		newNodeCommand(o),
		newBaremetalAllocationCommand(o),
	)
	o.registerBaremetal(cmd.PersistentFlags())
	return cmd
}

// baremetalAction is the body of a Bare Metal client command: it returns
// what to print (nil: nothing); cmd gives its output streams.
type baremetalAction func(ctx context.Context, b *client.Baremetal, cmd *cobra.Command, args []string) (*view, error)

// runBaremetal adapts a baremetalAction to cobra (see runClient).
func (o *clientOptions) runBaremetal(action baremetalAction) func(*cobra.Command, []string) error {
	return runClient(o, o.baremetal, action)
}

// fieldLabels are python-ironicclient's column labels of the node and
// allocation fields.
var fieldLabels = map[string]string{
	"allocation_uuid": "Allocation UUID", "automated_clean": "Automated Clean", "bios_interface": "BIOS Interface",
	"boot_interface": "Boot Interface", "boot_mode": "Boot Mode", "candidate_nodes": "Candidate Nodes",
	"chassis_uuid": "Chassis UUID", "clean_step": "Clean Step", "conductor": "Conductor", "conductor_group": "Conductor Group",
	"console_enabled": "Console Enabled", "console_interface": "Console Interface", "created_at": "Created At",
	"deploy_interface": "Deploy Interface", "deploy_step": "Deploy Step", "description": "Description", "driver": "Driver",
	"driver_info": "Driver Info", "driver_internal_info": "Driver Internal Info", "extra": "Extra", "fault": "Fault",
	"inspect_interface": "Inspect Interface", "inspection_finished_at": "Inspection Finished At",
	"inspection_started_at": "Inspection Started At", "instance_info": "Instance Info", "instance_uuid": "Instance UUID",
	"last_error": "Last Error", "lessee": "Lessee", "maintenance": "Maintenance", "maintenance_reason": "Maintenance Reason",
	"management_interface": "Management Interface", "name": "Name", "network_data": "Network Configuration",
	"network_interface": "Network Interface", "node_uuid": "Node UUID", "owner": "Owner", "power_interface": "Power Interface",
	"power_state": "Power State", "properties": "Properties", "protected": "Protected", "protected_reason": "Protected Reason",
	"provision_state": "Provisioning State", "provision_updated_at": "Provision Updated At",
	"raid_config": "Current RAID configuration", "raid_interface": "RAID Interface", "rescue_interface": "Rescue Interface",
	"reservation": "Reservation", "resource_class": "Resource Class", "retired": "Retired", "retired_reason": "Retired Reason",
	"secure_boot": "Secure Boot", "state": "State", "storage_interface": "Storage Interface",
	"target_power_state": "Target Power State", "target_provision_state": "Target Provision State",
	"target_raid_config": "Target RAID configuration", "traits": "Traits", "updated_at": "Updated At", "uuid": "UUID",
	"vendor_interface": "Vendor Interface",
}

// labelOf returns a field's column label.
func labelOf(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// hiddenFields are left out of "show" records, as python-ironicclient does.
var hiddenFields = map[string]bool{"links": true, "ports": true, "portgroups": true, "states": true, "volume": true}

// rawRecord shows an API object as a record of its fields, sorted by name
// (as "openstack baremetal ... show" does), without links.
func rawRecord(raw map[string]any) *view {
	var fields []string
	for _, k := range sortedKeys(raw) {
		if !hiddenFields[k] {
			fields = append(fields, k)
		}
	}
	values := make([]any, len(fields))
	for i, f := range fields {
		values[i] = cellValue(raw[f])
	}
	return recordView(fields, values)
}

// rawRows shows API objects as a table of the given fields, under their
// labels.
func rawRows(objects []map[string]any, fields []string) *view {
	labels := make([]string, len(fields))
	for i, f := range fields {
		labels[i] = labelOf(f)
	}
	rows := make([][]any, len(objects))
	for r, obj := range objects {
		rows[r] = make([]any, len(fields))
		for i, f := range fields {
			rows[r][i] = cellValue(obj[f])
		}
	}
	return listView(labels, rows)
}

// cellValue turns a decoded JSON value into a cell: lists of strings and
// objects are shown on one line in tables (as python-ironicclient does) and
// as themselves in json and yaml; the rest is shown as is.
func cellValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make(listCell, 0, len(x))
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return v
			}
			out = append(out, s)
		}
		return out
	case map[string]any:
		return objectCell(x)
	}
	return v
}

// listCell is a list of strings in a cell: "a, b" in tables, a list in
// json and yaml.
type listCell []string

// MarshalJSON writes the list.
func (c listCell) MarshalJSON() ([]byte, error) { return jsonMarshal([]string(c)) }

// Lines formats the list on one line.
func (c listCell) Lines() lines {
	if len(c) == 0 {
		return nil
	}
	return lines{strings.Join(c, ", ")}
}

// objectCell is a JSON object in a cell: "key=value, ..." in tables (sorted
// by key; values other than strings as JSON), the object itself in json and
// yaml.
type objectCell map[string]any

// MarshalJSON writes the object.
func (c objectCell) MarshalJSON() ([]byte, error) { return jsonMarshal(map[string]any(c)) }

// Lines formats the members on one line.
func (c objectCell) Lines() lines {
	if len(c) == 0 {
		return nil
	}
	parts := make([]string, 0, len(c))
	for _, k := range sortedKeys(c) {
		v, ok := c[k].(string)
		if !ok {
			data, _ := jsonMarshal(c[k])
			v = string(data)
		}
		parts = append(parts, k+"="+v)
	}
	return lines{strings.Join(parts, ", ")}
}

// parseKeyValue reads python-ironicclient's KEY=VALUE argument: the value
// is JSON when it parses as JSON (8, true, ["a"]), else a string.
func parseKeyValue(flag, arg string) (string, any, error) {
	k, v, ok := strings.Cut(arg, "=")
	if !ok || k == "" {
		return "", nil, errUsage("--%s %q: want KEY=VALUE", flag, arg)
	}
	var value any
	if err := json.Unmarshal([]byte(v), &value); err != nil {
		value = v
	}
	return k, value, nil
}

// keyValues reads repeated KEY=VALUE arguments into an object (nil when
// there are none).
func keyValues(flag string, args []string) (map[string]any, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, a := range args {
		k, v, err := parseKeyValue(flag, a)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// patchField is a field that "set" and "unset" change: a plain field
// (--name) or an object whose members they change (--extra KEY=VALUE).
type patchField struct {
	flag, path, help string
}

// patchOptions holds the values of the set or unset options.
type patchOptions struct {
	fs      *pflag.FlagSet
	scalars []patchField
	objects []patchField
	values  map[string]*string
	clears  map[string]*bool
	members map[string]*[]string
}

// addSetFlags registers "set" options: --FLAG VALUE for the plain fields,
// --FLAG KEY=VALUE (repeatable) for the objects.
func addSetFlags(fs *pflag.FlagSet, scalars, objects []patchField) *patchOptions {
	p := &patchOptions{fs: fs, scalars: scalars, objects: objects, values: map[string]*string{}, members: map[string]*[]string{}}
	for _, f := range scalars {
		p.values[f.flag] = fs.String(f.flag, "", f.help)
	}
	for _, f := range objects {
		p.members[f.flag] = fs.StringArray(f.flag, nil, f.help)
	}
	return p
}

// addUnsetFlags registers "unset" options: --FLAG for the plain fields,
// --FLAG KEY (repeatable) for the objects.
func addUnsetFlags(fs *pflag.FlagSet, scalars, objects []patchField) *patchOptions {
	p := &patchOptions{fs: fs, scalars: scalars, objects: objects, clears: map[string]*bool{}, members: map[string]*[]string{}}
	for _, f := range scalars {
		p.clears[f.flag] = fs.Bool(f.flag, false, f.help)
	}
	for _, f := range objects {
		p.members[f.flag] = fs.StringArray(f.flag, nil, f.help)
	}
	return p
}

// ops returns the JSON patch of the options given, in the order the
// options are declared: "add" for set (as python-ironicclient sends it),
// "remove" for unset. No option at all is a usage error.
func (p *patchOptions) ops() ([]client.PatchOp, error) {
	var ops []client.PatchOp
	var names []string
	for _, f := range p.scalars {
		names = append(names, "--"+f.flag)
		switch {
		case p.values != nil && *p.values[f.flag] != "":
			ops = append(ops, client.PatchOp{Op: "add", Path: "/" + f.path, Value: *p.values[f.flag]})
		case p.clears != nil && *p.clears[f.flag]:
			ops = append(ops, client.PatchOp{Op: "remove", Path: "/" + f.path})
		}
	}
	for _, f := range p.objects {
		names = append(names, "--"+f.flag)
		for _, arg := range *p.members[f.flag] {
			if p.values == nil {
				ops = append(ops, client.PatchOp{Op: "remove", Path: "/" + f.path + "/" + arg})
				continue
			}
			k, v, err := parseKeyValue(f.flag, arg)
			if err != nil {
				return nil, err
			}
			ops = append(ops, client.PatchOp{Op: "add", Path: "/" + f.path + "/" + k, Value: v})
		}
	}
	if len(ops) == 0 {
		return nil, errUsage("nothing to change: give %s", strings.Join(names, ", "))
	}
	return ops, nil
}

// waitFlag is python-ironicclient's "--wait [SECONDS]": given alone it waits
// without a time limit (0); the seconds may follow as --wait=N or as the
// next word.
type waitFlag struct {
	set     bool
	seconds int
}

// String implements pflag.Value.
func (w *waitFlag) String() string {
	if !w.set {
		return ""
	}
	return strconv.Itoa(w.seconds)
}

// Set implements pflag.Value.
func (w *waitFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of seconds (0: no limit), not %q", s)
	}
	w.set, w.seconds = true, n
	return nil
}

// Type implements pflag.Value.
func (w *waitFlag) Type() string { return "SECONDS" }

// register adds --wait to fs; what says what is waited for.
func (w *waitFlag) register(fs *pflag.FlagSet, what string) {
	f := fs.VarPF(w, "wait", "", "wait until "+what+", at most SECONDS (--wait alone or 0: no limit)")
	f.NoOptDefVal = "0"
}

// take accepts the seconds of "--wait SECONDS" given as a separate word:
// when --wait was given and there is one positional argument more than the
// command's n, a number there is the time limit. It returns the command's
// own arguments.
func (w *waitFlag) take(args []string, n int) []string {
	if !w.set || len(args) != n+1 {
		return args
	}
	if secs, err := strconv.Atoi(args[n]); err == nil && secs >= 0 {
		w.seconds = secs
		return args[:n]
	}
	return args
}

// args wraps a positional-argument check so that it sees the command's own
// arguments (see take).
func (w *waitFlag) args(n int, check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return check(cmd, w.take(args, n))
	}
}

// timeout is the time limit of the wait (0: none).
func (w *waitFlag) timeout() time.Duration { return time.Duration(w.seconds) * time.Second }

// forEach runs fn on every item, printing done (a format with %s for the
// item) after each success, as python-ironicclient does ("Deleted node
// n1"); failures do not stop the others and are reported together.
func forEach(out io.Writer, items []string, done, failed string, fn func(string) error) error {
	var errs []error
	for _, it := range items {
		if err := fn(it); err != nil {
			errs = append(errs, fmt.Errorf(failed+": %w", it, err))
			continue
		}
		fmt.Fprintf(out, done+"\n", it)
	}
	return errors.Join(errs...)
}

// parseSort reads --sort KEY[:asc|desc].
func parseSort(s string) (key, dir string, err error) {
	key, dir, _ = strings.Cut(s, ":")
	if key == "" || (dir != "" && dir != "asc" && dir != "desc") {
		return "", "", errUsage("--sort %q: want KEY, KEY:asc or KEY:desc", s)
	}
	return key, dir, nil
}

// listFlags are the paging and display options of the list commands.
type listFlags struct {
	limit  int
	marker string
	sort   string
	long   bool
	fields []string
}

// register adds the options to fs; what names the objects listed.
func (l *listFlags) register(fs *pflag.FlagSet, what string) {
	fs.IntVar(&l.limit, "limit", 0, "list at most `N` "+what+" (default: all, following the server's pages)")
	fs.StringVar(&l.marker, "marker", "", "start after the "+strings.TrimSuffix(what, "s")+" with this `UUID`")
	fs.StringVar(&l.sort, "sort", "", "sort on the server by `KEY[:asc|desc]`")
	fs.BoolVar(&l.long, "long", false, "show every field")
	fs.StringSliceVar(&l.fields, "fields", nil, "show only these `FIELD`s (comma-separated or repeated); only they are fetched")
}

// options checks the flags and returns the API's list options.
func (l *listFlags) options() (client.ListOptions, error) {
	opts := client.ListOptions{Limit: l.limit, Marker: l.marker, Fields: l.fields}
	if l.limit < 0 {
		return opts, errUsage("--limit %d: want a positive number (0: all)", l.limit)
	}
	if l.long && len(l.fields) > 0 {
		return opts, errUsage("--long and --fields cannot be used together")
	}
	if l.sort != "" {
		var err error
		if opts.SortKey, opts.SortDir, err = parseSort(l.sort); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// columns returns the fields to show: --fields, else the long or the short
// set.
func (l *listFlags) columns(short, long []string) []string {
	switch {
	case len(l.fields) > 0:
		return l.fields
	case l.long:
		return long
	}
	return short
}
