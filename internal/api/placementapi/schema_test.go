package placementapi

import "testing"

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
