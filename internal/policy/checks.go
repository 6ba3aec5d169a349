package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tmplKind says how a check's match depends on the target.
type tmplKind uint8

const (
	tmplConst tmplKind = iota // no substitution: the match itself
	tmplKey                   // exactly "%(key)s"
	tmplMixed                 // anything else: built per evaluation
)

// template is a match compiled from Python's %-formatting with a mapping
// (match % target): literal text, "%%" and "%(key)s".
type template struct {
	kind  tmplKind
	text  string  // tmplConst: the text ("%%" already turned to "%"); tmplKey: the key
	parts []tpart // tmplMixed
}

// tpart is a literal or a target key of a mixed template.
type tpart struct {
	s     string
	isKey bool
}

// compileTemplate compiles a match. Python formats "%(key)s" with
// str(target[key]) and "%%" as "%"; allot refuses the other conversions,
// flags and widths (which no policy uses, and most of which raise in
// oslo.policy at every enforcement). On error it returns the byte offset
// of the offending "%".
func compileTemplate(s string) (template, int, error) {
	if !strings.Contains(s, "%") {
		return template{kind: tmplConst, text: s}, 0, nil
	}
	var parts []tpart
	var lit strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return template{}, i, fmt.Errorf(`incomplete format: %q at the end (write "%%%%" for a literal "%%")`, "%")
		}
		switch s[i+1] {
		case '%':
			lit.WriteByte('%')
			i += 2
			continue
		case '(':
			// Python matches nested parentheses in a key.
			depth, j := 1, i+2
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return template{}, i, fmt.Errorf("incomplete format key: %q has no closing parenthesis", s[i:])
			}
			key := s[i+2 : j-1]
			if j >= len(s) || s[j] != 's' {
				end := min(j+1, len(s))
				return template{}, i, fmt.Errorf("unsupported format %q: only %%(name)s and %%%% are supported", s[i:end])
			}
			if lit.Len() > 0 {
				parts = append(parts, tpart{s: lit.String()})
				lit.Reset()
			}
			parts = append(parts, tpart{s: key, isKey: true})
			i = j + 1
		default:
			_, size := utf8.DecodeRuneInString(s[i+1:])
			return template{}, i, fmt.Errorf("unsupported format %q: only %%(name)s and %%%% are supported", s[i:i+1+size])
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, tpart{s: lit.String()})
	}
	switch {
	case len(parts) == 0:
		return template{kind: tmplConst}, 0, nil
	case len(parts) == 1 && !parts[0].isKey:
		return template{kind: tmplConst, text: parts[0].s}, 0, nil
	case len(parts) == 1:
		return template{kind: tmplKey, text: parts[0].s}, 0, nil
	}
	return template{kind: tmplMixed, parts: parts}, 0, nil
}

// expand is match % target; false when the target lacks a key (the
// check then fails, as oslo.policy's KeyError). It allocates only for a
// mixed template or a value that is not a string.
func (t *template) expand(target Target) (string, bool) {
	switch t.kind {
	case tmplConst:
		return t.text, true
	case tmplKey:
		v, ok := target[t.text]
		if !ok {
			return "", false
		}
		return pyStr(v), true
	}
	var b strings.Builder
	for _, p := range t.parts {
		if !p.isKey {
			b.WriteString(p.s)
			continue
		}
		v, ok := target[p.s]
		if !ok {
			return "", false
		}
		b.WriteString(pyStr(v))
	}
	return b.String(), true
}

// credField is a key of the credentials (oslo.context's policy values).
type credField uint8

const (
	fExtra credField = iota // Credentials.Extra
	fUserID
	fUserDomainID
	fSystemScope
	fDomainID
	fProjectID
	fProjectDomainID
	fRoles
	fIsAdminProject
	fServiceUserID
	fServiceUserDomainID
	fServiceProjectID
	fServiceProjectDomainID
	fServiceRoles
	fSystem // set by oslo.policy from system_scope when that is set
)

var credFields = map[string]credField{
	"user_id":                   fUserID,
	"user_domain_id":            fUserDomainID,
	"system_scope":              fSystemScope,
	"domain_id":                 fDomainID,
	"project_id":                fProjectID,
	"project_domain_id":         fProjectDomainID,
	"roles":                     fRoles,
	"is_admin_project":          fIsAdminProject,
	"service_user_id":           fServiceUserID,
	"service_user_domain_id":    fServiceUserDomainID,
	"service_project_id":        fServiceProjectID,
	"service_project_domain_id": fServiceProjectDomainID,
	"service_roles":             fServiceRoles,
	"system":                    fSystem,
}

// compileAttribute compiles a generic check's left side, as oslo.policy's
// GenericCheck reads it: first as a Python literal (ast.literal_eval),
// compared as its str(); else as a dotted name into the credentials.
// Python raises at every enforcement for most other texts; allot refuses
// them all.
func (n *node) compileAttribute() error {
	k := n.kind
	if k == "" {
		return fmt.Errorf("the attribute before %q is empty", ":")
	}
	switch k {
	case "True", "False", "None":
		n.lit, n.litStr = true, k
		return nil
	}
	if c := k[0]; c == '\'' || c == '"' || c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9') {
		s, err := pyLiteral(k)
		if err != nil {
			return fmt.Errorf("attribute %q: %w", k, err)
		}
		n.lit, n.litStr = true, s
		return nil
	}
	segs := strings.Split(k, ".")
	for i, seg := range segs {
		if !isIdentifier(seg) || (pyKeywords[seg] && (i > 0 || (seg != "True" && seg != "False" && seg != "None"))) {
			return fmt.Errorf("attribute %q is neither a Python literal nor a dotted name of the credentials", k)
		}
	}
	n.name, n.rest = segs[0], segs[1:]
	if len(n.rest) == 0 {
		n.rest = nil
	}
	n.field = credFields[n.name]
	if n.field != fExtra && n.rest != nil {
		// Python indexes a string, None, a bool or a list's strings with
		// the rest of the name: a TypeError at every enforcement.
		return fmt.Errorf("attribute %q: the credential %q has no attributes", k, n.name)
	}
	return nil
}

// pyKeywords are Python 3's hard keywords.
var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true,
	"async": true, "await": true, "break": true, "class": true, "continue": true,
	"def": true, "del": true, "elif": true, "else": true, "except": true,
	"finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true,
	"not": true, "or": true, "pass": true, "raise": true, "return": true,
	"try": true, "while": true, "with": true, "yield": true,
}

// isIdentifier reports whether s is a Python identifier.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r):
		case i > 0 && (unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc)):
		default:
			return false
		}
	}
	return true
}
