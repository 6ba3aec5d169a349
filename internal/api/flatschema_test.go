package api

import (
	"strings"
	"testing"
)

// flatSchemas mirror the shapes of the query schemas the APIs use: the
// allocation-candidates schemas of 1.36 and 1.21 and the usages schema.
var flatSchemas = map[string]string{
	"candidates136": `{"type": "object", "properties": {
		"limit": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, "minLength": 1},
		"group_policy": {"type": "string", "enum": ["none", "isolate"]},
		"root_required": {"type": ["string"]}, "same_subtree": {"type": ["string"]}},
		"additionalProperties": false,
		"patternProperties": {"^resources([a-zA-Z0-9_-]{1,64})?$": {"type": "string"},
			"^required([a-zA-Z0-9_-]{1,64})?$": {"type": "string"},
			"^member_of([a-zA-Z0-9_-]{1,64})?$": {"type": "string"},
			"^in_tree([a-zA-Z0-9_-]{1,64})?$": {"type": "string"}}}`,
	"candidates121": `{"type": "object", "properties": {"resources": {"type": "string"},
		"limit": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, "minLength": 1},
		"required": {"type": ["string"]}, "member_of": {"type": ["string"]}},
		"additionalProperties": false, "required": ["resources"]}`,
	"usages138": `{"type": "object", "properties": {
		"project_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"user_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"consumer_type": {"type": "string", "pattern": "^[A-Z0-9_]+$|^all|^unknown$", "minLength": 1, "maxLength": 255},
		"uuid": {"type": "string", "format": "uuid"}},
		"required": ["project_id"], "additionalProperties": false}`,
	// Pattern keys not anchored at the start match anywhere in the key.
	"unanchored": `{"type": "object", "additionalProperties": false,
		"patternProperties": {"tag[0-9]$": {"type": "string"}, "^(x|y)z": {"type": "string"}}}`,
}

// checkFlatAgrees fails when the fast check accepts values the full
// validator rejects (the fast check may refuse more: the full validator
// then decides).
func checkFlatAgrees(t *testing.T, s *Schema, values map[string]string) bool {
	t.Helper()
	if s.flat == nil {
		t.Fatal("the schema has no fast query check")
	}
	fast := s.flat.accepts(values)
	m := make(map[string]any, len(values))
	for k, v := range values {
		m[k] = v
	}
	msg := s.Validate(m)
	if fast && msg != "" {
		t.Fatalf("fast check accepted %v, the validator says %q", values, msg)
	}
	return fast
}

func TestFlatQueryCheck(t *testing.T) {
	const uuid = "6f9c8e3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	cases := []struct {
		schema string
		values map[string]string
		fast   bool // the fast path must decide these alone
	}{
		{"candidates136", map[string]string{"resources": "VCPU:1", "limit": "10", "group_policy": "isolate"}, true},
		{"candidates136", map[string]string{"resources_NIC": "VF:1", "required_NIC": "A", "member_of1": "in:x", "in_tree2": uuid, "same_subtree": "_NIC", "root_required": "X"}, true},
		{"candidates136", map[string]string{}, true},
		{"candidates136", map[string]string{"limit": "0"}, false},
		{"candidates136", map[string]string{"limit": ""}, false},
		{"candidates136", map[string]string{"group_policy": "all"}, false},
		{"candidates136", map[string]string{"bogus": "1"}, false},
		{"candidates136", map[string]string{"resources_" + strings.Repeat("x", 65): "VCPU:1"}, false},
		{"candidates136", map[string]string{"resources_é": "VCPU:1"}, false},
		{"candidates121", map[string]string{"resources": "VCPU:1", "member_of": "x"}, true},
		{"candidates121", map[string]string{"limit": "1"}, false},
		{"candidates121", map[string]string{"resources": "VCPU:1", "resources1": "VCPU:1"}, false},
		{"usages138", map[string]string{"project_id": "p", "consumer_type": "INSTANCE", "uuid": uuid}, true},
		{"usages138", map[string]string{"project_id": ""}, false},
		{"usages138", map[string]string{"project_id": strings.Repeat("é", 256)}, false},
		{"usages138", map[string]string{"project_id": strings.Repeat("é", 255)}, true},
		{"usages138", map[string]string{"project_id": "p", "consumer_type": "lower"}, false},
		{"usages138", map[string]string{"project_id": "p", "uuid": "not-a-uuid"}, false},
		{"usages138", map[string]string{"user_id": "u"}, false},
		{"unanchored", map[string]string{"mytag1": "v", "tag2": "w", "yz": "u", "xzz": "t"}, true},
		{"unanchored", map[string]string{"tag": "v"}, false},
		{"unanchored", map[string]string{"zz": "v"}, false},
	}
	schemas := map[string]*Schema{}
	for name, text := range flatSchemas {
		schemas[name] = MustSchema(text)
	}
	for _, c := range cases {
		if got := checkFlatAgrees(t, schemas[c.schema], c.values); got != c.fast {
			t.Errorf("%s %v: fast check %v, want %v", c.schema, c.values, got, c.fast)
		}
	}
}

func TestFlatQueryCheckDeclines(t *testing.T) {
	// Keywords outside the modelled subset leave the general validator in
	// charge.
	for _, text := range []string{
		`{"type": "object", "properties": {"a": {"type": "integer"}}}`,
		`{"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}}}`,
		`{"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}}`,
		`{"type": "object", "minProperties": 1}`,
		`{"type": "array"}`,
	} {
		if MustSchema(text).flat != nil {
			t.Errorf("%s: a fast check was built", text)
		}
	}
}

// FuzzFlatQueryCheck: whatever the fast check accepts, the full validator
// accepts too.
func FuzzFlatQueryCheck(f *testing.F) {
	f.Add("candidates136", "resources", "VCPU:1", "limit", "5")
	f.Add("candidates136", "required_A-1", "!X", "group_policy", "none")
	f.Add("candidates121", "resources", "VCPU:1", "limit", "01")
	f.Add("usages138", "project_id", "p", "consumer_type", "all_x")
	schemas := map[string]*Schema{}
	for name, text := range flatSchemas {
		schemas[name] = MustSchema(text)
	}
	f.Fuzz(func(t *testing.T, schema, k1, v1, k2, v2 string) {
		s := schemas[schema]
		if s == nil {
			return
		}
		checkFlatAgrees(t, s, map[string]string{k1: v1, k2: v2})
		checkFlatAgrees(t, s, map[string]string{k1: v1})
	})
}
