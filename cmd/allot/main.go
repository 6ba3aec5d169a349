// Command allot serves the Placement and Bare Metal APIs (allot serve) and
// is their command-line client (allot placement ..., allot baremetal ...).
package main

import (
	"os"

	"allot/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
