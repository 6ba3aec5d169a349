package placement_test

import (
	"testing"

	"allot/internal/testpg"
)

// TestMain stops the throwaway PostgreSQL cluster the service tests start.
func TestMain(m *testing.M) { testpg.Main(m) }
