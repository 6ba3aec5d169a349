package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"allot/internal/model"
)

// Input limits that hold for every request of both APIs, checked before
// any schema or store sees the input: the work a request costs is bounded
// by its size, and both stores receive only what both can store.
const (
	// MaxNumberDigits bounds the digits of a JSON number's mantissa. No
	// field of either API holds more than 20 significant digits; exact
	// (big.Rat) arithmetic on longer numbers would cost time that grows
	// with their length.
	MaxNumberDigits = 100
	// MaxNumberExponent bounds the absolute value of a JSON number's
	// exponent; beyond it exact arithmetic costs time that grows with the
	// exponent (1e999999 took 30-70 ms per number).
	MaxNumberExponent = 400
	// MaxQuote bounds how much of a client's input an error message
	// quotes (in characters); longer values are cut and end with "...".
	MaxQuote = 200
	// MaxDetail bounds an error's whole detail (in characters), whatever
	// it quotes: a safety net behind MaxQuote.
	MaxDetail = 2048
)

// BodyError is a request body that fails a limit every body obeys (a
// number out of range, a string no store can hold). Msg names the place;
// each API words the error around it.
type BodyError struct{ Msg string }

// Error implements error.
func (e *BodyError) Error() string { return e.Msg }

// bodyError wraps a BodyError into Placement's 400 ("JSON does not
// validate: ..."); Ironic rewords it from the BodyError.
func bodyError(msg string) error {
	be := &BodyError{Msg: msg}
	e := model.BadRequest("JSON does not validate: %s", msg)
	e.Err = be
	return e
}

// scanBody checks the raw JSON text in one pass without decoding it: every
// number literal (outside strings) must be within MaxNumberDigits digits,
// MaxNumberExponent and float64's range. It reports whether a string holds
// the escape \u0000 (the decoded tree then names the field). Malformed
// JSON is left to the decoder.
func scanBody(body []byte) (hasNUL bool, err error) {
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '"':
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' {
					if i+5 < len(body) && body[i+1] == 'u' && string(body[i+2:i+6]) == "0000" {
						hasNUL = true
					}
					i++
				}
				i++
			}
			i++
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(body) && isNumberByte(body[j]) {
				j++
			}
			if msg := checkNumber(string(body[i:j])); msg != "" {
				return hasNUL, bodyError(fmt.Sprintf("%s (at byte %d)", msg, i))
			}
			i = j
		default:
			i++
		}
	}
	return hasNUL, nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// numberLimits words the limits of checkNumber.
var numberLimits = fmt.Sprintf("numbers have at most %d digits, an exponent between -%d and %d and a magnitude below %g",
	MaxNumberDigits, MaxNumberExponent, MaxNumberExponent, math.MaxFloat64)

// checkNumber returns why a number literal is out of range, or "" when it
// is within the limits (or not a well-formed number: the decoder says so).
// Its cost is linear in the literal's length; it never parses exactly.
func checkNumber(lit string) string {
	mant, exp, hasExp := lit, "", false
	if k := strings.IndexAny(lit, "eE"); k >= 0 {
		mant, exp, hasExp = lit[:k], lit[k+1:], true
	}
	digits := 0
	for i := 0; i < len(mant); i++ {
		if mant[i] >= '0' && mant[i] <= '9' {
			digits++
		}
	}
	if digits > MaxNumberDigits {
		return fmt.Sprintf("%s has %d digits, too many for any field: %s", Clip(lit), digits, numberLimits)
	}
	if !hasExp {
		return ""
	}
	e := strings.TrimLeft(exp, "+-")
	e = strings.TrimLeft(e, "0")
	if len(e) > 4 {
		return fmt.Sprintf("%s is out of range for any field: %s", Clip(lit), numberLimits)
	}
	n, err := strconv.Atoi(e)
	if err != nil && e != "" {
		return "" // malformed: the decoder words it
	}
	if n > MaxNumberExponent {
		return fmt.Sprintf("%s is out of range for any field: %s", Clip(lit), numberLimits)
	}
	if f, err := strconv.ParseFloat(lit, 64); err != nil && math.IsInf(f, 0) {
		return fmt.Sprintf("%s is out of range for any field: %s", Clip(lit), numberLimits)
	}
	return ""
}

// findNUL returns the Python-style path (['a'][0]) of the first string in
// v, in sorted key order, that holds a NUL character, and whether that
// string is a key.
func findNUL(v any, path string) (string, bool, bool) {
	switch t := v.(type) {
	case string:
		return path, false, strings.IndexByte(t, 0) >= 0
	case []any:
		for i, x := range t {
			if p, key, ok := findNUL(x, path+"["+strconv.Itoa(i)+"]"); ok {
				return p, key, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "[" + PyRepr(k) + "]"
			if strings.IndexByte(k, 0) >= 0 {
				return p, true, true
			}
			if p, key, ok := findNUL(t[k], p); ok {
				return p, key, true
			}
		}
	}
	return "", false, false
}

// nulError names the field of a body string that holds a NUL character.
func nulError(v any) error {
	path, key, ok := findNUL(v, "")
	if !ok {
		return nil
	}
	if path == "" {
		path = "the body"
	}
	what := "the value of"
	if key {
		what = "the key"
	}
	return bodyError(fmt.Sprintf("%s %s contains a NUL character (\\u0000), which no field accepts", what, path))
}

// storable reports why s cannot be stored by every store (PostgreSQL
// refuses NUL characters and invalid UTF-8 in text), or "".
func storable(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character, which no field accepts"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	return ""
}

// CheckRequestStrings checks the strings of a request that handlers pass
// on to the store (path parameters of pattern, the caller's ids, query
// parameter names and values) and answers 400 naming the first one that no store can hold,
// so that both stores answer alike. It is cheap for ordinary requests.
func CheckRequestStrings(r *http.Request, pattern string) error {
	if why := storable(r.URL.Path); why != "" {
		for rest := pattern; ; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				break
			}
			name := strings.TrimSuffix(rest[i+1:i+j], "...")
			rest = rest[i+j+1:]
			if why := storable(r.PathValue(name)); why != "" {
				return model.BadRequest("The path parameter {%s} %s; send UTF-8 text, percent-encoded.", name, why)
			}
		}
		return model.BadRequest("The path %s; send UTF-8 text, percent-encoded.", why)
	}
	if err := checkIdentity(StateOf(r).Identity); err != nil {
		return err
	}
	if !suspectQuery(r.URL.RawQuery) {
		return nil
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if why := storable(k); why != "" {
			return model.BadRequest("The name of query parameter %s %s; send UTF-8 text, percent-encoded.", quoteInput(k), why)
		}
		for _, v := range q[k] {
			if why := storable(v); why != "" {
				return model.BadRequest("The value of query parameter %s %s; send UTF-8 text, percent-encoded.", quoteInput(k), why)
			}
		}
	}
	return nil
}

// checkIdentity refuses a caller whose ids no store can hold: under
// noauth2 they come from headers (X-Project-Id, X-User-Id, ...), and the
// project filters queries and owns what the caller creates.
func checkIdentity(id Identity) error {
	for _, f := range []struct{ name, value string }{
		{"project_id", id.ProjectID}, {"user_id", id.UserID}, {"domain_id", id.DomainID},
		{"project_domain_id", id.ProjectDomainID}, {"user_domain_id", id.UserDomainID},
	} {
		if why := storable(f.value); why != "" {
			return model.BadRequest("The caller's %s %s; send UTF-8 text.", f.name, why)
		}
	}
	return nil
}

// suspectQuery reports whether a raw query could decode to a NUL or to
// bytes outside ASCII (only then is it parsed and checked).
func suspectQuery(raw string) bool {
	if strings.IndexByte(raw, '%') >= 0 {
		return true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] == 0 || raw[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// quoteInput quotes a client's string for a message: at most MaxQuote
// characters, invalid bytes and control characters escaped.
func quoteInput(s string) string { return strconv.Quote(Clip(s)) }

// Clip returns s cut to at most MaxQuote characters (runes), with "..."
// when it was longer: what an error message may quote of a client's input.
func Clip(s string) string { return model.Clip(s, MaxQuote) }

// decodeJSON is decodeAny after the raw checks: numbers in range, no NUL
// in any string.
func decodeJSON(body []byte) (any, error) {
	hasNUL, err := scanBody(body)
	if err != nil {
		return nil, err
	}
	v, err := decodeAny(body)
	if err != nil {
		return nil, err
	}
	if hasNUL {
		if err := nulError(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// jsonNumberIsInt reports whether a json.Number (already within the
// limits of checkNumber) is integral and fits int64, returning its
// integer text. It is exact and costs time linear in the literal.
func jsonNumberIsInt(n json.Number) (string, bool) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatInt(i, 10), true // -0 is 0
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		e, err := strconv.Atoi(s[k+1:])
		if err != nil || e > MaxNumberExponent || e < -MaxNumberExponent {
			return "", false
		}
		mant, exp = s[:k], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	exp -= len(frac) // value = digits × 10^exp
	if exp < 0 {
		cut := len(digits) + exp
		if cut < 0 {
			cut = 0
		}
		if strings.Trim(digits[cut:], "0") != "" {
			return "", false
		}
		digits = digits[:cut]
	} else {
		if exp > 20 && strings.Trim(digits, "0") != "" {
			return "", false
		}
		digits += strings.Repeat("0", exp)
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	if neg {
		digits = "-" + digits
	}
	if _, err := strconv.ParseInt(digits, 10, 64); err != nil {
		return "", false
	}
	return digits, true
}
