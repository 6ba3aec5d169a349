package placementapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// The query schemas of hot GET paths are validated without the general
// JSON-schema validator (see api.flatCheck); a schema edit that loses that
// fast path fails here rather than silently slowing every request.
func TestQuerySchemasHaveFastPath(t *testing.T) {
	for _, s := range acSchemas {
		if !s.schema.HasQueryFastPath() {
			t.Errorf("allocation-candidates schema from %s has no fast path", s.min)
		}
	}
	for name, s := range map[string]interface{ HasQueryFastPath() bool }{"usages": usagesSchema, "usages 1.38": usagesSchema138} {
		if !s.HasQueryFastPath() {
			t.Errorf("%s schema has no fast path", name)
		}
	}
}

// appendString writes any string as a JSON string that decodes back to it.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "6f9c8e3a-1b2c-4d5e-8f90-a1b2c3d4e5f6", `a"b`, `back\slash`, "tab\there",
		"\x00\x1f\x7f", "CUSTOM_é", "<&>", "\xff broken utf-8"} {
		b := appendString([]byte("x"), s)
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("%q rendered as %s: %v", s, b[1:], err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("%q rendered as %s, decodes to %q", s, b[1:], got)
		}
	}
}
