package baremetalapi_test

import (
	"testing"

	"allot/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }
