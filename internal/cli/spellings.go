package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/model"
)

// Other clients' spellings. osc-placement writes "resource provider list"
// where allot writes "resource-provider list", "allocation candidate list"
// for "allocation-candidate list" and "resource provider allocation show"
// for "allocation show"; python-ironicclient writes "node add trait" for
// "node trait add". People bring those spellings from the OpenStack client,
// so they run the same commands here, hidden from the help (which shows
// allot's spelling once).

// placementSpellings returns osc-placement's spellings of the commands of
// "allot placement" that allot spells differently.
func placementSpellings(o *clientOptions) []*cobra.Command {
	provider := spelling(newResourceProviderCommand(o), "provider", "resource-provider")
	provider.AddCommand(spelling(newAllocationCommand(o), "allocation", "allocation"))
	resource := groupCommand(&cobra.Command{
		Use:    "resource",
		Short:  `osc-placement's "resource provider|class|usage ...": allot's resource-provider, resource-class and usage`,
		Hidden: true,
	},
		provider,
		spelling(newResourceClassCommand(o), "class", "resource-class"),
		spelling(newUsageCommand(o), "usage", "usage"),
	)
	return []*cobra.Command{resource}
}

// allocationSpellings returns osc-placement's "allocation candidate ...",
// to sit under allot's "allocation".
func allocationSpellings(o *clientOptions) []*cobra.Command {
	return []*cobra.Command{spelling(newAllocationCandidateCommand(o), "candidate", "allocation-candidate")}
}

// nodeSpellings returns python-ironicclient's "node add trait" and "node
// remove trait", to sit under allot's "node".
func nodeSpellings(o *clientOptions) []*cobra.Command {
	verbFirst := func(verb string) *cobra.Command {
		trait := subcommand(newNodeTraitCommand(o), verb)
		return groupCommand(&cobra.Command{
			Use:    verb,
			Short:  `python-ironicclient's "node ` + verb + ` trait": allot's "node trait ` + verb + `"`,
			Hidden: true,
		}, spelling(trait, "trait", "node trait "+verb))
	}
	return []*cobra.Command{verbFirst("add"), verbFirst("remove")}
}

// spelling renames cmd to name, hidden from the help, as another client's
// spelling of allot's command "ours".
func spelling(cmd *cobra.Command, name, ours string) *cobra.Command {
	_, rest, _ := strings.Cut(cmd.Use, " ")
	cmd.Use = strings.TrimSpace(name + " " + rest)
	cmd.Aliases = nil
	cmd.Hidden = true
	cmd.Short += ` (allot spells it "` + ours + `")`
	return cmd
}

// subcommand detaches the child named name from cmd.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name {
			cmd.RemoveCommand(c)
			return c
		}
	}
	panic("cli: no command " + name + " under " + cmd.Name())
}

// requireUUID checks a positional argument that must be a UUID, so that a
// mistyped one is a usage error with the reason rather than an answer about
// some other consumer (e.g. an empty list of allocations).
func requireUUID(what, value string) error {
	if model.IsUUIDLike(value) {
		return nil
	}
	return errUsage("%s %q is not a UUID: give 32 hexadecimal digits, usually as 8-4-4-4-12 (e.g. 9d2a7f1c-5b3e-4c8a-b0d4-2e6f8a1c3b57)", what, model.Clip(value, 80))
}

// argsUUID requires exactly one positional argument, a UUID named what.
func argsUUID(what string) cobra.PositionalArgs {
	exactly := argsExactly(what)
	return func(cmd *cobra.Command, args []string) error {
		if err := exactly(cmd, args); err != nil {
			return err
		}
		return requireUUID(what, args[0])
	}
}
