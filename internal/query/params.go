package query

import (
	"fmt"
	"net/url"
	"strings"

	"allot/internal/model"
)

// Params is a query string kept in the order the client sent it, so that
// repeated keys and error messages follow the request.
type Params struct {
	keys   []string // distinct keys in first-seen order
	values map[string][]string
}

// ParseParams reads a raw query string. A malformed escape is a 400.
func ParseParams(raw string) (Params, error) {
	p := Params{values: map[string][]string{}}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return p, model.BadRequest("Invalid query string parameters: cannot decode %q: %v", clip(k), err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return p, model.BadRequest("Invalid query string parameters: cannot decode the value of %q: %v", clip(key), err)
		}
		if _, ok := p.values[key]; !ok {
			p.keys = append(p.keys, key)
		}
		p.values[key] = append(p.values[key], val)
	}
	return p, nil
}

// Keys returns the distinct keys in request order.
func (p Params) Keys() []string { return p.keys }

// Has reports whether key was given.
func (p Params) Has(key string) bool { _, ok := p.values[key]; return ok }

// Get returns the last value of key (as Placement reads a single value).
func (p Params) Get(key string) string {
	vs := p.values[key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// Last returns the last value of every key (what a JSON-schema check of a
// query sees in Placement).
func (p Params) Last() map[string]string {
	out := make(map[string]string, len(p.keys))
	for _, k := range p.keys {
		out[k] = p.Get(k)
	}
	return out
}

// All returns every value of key in request order.
func (p Params) All(key string) []string { return p.values[key] }

// CheckAllowed rejects keys that are not allowed, in the words Placement uses.
func (p Params) CheckAllowed(allowed func(key string) bool) error {
	var extra []string
	for _, k := range p.keys {
		if !allowed(k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	return model.BadRequest("Invalid query string parameters: Additional properties are not allowed (%s)", unexpected(extra))
}

// unexpected formats names like Python's jsonschema: "'a' was unexpected",
// "'a', 'b' were unexpected".
func unexpected(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pyRepr(n)
	}
	verb := "was"
	if len(names) > 1 {
		verb = "were"
	}
	return fmt.Sprintf("%s %s unexpected", clip(strings.Join(q, ", ")), verb)
}

// pyRepr quotes s the way Python's repr() does for plain strings.
// The value is cut to maxQuote characters, like every quote of a
// client's input in an error.
func pyRepr(s string) string {
	s = clip(s)
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// AllowedSet returns a predicate for a fixed set of keys.
func AllowedSet(keys ...string) func(string) bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return func(k string) bool { return m[k] }
}

// CheckUUIDParam rejects a value that is not uuid-like, in Placement's words.
func CheckUUIDParam(value string) error {
	if !model.IsUUIDLike(value) {
		return model.BadRequest("Invalid query string parameters: %s is not a 'uuid'", pyRepr(value))
	}
	return nil
}

// maxQuote bounds how much of a client's input an error quotes.
const maxQuote = 200

// clip cuts a client's input for an error message (see model.Clip).
func clip(s string) string { return model.Clip(s, maxQuote) }
