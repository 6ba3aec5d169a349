package policy

import (
	"math"
	"testing"
)

// evalString parses check and evaluates it (rule: references are
// undefined here, so false).
func evalString(t *testing.T, check string, target Target, c Credentials) result {
	t.Helper()
	p, err := Parse(check)
	if err != nil {
		t.Fatalf("Parse(%q): %v", check, err)
	}
	return p.n.eval(target, &c)
}

func TestChecks(t *testing.T) {
	project := Credentials{
		UserID: "u1", ProjectID: "p1", ProjectDomainID: "default", UserDomainID: "default",
		Roles: []string{"Member", "reader"}, IsAdminProject: true,
	}
	system := Credentials{UserID: "admin", SystemScope: "all", Roles: []string{"admin"}}
	domain := Credentials{UserID: "u2", DomainID: "d1", Roles: []string{"admin"}}
	service := Credentials{UserID: "u1", ProjectID: "p1", ServiceUserID: "nova", ServiceRoles: []string{"service"}}
	ironic := Credentials{ProjectID: "p1", Extra: map[string]any{
		"is_public_api": true, "project_name": "demo", "nothing": nil,
		"tags": []any{"a", "b"}, "node": map[string]any{"owner": "p1", "lessees": []any{"p2", "p3"}},
		"empty": "",
	}}
	target := Target{
		"project_id": "p1", "node.owner": "p1", "node.lessee": nil, "user_id": "u1",
		"role": "READER", "enabled": true, "count": 3, "ratio": 1.5, "big": 1e16,
		"name": "member", "quoted": "'member'", "list": []string{"a"}, "pct": "50",
	}
	tests := []struct {
		check string
		creds Credentials
		want  result
	}{
		// Special checks.
		{"@", Credentials{}, resTrue},
		{"!", project, resFalse},
		// role: ignores case on both sides, can take the target's values.
		{"role:member", project, resTrue},
		{"role:MEMBER", project, resTrue},
		{"role:admin", project, resFalse},
		{"role:%(role)s", project, resTrue},         // READER
		{"role:%(missing)s", project, resFalse},     // missing key: false
		{"role:%(node.lessee)s", project, resFalse}, // None -> "none" is not a role
		{"role:reader", Credentials{}, resFalse},
		{"role:ΑΣ", Credentials{Roles: []string{"ας"}}, resTrue}, // Python's final sigma
		{"role:İ", Credentials{Roles: []string{"i̇"}}, resTrue},  // and full lowercase of U+0130
		{"role:İ", Credentials{Roles: []string{"i"}}, resFalse},
		// rule: undefined here.
		{"rule:anything", project, resFalse},
		// Generic checks against the credentials; the match is formatted
		// with the target first.
		{"project_id:%(project_id)s", project, resTrue},
		{"project_id:%(node.owner)s", project, resTrue},
		{"project_id:%(missing)s", project, resFalse},
		{"project_id:p1", project, resTrue},
		{"project_id:P1", project, resFalse}, // case-sensitive
		{"user_id:%(user_id)s", project, resTrue},
		{"project_domain_id:default", project, resTrue},
		{"user_domain_id:default", project, resTrue},
		{"domain_id:d1", domain, resTrue},
		// Empty is None.
		{"project_id:None", system, resTrue},
		{"system_scope:None", project, resTrue},
		{"domain_id:None", project, resTrue},
		{"project_id:%(node.lessee)s", system, resTrue}, // None == None
		{"project_id:", system, resFalse},
		// system_scope, and "system" (present only when system_scope is).
		{"system_scope:all", system, resTrue},
		{"system:all", system, resTrue},
		{"system:None", project, resFalse}, // absent, not None
		// Bools print as True/False.
		{"is_admin_project:True", project, resTrue},
		{"is_admin_project:False", project, resFalse},
		{"is_admin_project:False", system, resTrue},
		{"is_admin_project:true", project, resFalse},
		// A list matches when an element does, case-sensitively.
		{"roles:reader", project, resTrue},
		{"roles:Member", project, resTrue},
		{"roles:member", project, resFalse},
		{"roles:None", Credentials{}, resFalse},
		{"service_roles:service", service, resTrue},
		{"service_user_id:nova", service, resTrue},
		{"service_project_id:None", service, resTrue},
		// Literal attributes compare their str() with the formatted match.
		{"True:%(enabled)s", project, resTrue},
		{"False:%(enabled)s", project, resFalse},
		{"'member':%(name)s", project, resTrue},
		{`"member":%(name)s`, project, resTrue},
		{"'member':%(quoted)s", project, resFalse},
		{"3:%(count)s", project, resTrue},
		{"0x3:%(count)s", project, resTrue},
		{"1.5:%(ratio)s", project, resTrue},
		{"15e-1:%(ratio)s", project, resTrue},
		{"1e16:%(big)s", project, resTrue}, // both "1e+16"
		{"None:%(node.lessee)s", project, resTrue},
		{"None:None", project, resTrue},
		{"'50%':%(pct)s%%", project, resTrue},
		{"'50%%':%(pct)s%%", project, resFalse}, // the attribute is not formatted
		{"'a':a", project, resTrue},
		// A quoted match keeps its quotes (oslo.policy 4.0.0).
		{"user_id:'u1'", project, resFalse},
		// Mixed templates.
		{"project_id:p%(count)s", Credentials{ProjectID: "p3"}, resTrue},
		{"project_id:%(user_id)s-%(project_id)s", Credentials{ProjectID: "u1-p1"}, resTrue},
		{"project_id:%(list)s", Credentials{ProjectID: "['a']"}, resTrue},
		// Unknown credentials fail; a service's extra values are found.
		{"tenant:%(project_id)s", project, resFalse},
		{"is_public_api:True", ironic, resTrue},
		{"project_name:demo", ironic, resTrue},
		{"nothing:None", ironic, resTrue},
		{"empty:None", ironic, resFalse}, // an extra "" is a string, not None
		{"empty:", ironic, resTrue},
		{"tags:b", ironic, resTrue},
		{"node.owner:%(project_id)s", ironic, resTrue},
		{"node.lessees:p3", ironic, resTrue},
		{"node.missing:x", ironic, resFalse},
		// Python raises (TypeError) where a dotted name indexes a value
		// that is not a dict; a raise propagates through not.
		{"project_name.x:y", ironic, resRaise},
		{"tags.x:y", ironic, resRaise},
		{"not project_name.x:y", ironic, resRaise},
		{"@ or project_name.x:y", ironic, resTrue}, // short-circuit, as Python
		{"! and project_name.x:y", ironic, resFalse},
		{"project_name.x:y", project, resFalse}, // absent: KeyError, false
		// Compositions.
		{"role:reader and project_id:%(project_id)s", project, resTrue},
		{"role:admin or project_id:%(project_id)s", project, resTrue},
		{"role:admin and system_scope:all", system, resTrue},
		{"role:admin and system_scope:all", domain, resFalse},
		{"not role:admin", project, resTrue},
		{"(role:reader and system_scope:all) or (role:reader and project_id:%(project_id)s)", project, resTrue},
	}
	for _, tt := range tests {
		if got := evalString(t, tt.check, target, tt.creds); got != tt.want {
			t.Errorf("%q with %+v: %v, want %v", tt.check, tt.creds, got, tt.want)
		}
	}
}

func TestPyStr(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {"s", "s"}, {"", ""},
		{3, "3"}, {int64(-3), "-3"}, {uint8(7), "7"},
		{1.0, "1.0"}, {1.5, "1.5"}, {-0.0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{1.5e300, "1.5e+300"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
		{[]string{"a", "b"}, "['a', 'b']"}, {[]string{}, "[]"}, {[]any{"it's", nil, 1, true}, `["it's", None, 1, True]`},
		{[]any{`a"b'c`, "\n\\"}, `['a"b\'c', '\n\\']`},
		{map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"},
	}
	for _, tt := range tests {
		if got := pyStr(tt.v); got != tt.want {
			t.Errorf("pyStr(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestPyLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"00", "0"}, {"1_000", "1000"}, {"0x_1F", "31"}, {"0o17", "15"}, {"0b101", "5"},
		{"-1", "-1"}, {"+1", "1"}, {"-0", "0"}, {"123456789012345678901234567890", "123456789012345678901234567890"},
		{"1.", "1.0"}, {".5", "0.5"}, {"1e5", "100000.0"}, {"-0.0", "-0.0"}, {"1e999", "inf"}, {"1e-999", "0.0"},
		{"'a'", "a"}, {`"a"`, "a"}, {`'\x41\u00e9\101'`, "Aé" + "A"}, {`'\q'`, `\q`}, {`'a''b'`, "ab"}, {"''", ""},
	}
	for _, tt := range tests {
		got, err := pyLiteral(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("pyLiteral(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"01", "1__0", "1_", "0x", "0b2", "--1", "1j", "1e", ".", "'a", `'\x4'`, `'\N{DASH}'`, "'a'b"} {
		if got, err := pyLiteral(bad); err == nil {
			t.Errorf("pyLiteral(%q) = %q, want an error", bad, got)
		}
	}
}
