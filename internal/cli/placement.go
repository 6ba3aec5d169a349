package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/client"
	"allot/internal/model"
)

// Defaults of the client commands' global flags.
const (
	defaultPlacementURL = client.DefaultPlacementURL
	defaultBaremetalURL = client.DefaultBaremetalURL
	defaultToken        = "admin"
)

// clientOptions are the global flags of the client commands ("allot
// placement ..." and "allot baremetal ..."), as the OpenStack client has
// them. They are persistent flags of the two group commands, so that
// "allot serve" does not show them. A flag left unset takes its environment
// variable, then its default.
type clientOptions struct {
	placementURL     string
	baremetalURL     string
	placementVersion string
	baremetalVersion string
	token            string
	baremetalToken   string
	keystone         clientKeystone
	out              outputOptions
}

// newClientOptions returns the options with their defaults.
func newClientOptions() *clientOptions {
	return &clientOptions{out: outputOptions{width: terminalWidth}}
}

// registerPlacement adds the Placement client's global flags to fs (the
// persistent flags of "allot placement").
func (o *clientOptions) registerPlacement(fs *pflag.FlagSet) {
	fs.StringVar(&o.placementURL, "placement-url", defaultPlacementURL, "`URL` of the Placement API [ALLOT_PLACEMENT_URL]")
	fs.StringVar(&o.placementVersion, "os-placement-api-version", client.Latest, "Placement microversion to request: `X.Y` or latest [OS_PLACEMENT_API_VERSION]")
	fs.StringVar(&o.token, "token", defaultToken, "authentication `TOKEN`, sent as X-Auth-Token [OS_TOKEN]")
	o.keystone.register(fs)
	o.registerOutput(fs)
}

// registerBaremetal adds the Bare Metal client's global flags to fs (the
// persistent flags of "allot baremetal"). The API needs no token (Ironic
// noauth), so none is sent unless given.
func (o *clientOptions) registerBaremetal(fs *pflag.FlagSet) {
	fs.StringVar(&o.baremetalURL, "baremetal-url", defaultBaremetalURL, "`URL` of the Bare Metal API [ALLOT_BAREMETAL_URL]")
	fs.StringVar(&o.baremetalVersion, "os-baremetal-api-version", client.Latest, "Bare Metal microversion to request: `X.Y` or latest [OS_BAREMETAL_API_VERSION]")
	fs.StringVar(&o.baremetalToken, "token", "", "authentication `TOKEN`, sent as X-Auth-Token when given [OS_TOKEN]")
	o.keystone.register(fs)
	o.registerOutput(fs)
}

// registerOutput adds the output flags to fs.
func (o *clientOptions) registerOutput(fs *pflag.FlagSet) {
	fs.StringVarP(&o.out.format, "format", "f", formatTable, "output `FORMAT`: table, json, yaml, value or csv")
	fs.StringArrayVarP(&o.out.columns, "column", "c", nil, "show only this `COLUMN` (repeatable, shown in the order given)")
	fs.BoolVar(&o.out.fitWidth, "fit-width", false, "wrap table columns to fit the terminal's width")
	fs.IntVar(&o.out.maxWidth, "max-width", 0, "wrap table columns to fit `N` characters (implies --fit-width)")
}

// setting returns a flag's value: the flag when given on cmd's command
// line, else the environment variable when set, else the flag's default.
func setting(cmd *cobra.Command, flag, env, value string) string {
	if cmd != nil && cmd.Flags().Changed(flag) {
		return value
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return value
}

// placement returns a client for the Placement API the flags name.
func (o *clientOptions) placement(cmd *cobra.Command) (*client.Placement, error) {
	url, token, err := o.connection(cmd, "placement", "placement-url", "ALLOT_PLACEMENT_URL", o.placementURL, o.token)
	if err != nil {
		return nil, err
	}
	p, err := client.NewPlacement(url, client.Options{
		Token:     token,
		Version:   setting(cmd, "os-placement-api-version", "OS_PLACEMENT_API_VERSION", o.placementVersion),
		UserAgent: "allot",
	})
	if err != nil {
		return nil, usageError{err}
	}
	p.FindNodeProviders(func() (*client.Baremetal, error) { return o.baremetal(cmd) })
	return p, nil
}

// baremetal returns a client for the Bare Metal API the flags name.
func (o *clientOptions) baremetal(cmd *cobra.Command) (*client.Baremetal, error) {
	url, token, err := o.connection(cmd, "baremetal", "baremetal-url", "ALLOT_BAREMETAL_URL", o.baremetalURL, o.baremetalToken)
	if err != nil {
		return nil, err
	}
	b, err := client.NewBaremetal(url, client.Options{
		Token:     token,
		Version:   setting(cmd, "os-baremetal-api-version", "OS_BAREMETAL_API_VERSION", o.baremetalVersion),
		UserAgent: "allot",
	})
	if err != nil {
		return nil, usageError{err}
	}
	return b, nil
}

// placementAction is the body of a Placement client command: it returns
// what to print (nil: nothing).
type placementAction func(ctx context.Context, p *client.Placement, args []string) (*view, error)

// runPlacement adapts a placementAction to cobra: check the output flags,
// build the client, run, print.
func (o *clientOptions) runPlacement(action placementAction) func(*cobra.Command, []string) error {
	return runClient(o, o.placement, func(ctx context.Context, p *client.Placement, _ *cobra.Command, args []string) (*view, error) {
		return action(ctx, p, args)
	})
}

// runClient adapts the body of a client command to cobra: check the output
// flags, build the client with connect, run action, print the view it
// returns (nil: nothing).
func runClient[C any](o *clientOptions, connect func(*cobra.Command) (C, error),
	action func(ctx context.Context, c C, cmd *cobra.Command, args []string) (*view, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.out.validate(); err != nil {
			return err
		}
		c, err := connect(cmd)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		v, err := action(ctx, c, cmd, args)
		if err != nil {
			return err
		}
		return o.out.render(cmd.OutOrStdout(), v)
	}
}

// newPlacementCommand builds "allot placement" and its subcommands.
func newPlacementCommand(o *clientOptions) *cobra.Command {
	allocation := newAllocationCommand(o)
	allocation.AddCommand(allocationSpellings(o)...)
	cmd := groupCommand(&cobra.Command{
		Use:   "placement",
		Short: "Client of the OpenStack Placement API (allot's or OpenStack's)",
		Long: `Commands for any Placement API endpoint, allot's or OpenStack's: resource
providers and their inventories, traits and aggregates, resource classes,
traits, allocations, usages, the reshaper and allocation candidates.

They mirror the OpenStack client's placement commands (osc-placement), with
dashes: "openstack resource provider list" is "allot placement
resource-provider list". Providers can be named by UUID or by name.

The endpoint is --placement-url (default http://127.0.0.1:8778, or
ALLOT_PLACEMENT_URL); requests ask for --os-placement-api-version (default
"latest") and send --token as X-Auth-Token (default "admin", or OS_TOKEN).
Output: -f table|json|yaml|value|csv, -c COLUMN to pick columns.

Exit status: 0 success, 1 the API answered an error (its message is shown)
or could not be reached, 2 the command line was wrong.`,
		Example: `  allot placement resource-provider list
  allot placement allocation-candidate list --resources VCPU:4,MEMORY_MB:2048 --limit 10
  allot placement --placement-url http://placement.example:8778 trait list -f json`,
	},
		newAllocationCandidateCommand(o),
		newClaimCommand(o),
		newResourceProviderCommand(o),
		newResourceClassCommand(o),
		newTraitCommand(o),
		allocation,
		newUsageCommand(o),
		newReshapeCommand(o),
	)
	cmd.AddCommand(placementSpellings(o)...)
	o.registerPlacement(cmd.PersistentFlags())
	return cmd
}

// groupCommand makes cmd a command that only holds subcommands: without
// arguments it prints its help; an unknown subcommand is a usage error.
func groupCommand(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
		}
		// cobra finds the names (a typo away, or that the word begins);
		// the wording is the APIs' (model.DidYouMean).
		if s := model.DidYouMean(c.SuggestionsFor(args[0])); s != "" {
			msg += ". " + s
		}
		return usageError{fmt.Errorf("%s (see '%s --help')", msg, c.CommandPath())}
	}
	cmd.AddCommand(subs...)
	return cmd
}

// argsExactly requires exactly the named positional arguments.
func argsExactly(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return argsError(cmd, names, len(args))
		}
		return nil
	}
}

// argsAtLeast requires the named positional arguments, the last of which
// may repeat.
func argsAtLeast(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return argsError(cmd, names, len(args))
		}
		return nil
	}
}

func argsError(cmd *cobra.Command, names []string, got int) error {
	what := "no arguments"
	if len(names) > 0 {
		what = strings.Join(names, " ")
	}
	return usageError{fmt.Errorf("%s takes %s, got %d argument(s) (see '%s --help')", cmd.CommandPath(), what, got, cmd.CommandPath())}
}

// findProvider resolves a provider given by UUID or name.
func findProvider(ctx context.Context, p *client.Placement, ref string) (client.Provider, error) {
	rp, err := p.FindProvider(ctx, ref)
	var nf *client.NotFoundError
	if err != nil && !errors.As(err, &nf) {
		return rp, fmt.Errorf("resource provider %s: %w", ref, err)
	}
	if err != nil {
		return rp, err
	}
	return rp, nil
}

// providerUUID resolves a provider reference to its UUID; a UUID is used
// as is, without a request.
func providerUUID(ctx context.Context, p *client.Placement, ref string) (string, error) {
	if isUUID(ref) {
		return ref, nil
	}
	rp, err := findProvider(ctx, p, ref)
	if err != nil {
		return "", err
	}
	return rp.UUID, nil
}

// providerNames maps every provider's UUID to its name.
func providerNames(ctx context.Context, p *client.Placement) (map[string]string, error) {
	rps, err := p.ListProviders(ctx, client.ProviderFilter{})
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(rps))
	for _, rp := range rps {
		names[rp.UUID] = rp.Name
	}
	return names, nil
}

// nameOf returns a provider's name, or its UUID when it has none known.
func nameOf(names map[string]string, uuid string) string {
	if n, ok := names[uuid]; ok && n != "" {
		return n
	}
	return uuid
}

// isUUID reports whether s is a hyphenated UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// sortedStrings returns a sorted copy.
func sortedStrings(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// nullable returns nil for an empty string (shown empty, or null in JSON).
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errUsage builds a usage error.
func errUsage(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
