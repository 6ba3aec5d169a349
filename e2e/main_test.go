// Package e2e holds black-box scenarios: allot's API driven by real clients
// (the OpenStack CLI, allot's own CLI) over HTTP, against a server started
// in-process or, for some scenarios, an external Placement endpoint named by
// ALLOT_E2E_PLACEMENT_URL (e.g. OpenStack Placement itself).
package e2e

import (
	"os"
	"testing"

	"allot/internal/testpg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.Stop()
	os.Exit(code)
}
