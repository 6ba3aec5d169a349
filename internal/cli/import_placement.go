package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"allot/internal/client"
	"allot/internal/importer"
)

// importPlacementFlags are the flags of "allot import placement".
type importPlacementFlags struct {
	from, fromToken string
	workers         int
	force           bool
	verify          bool
	verifyOnly      bool
}

func newImportPlacementCommand(o *clientOptions) *cobra.Command {
	var f importPlacementFlags
	cmd := &cobra.Command{
		Use:   "placement --from URL",
		Short: "Copy a running Placement's providers, inventories, traits, aggregates and allocations into allot",
		Long: `Reads the whole Placement at --from through its API and makes the Placement
at --placement-url (allot; default http://127.0.0.1:8778) hold the same:
custom resource classes and traits, resource providers parents first (same
UUIDs, names and parents) with their inventories, traits and aggregates,
then every consumer's allocations with its project, user and consumer type,
one write per consumer.

Rerunning continues an interrupted import: the target is read again and
only what is missing or different is written. A target provider or
consumer with the same UUID but other data (name, parent; project, user,
type, allocations) is a conflict: it is left alone and reported, unless
--force makes it match the source. Whatever the target refuses (a name
already taken, allocations above a shrunk inventory) is skipped and
reported, with the providers below a skipped provider and the consumers on
it; never part of a consumer.

--verify then compares every provider, inventory, usage, trait, aggregate
and allocation of the two and prints each difference (object, field,
source value, target value); --verify-only compares without importing.
Provider and consumer generations are not compared.

Progress goes to standard error: one line updated in place on a terminal,
one line per finished step otherwise.

Exit status: 0 everything imported (and no difference), 1 something was
skipped, differs, or a service failed (rerun to continue), 2 the command
line was wrong.`,
		Example: `  allot import placement --from http://placement.example:8778 --from-token "$SOURCE_TOKEN" --verify
  allot import placement --from http://127.0.0.1:18778 --from-token admin --placement-url http://127.0.0.1:8778 --verify-only`,
		Args: argsExactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImportPlacement(cmd, o, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.from, "from", "", "`URL` of the Placement API to copy from [ALLOT_IMPORT_FROM]")
	fs.StringVar(&f.fromToken, "from-token", defaultToken, "`TOKEN` sent as X-Auth-Token to --from [ALLOT_IMPORT_FROM_TOKEN]")
	fs.IntVar(&f.workers, "workers", 4, "`N` concurrent requests to each service")
	fs.BoolVar(&f.force, "force", false, "make target providers and consumers that differ from the source's match it")
	fs.BoolVar(&f.verify, "verify", false, "after importing, compare the two services and print every difference")
	fs.BoolVar(&f.verifyOnly, "verify-only", false, "compare the two services without importing")
	fs.StringVar(&o.placementURL, "placement-url", defaultPlacementURL, "`URL` of the Placement API to copy into (allot's) [ALLOT_PLACEMENT_URL]")
	fs.StringVar(&o.token, "token", defaultToken, "authentication `TOKEN` for --placement-url, sent as X-Auth-Token [OS_TOKEN]")
	o.keystone.register(fs)
	return cmd
}

// runImportPlacement is the body of "allot import placement".
func runImportPlacement(cmd *cobra.Command, o *clientOptions, f importPlacementFlags) error {
	from := setting(cmd, "from", "ALLOT_IMPORT_FROM", f.from)
	if from == "" {
		return errUsage("--from: give the URL of the Placement API to copy from (see '%s --help')", cmd.CommandPath())
	}
	if f.workers < 1 || f.workers > 64 {
		return errUsage("--workers %d: give a number from 1 to 64", f.workers)
	}
	if f.verifyOnly && (f.verify || f.force) {
		return errUsage("--verify-only compares without importing: it does not go with --verify or --force")
	}
	url, token, err := o.connection(cmd, "placement", "placement-url", "ALLOT_PLACEMENT_URL", o.placementURL, o.token)
	if err != nil {
		return err
	}
	source := importer.Endpoint{URL: from, Options: client.Options{Token: setting(cmd, "from-token", "ALLOT_IMPORT_FROM_TOKEN", f.fromToken), UserAgent: "allot-import"}}
	target := importer.Endpoint{URL: url, Options: client.Options{Token: token, UserAgent: "allot-import"}}
	for _, e := range []importer.Endpoint{source, target} {
		if _, err := client.NewPlacement(e.URL, e.Options); err != nil {
			return usageError{err}
		}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	src, err := importer.Connect(ctx, "source", source, importer.MinSourceVersion)
	if err != nil {
		return err
	}
	dst, err := importer.Connect(ctx, "target", target, importer.MinTargetVersion)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	progress := newProgressPrinter(cmd.ErrOrStderr())
	defer progress.finish()
	var failures []string
	if !f.verifyOnly {
		report, err := importer.ImportPlacement(ctx, src, dst, importer.Options{Workers: f.workers, Force: f.force, Progress: progress.report})
		progress.finish()
		if err != nil {
			return fmt.Errorf("import stopped (rerun the same command to continue): %w", err)
		}
		if n := printReport(out, report); n > 0 {
			failures = append(failures, plural(n, "object")+" not imported")
		}
	}
	if f.verify || f.verifyOnly {
		diffs, err := importer.Verify(ctx, src, dst, f.workers, progress.report)
		progress.finish()
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		printDifferences(out, diffs)
		if len(diffs) > 0 {
			failures = append(failures, plural(len(diffs), "difference"))
		}
	}
	if len(failures) > 0 {
		return errors.New(joinFailures(failures) + " (listed above)")
	}
	return nil
}

func joinFailures(parts []string) string {
	if len(parts) == 2 {
		return parts[0] + " and " + parts[1]
	}
	return parts[0]
}
