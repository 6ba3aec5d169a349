package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Check is a parsed check string: the tree oslo.policy's parser builds
// from it. Its String is oslo.policy's str() of that tree, which parses
// back to the same tree.
type Check struct{ n *node }

// String returns the check in the policy language, as oslo.policy prints
// it: "@", "!", "kind:match", "not X", "(X and Y)", "(X or Y)".
func (c Check) String() string {
	if c.n == nil {
		return ""
	}
	var b strings.Builder
	c.n.write(&b)
	return b.String()
}

// Parse parses a check string of the policy language. It accepts exactly
// what oslo.policy's parser accepts and builds the same tree (the empty
// string is "@"), except that what oslo.policy logs and turns into a
// check that always fails (or that raises at every enforcement) is an
// error here: a syntax error, a token that is not a check, an http check,
// a %-format other than %(name)s and %%, an attribute that is neither a
// Python literal (numbers, quoted strings, True, False, None) nor a dotted
// name, and a dotted name into a standard credential, which has no
// attributes. Errors are *SyntaxError, with the column of the problem.
func Parse(check string) (Check, error) {
	n, err := parseText(check)
	if err != nil {
		return Check{}, err
	}
	return Check{n}, nil
}

// op is the kind of a node of a parsed check.
type op uint8

const (
	opFalse op = iota // "!"
	opTrue            // "@"
	opAnd
	opOr
	opNot
	opRule    // rule:NAME
	opRole    // role:NAME
	opGeneric // attribute:match
)

// node is one check of a parsed tree; leaves are compiled for evaluation.
type node struct {
	op   op
	kids []*node // opAnd, opOr: two or more; opNot: one

	// kind and match are a leaf check's text, on either side of the ":".
	kind, match string

	tmpl  template // opRole, opGeneric: match, with the target's values
	lower string   // opRole with a constant match: Python's match.lower()

	// opGeneric: the attribute is a Python literal whose str() is litStr,
	// or a dotted name into the credentials: field (fExtra: name) then rest.
	lit    bool
	litStr string
	field  credField
	name   string
	rest   []string

	// ref is the rule an opRule names, resolved by the Enforcer (nil:
	// undefined, the check fails).
	ref *entry
}

// write prints n as oslo.policy's str() does.
func (n *node) write(b *strings.Builder) {
	switch n.op {
	case opFalse:
		b.WriteByte('!')
	case opTrue:
		b.WriteByte('@')
	case opNot:
		b.WriteString("not ")
		n.kids[0].write(b)
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(n.kind)
		b.WriteByte(':')
		b.WriteString(n.match)
	}
}

// String is n's policy-language text.
func (n *node) String() string { return Check{n}.String() }

// tokType is the type of a token, or of a symbol of the parse stack.
type tokType uint8

const (
	tLParen tokType = iota
	tRParen
	tAnd
	tOr
	tNot
	tString // a quoted token: never part of a valid rule
	tCheck
	tAndExpr
	tOrExpr
)

// tok is a token of a check string.
type tok struct {
	t    tokType
	col  int    // 1-based column of its first character
	text string // as written (a quoted string without its quotes)
	n    *node  // tCheck, tAndExpr, tOrExpr
}

// pySpace reports whether r is whitespace to Python's re \s (str.isspace),
// which adds the information separators U+001C..U+001F to Go's set.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// tokenize splits a check string into tokens as oslo.policy's
// _parse_tokenize does, compiling each check.
func tokenize(s string) ([]tok, error) {
	var toks []tok
	col := 1 // column of s[i]
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if pySpace(r) {
			i += size
			col++
			continue
		}
		start, startCol := i, col
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if pySpace(r) {
				break
			}
			i += size
			col++
		}
		field := s[start:i]
		// Leading parentheses.
		k := 0
		for k < len(field) && field[k] == '(' {
			toks = append(toks, tok{t: tLParen, col: startCol + k, text: "("})
			k++
		}
		clean := field[k:]
		if clean == "" {
			continue
		}
		cleanCol := startCol + k
		core := strings.TrimRight(clean, ")")
		trail := len(clean) - len(core)
		switch lowered := strings.ToLower(core); {
		case lowered == "and":
			toks = append(toks, tok{t: tAnd, col: cleanCol, text: core})
		case lowered == "or":
			toks = append(toks, tok{t: tOr, col: cleanCol, text: core})
		case lowered == "not":
			toks = append(toks, tok{t: tNot, col: cleanCol, text: core})
		case core == "":
		case len(clean) >= 2 && (clean[0] == '"' || clean[0] == '\'') && clean[len(clean)-1] == clean[0]:
			toks = append(toks, tok{t: tString, col: cleanCol, text: clean[1 : len(clean)-1]})
		default:
			n, off, err := parseCheck(core)
			if err != nil {
				c := cleanCol + utf8.RuneCountInString(core[:off])
				return nil, &SyntaxError{Column: c, Reason: fmt.Sprintf("check %q at column %d: %v", core, cleanCol, err)}
			}
			toks = append(toks, tok{t: tCheck, col: cleanCol, text: core, n: n})
		}
		coreEnd := cleanCol + utf8.RuneCountInString(core)
		for j := 0; j < trail; j++ {
			toks = append(toks, tok{t: tRParen, col: coreEnd + j, text: ")"})
		}
	}
	return toks, nil
}

// parseText parses a rule written in the policy language, as
// oslo.policy's _parse_text_rule, with errors instead of a check that
// always fails.
func parseText(s string) (*node, error) {
	if s == "" {
		return &node{op: opTrue}, nil
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if n := shiftReduce(toks); n != nil {
		return n, nil
	}
	return nil, diagnose(toks)
}

// shiftReduce runs oslo.policy's greedy shift-reduce parser over toks and
// returns the tree, or nil when the tokens do not reduce to one check.
// It builds the same tree as oslo.policy, quirks included ("a or b and c
// and d" extends the "and" inside the "or").
func shiftReduce(toks []tok) *node {
	st := make([]tok, 0, len(toks))
	for _, t := range toks {
		st = append(st, t)
		st = reduce(st)
	}
	if len(st) != 1 {
		return nil
	}
	switch st[0].t {
	case tCheck, tAndExpr, tOrExpr:
		return st[0].n
	}
	return nil // a lone operator, parenthesis or quoted string
}

// reduce applies the reductions of oslo.policy's ParseState to the top
// of the stack for as long as one matches (at most one ever does).
func reduce(st []tok) []tok {
	for {
		n := len(st)
		if n >= 3 {
			a, b, c := st[n-3], st[n-2], st[n-1]
			if a.t == tLParen && c.t == tRParen && (b.t == tCheck || b.t == tAndExpr || b.t == tOrExpr) {
				st = append(st[:n-3], tok{t: tCheck, col: a.col, n: b.n})
				continue
			}
			if b.t == tAnd && c.t == tCheck {
				switch a.t {
				case tCheck:
					st = append(st[:n-3], tok{t: tAndExpr, col: a.col, n: &node{op: opAnd, kids: []*node{a.n, c.n}}})
					continue
				case tOrExpr:
					// "A or B and C": the "and" takes the or's last check.
					or := a.n
					last := or.kids[len(or.kids)-1]
					if last.op == opAnd {
						last.kids = append(last.kids, c.n)
					} else {
						or.kids[len(or.kids)-1] = &node{op: opAnd, kids: []*node{last, c.n}}
					}
					st = append(st[:n-3], a)
					continue
				case tAndExpr:
					a.n.kids = append(a.n.kids, c.n)
					st = append(st[:n-3], a)
					continue
				}
			}
			if b.t == tOr && c.t == tCheck {
				switch a.t {
				case tCheck, tAndExpr:
					st = append(st[:n-3], tok{t: tOrExpr, col: a.col, n: &node{op: opOr, kids: []*node{a.n, c.n}}})
					continue
				case tOrExpr:
					a.n.kids = append(a.n.kids, c.n)
					st = append(st[:n-3], a)
					continue
				}
			}
		}
		if n >= 2 && st[n-2].t == tNot && st[n-1].t == tCheck {
			st = append(st[:n-2], tok{t: tCheck, col: st[n-2].col, n: &node{op: opNot, kids: []*node{st[n-1].n}}})
			continue
		}
		return st
	}
}

// diagnose explains why toks, which the shift-reduce parser refused, are
// not a rule: it parses them again by recursive descent over the same
// grammar (or of ands of nots of checks and parenthesised rules) to find
// the first error and its column.
func diagnose(toks []tok) error {
	if len(toks) == 0 {
		return &SyntaxError{Reason: "the rule is blank (an empty rule allows everyone: write \"\" or \"@\"; \"!\" allows no one)"}
	}
	p := &descent{toks: toks}
	if err := p.expr(); err != nil {
		return err
	}
	if p.i < len(toks) {
		return p.extra()
	}
	// Unreachable while both parsers accept the same language (the fuzz
	// test checks it).
	return &SyntaxError{Reason: "could not parse the rule"}
}

// descent is a recursive-descent parser used only to explain errors.
type descent struct {
	toks  []tok
	i     int
	depth int // open parentheses
}

func (p *descent) peek() *tok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *descent) expr() error {
	if err := p.and(); err != nil {
		return err
	}
	for t := p.peek(); t != nil && t.t == tOr; t = p.peek() {
		p.i++
		if err := p.and(); err != nil {
			return err
		}
	}
	return nil
}

func (p *descent) and() error {
	if err := p.not(); err != nil {
		return err
	}
	for t := p.peek(); t != nil && t.t == tAnd; t = p.peek() {
		p.i++
		if err := p.not(); err != nil {
			return err
		}
	}
	return nil
}

func (p *descent) not() error {
	for t := p.peek(); t != nil && t.t == tNot; t = p.peek() {
		p.i++
	}
	return p.atom()
}

func (p *descent) atom() error {
	t := p.peek()
	if t == nil {
		prev := p.toks[len(p.toks)-1]
		return syntaxErrorf(prev.col, "the rule ends after %q at column %d: a check must follow", prev.text, prev.col)
	}
	switch t.t {
	case tCheck:
		p.i++
		return nil
	case tLParen:
		p.i++
		if nt := p.peek(); nt != nil && nt.t == tRParen {
			return syntaxErrorf(t.col, "empty parentheses at column %d", t.col)
		}
		p.depth++
		if err := p.expr(); err != nil {
			return err
		}
		nt := p.peek()
		if nt == nil {
			return syntaxErrorf(t.col, "unbalanced parenthesis: %q at column %d is never closed", "(", t.col)
		}
		if nt.t != tRParen {
			return p.extra()
		}
		p.i++
		p.depth--
		return nil
	case tRParen:
		if p.depth == 0 {
			return syntaxErrorf(t.col, "unbalanced parenthesis: %q at column %d has no matching %q", ")", t.col, "(")
		}
		return syntaxErrorf(t.col, "a check is missing before %q at column %d", ")", t.col)
	case tString:
		return syntaxErrorf(t.col, "the quoted string %q at column %d is not a check (write kind:match)", t.text, t.col)
	default: // and, or
		return syntaxErrorf(t.col, "%q at column %d has no check on its left", t.text, t.col)
	}
}

// extra explains a token found where a rule (or a parenthesised rule)
// should have ended.
func (p *descent) extra() error {
	t := p.toks[p.i]
	if t.t == tRParen {
		return syntaxErrorf(t.col, "unbalanced parenthesis: %q at column %d has no matching %q", ")", t.col, "(")
	}
	what := strconv.Quote(t.text)
	if t.t == tString {
		what = "the quoted string " + strconv.Quote(t.text)
	}
	return syntaxErrorf(t.col, "\"and\" or \"or\" is missing before %s at column %d", what, t.col)
}

func syntaxErrorf(col int, format string, args ...any) error {
	return &SyntaxError{Column: col, Reason: fmt.Sprintf(format, args...)}
}

// parseCheck parses one check ("@", "!" or "kind:match"), as
// oslo.policy's _parse_check. On error it also returns the byte offset in
// s of the problem.
func parseCheck(s string) (*node, int, error) {
	switch s {
	case "!":
		return &node{op: opFalse}, 0, nil
	case "@":
		return &node{op: opTrue}, 0, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf(`not a check: write kind:match, "@" or "!"`)
	}
	n := &node{kind: kind, match: match}
	moff := len(kind) + 1
	switch kind {
	case "http", "https":
		return nil, 0, fmt.Errorf("%s checks (asking a remote server) are not supported", kind)
	case "rule":
		n.op = opRule
		return n, 0, nil
	case "role":
		n.op = opRole
		t, off, err := compileTemplate(match)
		if err != nil {
			return nil, moff + off, err
		}
		n.tmpl = t
		if t.kind == tmplConst {
			n.lower = pyLower(match)
		}
		return n, 0, nil
	}
	n.op = opGeneric
	t, off, err := compileTemplate(match)
	if err != nil {
		return nil, moff + off, err
	}
	n.tmpl = t
	if err := n.compileAttribute(); err != nil {
		return nil, 0, err
	}
	return n, 0, nil
}

// parseList parses the legacy list-of-lists form of a rule, as
// oslo.policy's _parse_list_rule: an "or" of "and"s of single checks; a
// bare string stands for a list of one.
func parseList(rule []any) (*node, error) {
	if len(rule) == 0 {
		return &node{op: opTrue}, nil
	}
	var or []*node
	for i, inner := range rule {
		var items []any
		switch v := inner.(type) {
		case string:
			items = []any{v}
		case []any:
			items = v
		default:
			return nil, fmt.Errorf("item %d: %s is neither a check string nor a list of them", i+1, pyTypeName(inner))
		}
		if len(items) == 0 {
			continue
		}
		var and []*node
		for j, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("item %d.%d: %s is not a check string", i+1, j+1, pyTypeName(it))
			}
			n, _, err := parseCheck(s)
			if err != nil {
				return nil, fmt.Errorf("item %d.%d: check %q: %w", i+1, j+1, s, err)
			}
			and = append(and, n)
		}
		if len(and) == 1 {
			or = append(or, and[0])
		} else {
			or = append(or, &node{op: opAnd, kids: and})
		}
	}
	switch len(or) {
	case 0:
		return &node{op: opFalse}, nil
	case 1:
		return or[0], nil
	}
	return &node{op: opOr, kids: or}, nil
}

// pyTypeName names the YAML/JSON type of v for an error message.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return "a number"
	}
}
