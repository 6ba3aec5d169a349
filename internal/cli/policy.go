package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/policy"
)

// newPolicyCommand is "allot policy": the default policy rules of both
// APIs, as oslopolicy-sample-generator prints a service's.
func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "The default policy rules of the Placement and Bare Metal APIs",
	}
	var apiName, format string
	defaults := &cobra.Command{
		Use:   "defaults",
		Short: "Print an API's default policy rules (a sample policy file, or their names)",
		Long: `Print an API's default policy rules. --format yaml (the default) prints a
sample policy file: every rule commented out with its description, scope
types and the legacy rule it replaces, ready to uncomment and change.
--format names prints one rule name per line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rules []policy.Rule
			switch apiName {
			case "placement":
				rules = placementapi.PolicyDefaults()
			case "baremetal":
				rules = baremetalapi.PolicyDefaults()
			default:
				return usageError{fmt.Errorf("--api %q: use placement or baremetal", apiName)}
			}
			switch format {
			case "yaml":
				writePolicySample(cmd.OutOrStdout(), rules)
			case "names":
				for _, r := range rules {
					fmt.Fprintln(cmd.OutOrStdout(), r.Name)
				}
			default:
				return usageError{fmt.Errorf("--format %q: use yaml or names", format)}
			}
			return nil
		},
	}
	defaults.Flags().StringVar(&apiName, "api", "placement", "placement or baremetal")
	defaults.Flags().StringVar(&format, "format", "yaml", "yaml (a sample policy file) or names")
	cmd.AddCommand(defaults)
	return groupCommand(cmd)
}

// writePolicySample writes rules as a commented-out YAML policy file.
func writePolicySample(w io.Writer, rules []policy.Rule) {
	for i, r := range rules {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if r.Description != "" {
			fmt.Fprintf(w, "# %s\n", r.Description)
		}
		if len(r.ScopeTypes) > 0 {
			fmt.Fprintf(w, "# Scope types: %s\n", strings.Join(r.ScopeTypes, ", "))
		}
		fmt.Fprintf(w, "#%s: %s\n", strconv.Quote(r.Name), strconv.Quote(r.Check))
		if r.Deprecated != nil {
			fmt.Fprintf(w, "# Until enforce_new_defaults is on, the legacy rule %s passes too:\n#   %s\n",
				strconv.Quote(r.Deprecated.Name), strconv.Quote(r.Deprecated.Check))
		}
	}
}
