package baremetalapi_test

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
