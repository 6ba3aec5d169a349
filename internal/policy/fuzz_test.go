package policy

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that what it accepts prints
// back to a check that parses to the same text (String round-trips), that
// its errors are *SyntaxError with a column inside the rule, that the
// recursive-descent parser that explains errors accepts exactly what the
// shift-reduce parser accepts, and that evaluating a parsed check does not
// panic.
func FuzzParse(f *testing.F) {
	for _, s := range parseCorpus {
		f.Add(s)
	}
	for _, s := range []string{
		"role:admin and system_scope:all",
		"(role:reader and system_scope:all) or (role:reader and project_id:%(project_id)s)",
		"rule:admin_api or (role:member and project_id:%(node.owner)s)",
		"is_admin_project:True and not role:%(role)s",
		"'member':%(role.name)s or True:%(user.enabled)s or 1.5e3:%(x)s",
	} {
		f.Add(s)
	}
	creds := []Credentials{
		{},
		{UserID: "u", ProjectID: "p", Roles: []string{"admin", "Reader"}, IsAdminProject: true},
		{SystemScope: "all", Roles: []string{"ΑΣ"}, Extra: map[string]any{"a": map[string]any{"b": "c"}, "l": []any{"x", 1}}},
	}
	targets := []Target{nil, {"project_id": "p", "role.name": "member", "x": nil, "role": "ADMIN"}}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): %T %v, want a *SyntaxError", s, err, err)
			}
			if se.Column < 0 || se.Column > utf8.RuneCountInString(s)+1 {
				t.Fatalf("Parse(%q): column %d outside the rule: %v", s, se.Column, err)
			}
		} else {
			text := c.String()
			c2, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, text, err)
			}
			if text2 := c2.String(); text2 != text {
				t.Fatalf("Parse(%q) = %q, which parses to %q", s, text, text2)
			}
			for i := range creds {
				for _, tg := range targets {
					c.n.eval(tg, &creds[i])
				}
			}
		}
		toks, err := tokenize(s)
		if err != nil || len(toks) == 0 {
			return
		}
		sr := shiftReduce(toks) != nil
		p := &descent{toks: toks}
		rd := p.expr() == nil && p.i == len(toks)
		if sr != rd {
			t.Fatalf("%q: the shift-reduce parser accepts it: %v, the recursive-descent one: %v", s, sr, rd)
		}
	})
}
