package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"allot/internal/audit"
	"allot/internal/config"
	"allot/internal/model"
	"allot/internal/store"
)

// ExitInUse is the exit status of a command that must write a SQLite store
// which a running allot serve holds (allot db check --fix, allot db
// restore): stop the server, run the command, start the server again.
const ExitInUse = 3

// exitError ends the command with its own exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// newDBCommand is "allot db": the store's audit, backup and restore, run
// on the database itself (not through the APIs).
func newDBCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Check, repair, back up and restore the store (on the database, not through the APIs)",
		Long: `Check, repair, back up and restore the store named by --db (ALLOT_DB), else by
the --config-file (ALLOT_CONFIG_FILE; [placement_database] connection or
[allot] db), else sqlite:allot.db: as allot serve names it. check and backup only read: they
run beside a serving allot serve, on SQLite and PostgreSQL alike.`,
	}
	return groupCommand(cmd, newDBCheckCommand(), newDBBackupCommand(), newDBRestoreCommand())
}

// dbFlag adds --db and --config-file, which name the store as they name
// allot serve's; dsn resolves them when the command runs.
func dbFlag(cmd *cobra.Command, dsn *string) {
	cmd.Flags().StringVar(dsn, "db", "sqlite:allot.db", "the store: sqlite:PATH or postgres://USER@HOST/DB [ALLOT_DB]")
	cmd.Flags().String("config-file", "", "allot serve's configuration file, read for the store ([placement_database] connection or [allot] db) [ALLOT_CONFIG_FILE]")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		v, err := resolveDB(c)
		if err != nil {
			return err
		}
		*dsn = v
		return run(c, args)
	}
}

// resolveDB names the store as allot serve does, strongest first: --db,
// ALLOT_DB, the configuration file (--config-file or ALLOT_CONFIG_FILE),
// the default sqlite:allot.db.
func resolveDB(cmd *cobra.Command) (string, error) {
	f := cmd.Flags()
	db := f.Lookup("db")
	if db.Changed {
		return db.Value.String(), nil
	}
	if v, ok := os.LookupEnv(envName("db")); ok {
		return v, nil
	}
	path, _ := os.LookupEnv(envName("config-file"))
	if cf := f.Lookup("config-file"); cf.Changed {
		path = cf.Value.String()
	}
	if path != "" {
		file, err := config.Load(path, config.Options{Settings: []string{"db"}})
		if err != nil {
			return "", usageError{err}
		}
		if s, ok := file.Lookup("db"); ok {
			return s.Value, nil
		}
	}
	return db.DefValue, nil
}

// dbLogger logs the store's and the repairs' messages to stderr.
func dbLogger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// storeError turns an error opening or writing the store into the
// command's error: a SQLite store held by allot serve exits ExitInUse
// with what to do, a bad --db is a usage error.
func storeError(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrInUse):
		return exitError{ExitInUse, fmt.Errorf("%s writes to the store, which a running allot serve holds: stop it, run %s, then start it again (allot db check without --fix and allot db backup run beside it): %w", what, what, err)}
	case errors.Is(err, store.ErrBackupPostgres):
		return usageError{err}
	case model.IsKind(err, model.KindBadRequest):
		return usageError{err}
	}
	return err
}

func newDBCheckCommand() *cobra.Command {
	var dsn, format string
	var fix bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify the store's invariants; --fix repairs what is safe to repair",
		Long: `Verify the store's invariants and print each violation on one line: its kind,
the objects (UUIDs and names), what is wrong in numbers, and what to do.

  usage-counter                 an inventory's usage counter differs from the sum
                                of its allocations (--fix recounts)
  over-capacity                 allocations beyond an inventory's capacity: a
                                violation if the inventory never changed, else a
                                notice (Placement allows it after a capacity cut)
  allocation-without-inventory  allocations of a class the provider has no
                                inventory of
  orphan-consumer               a consumer that holds no allocation (--fix deletes)
  node-provider                 a bare-metal node whose resource provider is
                                missing or disagrees with it (--fix rewrites it)
  node-allocation               an active bare-metal allocation that does not hold
                                its node or its claim, or a node recording an
                                allocation that is not its own and active (--fix
                                rewrites a missing claim, clears a missing
                                allocation from its node)
  orphan-claim                  a bare-metal claim without an active allocation
                                (--fix releases it)

Without --fix it only reads, from one consistent snapshot, and runs beside a
serving allot serve. --fix writes each repair in its own transaction that
checks again under the writers' locks and records the change feed, so that
running replicas see it; on PostgreSQL it runs live, on SQLite allot serve
must be stopped (exit status 3 otherwise). Each repair is printed and logged.

Exit status: 0 no violation (notices allowed), 1 violations remain, 2 usage
error, 3 --fix on a SQLite store that allot serve holds.`,
		Args: argsExactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format %q: use text or json", format)}
			}
			return runDBCheck(cmd, dsn, format, fix)
		},
	}
	dbFlag(cmd, &dsn)
	cmd.Flags().BoolVar(&fix, "fix", false, "repair the violations that are safe to repair")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text (one line per finding) or json")
	return cmd
}

// checkOutput is db check's JSON document.
type checkOutput struct {
	Revision int64           `json:"revision"`
	Findings []audit.Finding `json:"findings"`
	Repairs  []repairOutput  `json:"repairs,omitempty"`
	Summary  checkSummary    `json:"summary"`
}

type repairOutput struct {
	Kind    audit.Kind     `json:"kind"`
	Objects []audit.Object `json:"objects"`
	Changed string         `json:"changed,omitempty"`
	Error   string         `json:"error,omitempty"`
}

type checkSummary struct {
	Violations int `json:"violations"`
	Notices    int `json:"notices"`
	Fixable    int `json:"fixable"`
	Repaired   int `json:"repaired"`
}

func runDBCheck(cmd *cobra.Command, dsn, format string, fix bool) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	logger := dbLogger(cmd)
	var st *store.Store
	var err error
	// --fix refuses what check refuses (a missing file, which Open would
	// create empty; a store of another schema) before it opens the store
	// for writing, as allot serve does (on SQLite: its lock).
	st, err = store.OpenReadOnly(ctx, dsn, store.Options{Logger: logger})
	if err == nil && fix {
		st.Close()
		st, err = store.Open(ctx, dsn, store.Options{Logger: logger, MaxOpenConns: 2})
	}
	if err != nil {
		return storeError(err, "allot db check --fix")
	}
	defer st.Close()
	report, err := audit.Check(ctx, st)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var repairs []repairOutput
	if fix && report.Fixable() > 0 {
		audit.Fix(ctx, st, report, func(r audit.Repair) {
			ro := repairOutput{Kind: r.Finding.Kind, Objects: r.Finding.Objects, Changed: r.Changed}
			objs := objectsText(r.Finding.Objects)
			switch {
			case r.Err != nil:
				ro.Error = r.Err.Error()
				logger.Error("repair failed", "kind", r.Finding.Kind, "objects", objs, "error", r.Err)
			case r.Changed == "":
				logger.Warn("nothing to repair any more (a writer repaired it meanwhile)", "kind", r.Finding.Kind, "objects", objs)
			default:
				logger.Warn("repaired", "kind", r.Finding.Kind, "objects", objs, "changed", r.Changed)
			}
			if format == "text" {
				fmt.Fprintln(out, repairText(ro))
			}
			repairs = append(repairs, ro)
		})
		if report, err = audit.Check(ctx, st); err != nil {
			return err
		}
	}
	sum := checkSummary{Violations: report.Violations(), Fixable: report.Fixable(), Notices: len(report.Findings) - report.Violations()}
	for _, r := range repairs {
		if r.Error == "" && r.Changed != "" {
			sum.Repaired++
		}
	}
	if format == "json" {
		doc := checkOutput{Revision: report.Revision, Findings: report.Findings, Repairs: repairs, Summary: sum}
		if doc.Findings == nil {
			doc.Findings = []audit.Finding{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		for _, f := range report.Findings {
			fmt.Fprintln(out, f.String())
		}
		fmt.Fprintln(out, summaryText(report.Revision, sum, fix))
	}
	if sum.Violations > 0 {
		return exitError{ExitAPIError, fmt.Errorf("%d violation(s) found in the store", sum.Violations)}
	}
	return nil
}

func objectsText(objs []audit.Object) string {
	parts := make([]string, len(objs))
	for i, o := range objs {
		parts[i] = o.String()
	}
	return strings.Join(parts, ", ")
}

func repairText(r repairOutput) string {
	switch {
	case r.Error != "":
		return fmt.Sprintf("repair failed %s: %s: %s", r.Kind, objectsText(r.Objects), r.Error)
	case r.Changed == "":
		return fmt.Sprintf("already repaired %s: %s: nothing left to change", r.Kind, objectsText(r.Objects))
	}
	return fmt.Sprintf("repaired %s: %s: %s", r.Kind, objectsText(r.Objects), r.Changed)
}

func summaryText(rev int64, s checkSummary, fixed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "checked the store at revision %d: ", rev)
	if fixed {
		fmt.Fprintf(&b, "%d repaired, ", s.Repaired)
	}
	fmt.Fprintf(&b, "%d violation(s)", s.Violations)
	if s.Fixable > 0 {
		fmt.Fprintf(&b, " (%d repairable with allot db check --fix)", s.Fixable)
	}
	fmt.Fprintf(&b, ", %d notice(s)", s.Notices)
	return b.String()
}

func newDBBackupCommand() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy a SQLite store to the new file FILE, consistently, while allot serve runs",
		Long: `Copy the SQLite store of --db to the new file FILE: one consistent snapshot
(every write committed before the copy began, none after), taken beside a
serving allot serve without stopping or slowing its writes for long. FILE
must not exist; it appears only once complete. Restore it with allot db
restore. For PostgreSQL use pg_dump (see docs/operations.md).`,
		Args: argsExactly("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			logger := dbLogger(cmd)
			if !strings.HasPrefix(dsn, "sqlite:") {
				return storeError(store.ErrBackupPostgres, "allot db backup")
			}
			st, err := store.OpenReadOnly(ctx, dsn, store.Options{Logger: logger})
			if err != nil {
				return storeError(err, "allot db backup")
			}
			defer st.Close()
			if err := st.Backup(ctx, args[0]); err != nil {
				return storeError(err, "allot db backup")
			}
			// Read the copy back: it opens as a store of this allot, and
			// its revision says which writes it holds.
			bk, err := store.OpenReadOnly(ctx, "sqlite:"+args[0], store.Options{Logger: logger})
			if err != nil {
				return fmt.Errorf("the backup %s does not open: %w", args[0], err)
			}
			defer bk.Close()
			rev, err := bk.Revision(ctx)
			if err != nil {
				return fmt.Errorf("read the backup's revision: %w", err)
			}
			info, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s at revision %d to %s (%d bytes)\n", dsn, rev, args[0], info.Size())
			return nil
		},
	}
	dbFlag(cmd, &dsn)
	return cmd
}

func newDBRestoreCommand() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite store with the backup FILE (allot serve stopped)",
		Long: `Replace the SQLite store of --db with a copy of the backup FILE (made by allot
db backup, or any copy of an allot SQLite store). FILE must be an intact
allot store at a migration this allot knows; an older one is migrated
forward, as allot serve would. The store must not be served: while an allot
serve holds it, restore refuses with exit status 3. The store is replaced
whole or not at all; FILE is not changed. For PostgreSQL use pg_restore
(see docs/operations.md).`,
		Args: argsExactly("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			res, err := store.Restore(ctx, args[0], dsn, store.Options{Logger: dbLogger(cmd)})
			if err != nil {
				return storeError(err, "allot db restore")
			}
			msg := fmt.Sprintf("restored %s (migration %d) into %s", args[0], res.From, dsn)
			if res.From != res.To {
				msg += fmt.Sprintf(", migrated to %d", res.To)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg+"; check it with: allot db check --db "+dsn)
			return nil
		},
	}
	dbFlag(cmd, &dsn)
	return cmd
}
