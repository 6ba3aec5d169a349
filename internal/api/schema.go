package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"allot/internal/model"
)

// Schema is a compiled JSON schema for a request body. Its errors read like
// those of Python's jsonschema, which OpenStack clients and tests expect.
type Schema struct {
	s   *jsonschema.Schema
	doc any
	// flat, when the schema is a flat object of strings (a query schema),
	// accepts valid query strings without the general validator.
	flat *flatCheck
}

var uuidFormat = &jsonschema.Format{
	Name: "uuid",
	Validate: func(v any) error {
		s, ok := v.(string)
		if !ok || model.IsUUIDLike(s) {
			return nil
		}
		return fmt.Errorf("not a uuid")
	},
}

// MustSchema compiles a JSON schema given as JSON text; it panics on a
// broken schema (a programming error caught by any test).
func MustSchema(text string) *Schema {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		panic(fmt.Sprintf("schema: %v", err))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	c.RegisterFormat(uuidFormat)
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		panic(fmt.Sprintf("schema: %v", err))
	}
	s, err := c.Compile("mem:///schema.json")
	if err != nil {
		panic(fmt.Sprintf("schema: %v", err))
	}
	return &Schema{s: s, doc: doc, flat: compileFlat(doc)}
}

// Validate checks v (decoded with json.Number) and returns a message in
// Python jsonschema's words, or "" when v is valid.
func (s *Schema) Validate(v any) string {
	err := s.s.Validate(v)
	if err == nil {
		return ""
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	leaf := pickLeaf(ve)
	return s.describe(leaf, v)
}

// ValidateShort checks v and returns only the first line of the message
// (what Ironic reports), or "" when v is valid.
func (s *Schema) ValidateShort(v any) string {
	msg := s.Validate(v)
	if i := strings.Index(msg, "\n"); i >= 0 {
		return msg[:i]
	}
	return msg
}

// pickLeaf descends through wrapper errors to the failing keyword,
// preferring (like Python's best_match) the error highest in the instance.
func pickLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
			if len(e.Causes) == 0 {
				return e
			}
			best := e.Causes[0]
			for _, c := range e.Causes[1:] {
				if len(c.InstanceLocation) < len(best.InstanceLocation) {
					best = c
				}
			}
			e = best
		default:
			return e
		}
	}
}

// describe renders one validation failure like Python's jsonschema:
// the message, then the schema and instance paths.
func (s *Schema) describe(e *jsonschema.ValidationError, root any) string {
	inst := valueAt(root, e.InstanceLocation)
	var msg string
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		types := s.typesAt(e.SchemaURL)
		if len(types) != len(k.Want) {
			types = k.Want
		}
		want := make([]string, len(types))
		for i, w := range types {
			want[i] = "'" + w + "'"
		}
		msg = fmt.Sprintf("%s is not of type %s", quoteRepr(inst), strings.Join(want, ", "))
	case *kind.Required:
		msg = fmt.Sprintf("%s is a required property", PyRepr(k.Missing[0]))
	case *kind.AdditionalProperties:
		props := append([]string(nil), k.Properties...)
		sort.Strings(props)
		q := make([]string, len(props))
		for i, p := range props {
			q[i] = quoteRepr(p)
		}
		names := model.Clip(strings.Join(q, ", "), MaxQuote)
		if patterns := s.patternsAt(e.SchemaURL); len(patterns) > 0 {
			verb := "does"
			if len(q) > 1 {
				verb = "do"
			}
			pq := make([]string, len(patterns))
			for i, p := range patterns {
				pq[i] = PyRepr(p)
			}
			msg = fmt.Sprintf("%s %s not match any of the regexes: %s", names, verb, strings.Join(pq, ", "))
			break
		}
		verb := "was"
		if len(q) > 1 {
			verb = "were"
		}
		msg = fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", names, verb)
	case *kind.Minimum:
		msg = fmt.Sprintf("%s is less than the minimum of %s", quoteRepr(inst), ratString(k.Want))
	case *kind.Maximum:
		msg = fmt.Sprintf("%s is greater than the maximum of %s", quoteRepr(inst), ratString(k.Want))
	case *kind.MinLength:
		msg = fmt.Sprintf("%s is too short", quoteRepr(inst))
	case *kind.MaxLength:
		msg = fmt.Sprintf("%s is too long", quoteRepr(inst))
	case *kind.MinItems:
		msg = fmt.Sprintf("%s is too short", quoteRepr(inst))
	case *kind.MaxItems:
		msg = fmt.Sprintf("%s is too long", quoteRepr(inst))
	case *kind.Pattern:
		msg = fmt.Sprintf("%s does not match %s", quoteRepr(inst), PyRepr(k.Want))
	case *kind.UniqueItems:
		msg = fmt.Sprintf("%s has non-unique elements", quoteRepr(inst))
	case *kind.Format:
		msg = fmt.Sprintf("%s is not a %s", quoteRepr(inst), PyRepr(k.Want))
	case *kind.Enum:
		msg = fmt.Sprintf("%s is not one of %s", quoteRepr(inst), PyRepr(k.Want))
	case *kind.Const:
		msg = fmt.Sprintf("%s was expected", PyRepr(k.Want))
	case *kind.AnyOf, *kind.OneOf:
		msg = fmt.Sprintf("%s is not valid under any of the given schemas", quoteRepr(inst))
	case *kind.MinProperties:
		msg = fmt.Sprintf("%s does not have enough properties", quoteRepr(inst))
	case *kind.MaxProperties:
		msg = fmt.Sprintf("%s has too many properties", quoteRepr(inst))
	case *kind.FalseSchema:
		msg = fmt.Sprintf("False schema does not allow %s", quoteRepr(inst))
	default:
		msg = model.Clip(e.Error(), 2*MaxQuote)
	}
	keyword := ""
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		keyword = kp[0]
	}
	schemaPath := schemaLocation(e.SchemaURL)
	var b strings.Builder
	b.WriteString(msg)
	fmt.Fprintf(&b, "\n\nFailed validating %s in schema%s", PyRepr(keyword), schemaPath)
	b.WriteString("\n\nOn instance")
	var where strings.Builder
	for _, seg := range e.InstanceLocation {
		if where.Len() > MaxQuote {
			break
		}
		if n, err := strconv.Atoi(seg); err == nil {
			fmt.Fprintf(&where, "[%d]", n)
		} else {
			fmt.Fprintf(&where, "[%s]", quoteRepr(seg))
		}
	}
	b.WriteString(model.Clip(where.String(), MaxQuote))
	fmt.Fprintf(&b, ":\n    %s", quoteRepr(inst))
	return b.String()
}

// schemaLocation turns "mem:///schema.json#/properties/total" into
// Python's "['properties']['total']".
func schemaLocation(u string) string {
	_, frag, _ := strings.Cut(u, "#")
	frag = strings.TrimPrefix(frag, "/")
	if frag == "" {
		return ""
	}
	var b strings.Builder
	for _, p := range strings.Split(frag, "/") {
		p = pointerToken(p)
		if n, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%d]", n)
		} else {
			fmt.Fprintf(&b, "[%s]", PyRepr(p))
		}
	}
	return b.String()
}

func valueAt(v any, path []string) any {
	for _, seg := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// patternsAt returns the sorted patternProperties keys of the schema at u.
func (s *Schema) patternsAt(u string) []string {
	m := s.nodeAt(u)
	pp, _ := m["patternProperties"].(map[string]any)
	out := make([]string, 0, len(pp))
	for k := range pp {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// typesAt returns the "type" list of the schema at u in declared order, so
// messages name the types as the schema author (and Python) wrote them.
func (s *Schema) typesAt(u string) []string {
	list, _ := s.nodeAt(u)["type"].([]any)
	out := make([]string, 0, len(list))
	for _, t := range list {
		if str, ok := t.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

// nodeAt returns the schema object a schema URL's fragment points at, or
// nil when the path does not resolve to an object.
func (s *Schema) nodeAt(u string) map[string]any {
	_, frag, _ := strings.Cut(u, "#")
	node := s.doc
	for _, p := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if p == "" {
			continue
		}
		p = pointerToken(p)
		switch t := node.(type) {
		case map[string]any:
			node = t[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			node = t[i]
		default:
			return nil
		}
	}
	m, _ := node.(map[string]any)
	return m
}

// pointerToken decodes one JSON-pointer segment of a schema URL.
func pointerToken(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
}

// ValidateQuery checks query parameters (the last value of each key) against
// a schema, answering 400 in Placement's words.
func ValidateQuery(values map[string]string, s *Schema) error {
	if s.flat != nil && s.flat.accepts(values) {
		return nil
	}
	m := make(map[string]any, len(values))
	for k, v := range values {
		m[k] = v
	}
	if msg := s.Validate(m); msg != "" {
		return model.BadRequest("Invalid query string parameters: %s", msg)
	}
	return nil
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return pyFloat(f)
}

func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	if i := strings.Index(s, "e"); i >= 0 && !strings.Contains(s[:i], ".") {
		// Python prints 3.40282e+38 the same way; keep Go's form.
		return s
	}
	return s
}

// PyRepr renders a decoded JSON value as Python's repr() would.
func PyRepr(v any) string {
	var b strings.Builder
	pyRepr(&b, v, -1)
	return b.String()
}

// quoteRepr is PyRepr for a value the client sent: at most MaxQuote
// characters, ending with "..." when cut, and cheap however large v is.
func quoteRepr(v any) string {
	var b strings.Builder
	pyRepr(&b, v, 4*MaxQuote)
	return model.Clip(b.String(), MaxQuote)
}

// pyEscape writes control characters as Python's repr() does (\n, \x00).
func pyEscape(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pyRepr writes PyRepr(v) to b, stopping early once b holds more than
// limit bytes (no limit when limit < 0).
func pyRepr(b *strings.Builder, v any, limit int) {
	full := func() bool { return limit >= 0 && b.Len() > limit }
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		if limit >= 0 {
			t = model.Clip(t, limit)
		}
		if strings.Contains(t, "'") && !strings.Contains(t, `"`) {
			b.WriteString(`"` + pyEscape(t) + `"`)
			return
		}
		b.WriteString("'" + pyEscape(strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`)) + "'")
	case json.Number:
		s := t.String()
		if strings.ContainsAny(s, ".eE") {
			if f, err := t.Float64(); err == nil {
				s = pyFloat(f)
			}
		}
		b.WriteString(s)
	case float64:
		b.WriteString(pyFloat(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case []any:
		pyReprList(b, t, limit, full)
	case []string:
		pyReprList(b, t, limit, full)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if full() {
				b.WriteString("...")
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k, limit)
			b.WriteString(": ")
			pyRepr(b, t[k], limit)
		}
		b.WriteByte('}')
	default:
		b.WriteString(fmt.Sprint(v))
	}
}

// decodeAny parses JSON keeping numbers exact and rejecting trailing data.
func decodeAny(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("extra data after the JSON value")
	}
	return v, nil
}

// pyReprList writes a list as Python's repr does, stopping with "..."
// once full reports the text long enough.
func pyReprList[T any](b *strings.Builder, items []T, limit int, full func() bool) {
	b.WriteByte('[')
	for i, x := range items {
		if full() {
			b.WriteString("...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		pyRepr(b, x, limit)
	}
	b.WriteByte(']')
}

// normalizeNumbers rewrites integral numbers such as 2.0 as 2, so that a
// value the schema accepts as an integer also decodes into an int64.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if strings.ContainsAny(t.String(), ".eE") {
			if i, ok := jsonNumberIsInt(t); ok {
				return json.Number(i)
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = normalizeNumbers(t[i])
		}
		return t
	case map[string]any:
		for k := range t {
			t[k] = normalizeNumbers(t[k])
		}
		return t
	}
	return v
}
