package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// Exit statuses of the allot command.
const (
	ExitOK       = 0
	ExitAPIError = 1
	ExitUsage    = 2
)

// usageError marks errors in how the command was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Execute runs the allot command with args and returns its exit status.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "allot:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var xe exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	return ExitAPIError
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "allot",
		Short: "allot decides where things go: OpenStack Placement and Bare Metal allocation APIs, server and client",
		Long: `allot serves the OpenStack Placement API (microversions 1.0-1.39, allocation
candidates included) and the Bare Metal allocation API from one binary, on an
embedded SQLite store or on PostgreSQL, and is a command-line client for both.

  allot serve                       run both APIs (127.0.0.1:8778 and 127.0.0.1:6385)
  allot serve --db postgres://...   run a replica on PostgreSQL
  allot placement --help            the Placement client commands
  allot baremetal --help            the Bare Metal client commands
  allot db --help                   check, repair, back up and restore the store`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	clientOpts := newClientOptions()
	root.AddCommand(newServeCommand())
	root.AddCommand(newBenchCommand())
	root.AddCommand(newPlacementCommand(clientOpts))
	root.AddCommand(newBaremetalCommand(clientOpts))
	root.AddCommand(newPolicyCommand())
	root.AddCommand(newDBCommand())
	root.AddCommand(newImportCommand(clientOpts))
	// An unknown command ("allot foo") is a usage error, as in the groups.
	return groupCommand(root)
}

// envInt reads an integer environment variable, or def.
func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// envDuration reads a duration environment variable, or def.
func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
