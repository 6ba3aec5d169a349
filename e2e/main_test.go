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

func TestMain(m *testing.M) { testpg.Main(m) }

// skipOrFail skips a scenario whose client is not installed, unless
// ALLOT_REQUIRE_CLIENTS is set (CI sets it, having installed the clients):
// then a missing client is a failure, never a silent skip.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("ALLOT_REQUIRE_CLIENTS") == "1" {
		t.Fatal(why + " (ALLOT_REQUIRE_CLIENTS is set)")
	}
	t.Skip(why)
}
