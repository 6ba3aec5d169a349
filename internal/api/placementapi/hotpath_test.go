package placementapi

import (
	"encoding/json"
	"strings"
	"testing"

	"allot/internal/api"
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
		"\x00\x1f\x7f", "CUSTOM_é", "<&>", "\xff broken utf-8",
		// Bytes to escape in every lane of the eight-byte word test.
		`0123456"`, `01234567\`, "0123456789abcde\x1f", "0123456789a\x80cdef", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x00",
		" !#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~"} {
		checkAppendString(t, s)
	}
}

// FuzzAppendString: any string renders as JSON that decodes back to it.
func FuzzAppendString(f *testing.F) {
	f.Add("6f9c8e3a-1b2c-4d5e-8f90-a1b2c3d4e5f6")
	f.Add("01234567\"")
	f.Fuzz(checkAppendString)
}

func checkAppendString(t *testing.T, s string) {
	b := appendString([]byte("x"), s)
	var got string
	if err := json.Unmarshal(b[1:], &got); err != nil {
		t.Fatalf("%q rendered as %s: %v", s, b[1:], err)
	}
	// Each byte that is not UTF-8 decodes as U+FFFD.
	var want strings.Builder
	for _, r := range s {
		want.WriteRune(r)
	}
	if got != want.String() {
		t.Errorf("%q rendered as %s, decodes to %q", s, b[1:], got)
	}
	if plain := isJSONPlain(s); plain != bytesArePlain(s) {
		t.Errorf("isJSONPlain(%q) = %v", s, plain)
	}
}

// bytesArePlain is isJSONPlain one byte at a time.
func bytesArePlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			return false
		}
	}
	return true
}

// FuzzQueryFastPathAgrees: for the real query schemas, ValidateQuery (fast
// path first) never accepts what the full validator rejects.
func FuzzQueryFastPathAgrees(f *testing.F) {
	f.Add(uint8(0), "resources", "VCPU:1", "limit", "10")
	f.Add(uint8(1), "resources_X", "VCPU:1", "same_subtree", "_X")
	f.Add(uint8(5), "resources", "VCPU:1", "member_of", "in:a,b")
	f.Add(uint8(9), "project_id", "p", "consumer_type", "INSTANCE")
	schemas := []*api.Schema{usagesSchema, usagesSchema138}
	for _, s := range acSchemas {
		schemas = append(schemas, s.schema)
	}
	f.Fuzz(func(t *testing.T, which uint8, k1, v1, k2, v2 string) {
		s := schemas[int(which)%len(schemas)]
		values := map[string]string{k1: v1, k2: v2}
		m := map[string]any{k1: v1, k2: v2}
		if api.ValidateQuery(values, s) == nil {
			if msg := s.Validate(m); msg != "" {
				t.Fatalf("schema %d: %v accepted, the validator says %q", int(which)%len(schemas), values, msg)
			}
		}
	})
}
