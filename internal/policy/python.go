package policy

// Python's semantics that oslo.policy's checks rely on: str() and repr()
// of values, str.lower(), and the literals ast.literal_eval reads.

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyLiteral returns str() of the Python literal s: a number (with an
// optional sign) or a quoted string.
func pyLiteral(s string) (string, error) {
	if q := s[0]; q == '\'' || q == '"' {
		return pyStringLiteral(s)
	}
	neg := false
	body := s
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if v, ok := pyInt(body); ok {
		if neg {
			v.Neg(v)
		}
		return v.String(), nil
	}
	if f, ok := pyFloat(body); ok {
		if neg {
			f = -f
		}
		return pyFloatRepr(f), nil
	}
	return "", fmt.Errorf("not a supported Python literal (a number, a quoted string, True, False or None)")
}

// digitsOK reports whether s is digits of the base with single
// underscores between them, as Python's grammar allows.
func digitsOK(s string, isDigit func(byte) bool) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '_' && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDec(c byte) bool { return c >= '0' && c <= '9' }

// pyInt parses a Python integer literal without sign.
func pyInt(s string) (*big.Int, bool) {
	base, digits := 10, s
	if len(s) > 1 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base, digits = 16, s[2:]
		case 'o', 'O':
			base, digits = 8, s[2:]
		case 'b', 'B':
			base, digits = 2, s[2:]
		}
		if base != 10 && strings.HasPrefix(digits, "_") {
			digits = digits[1:] // 0x_1f is allowed
		}
	}
	ok := digitsOK(digits, func(c byte) bool {
		switch base {
		case 16:
			return isDec(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
		case 8:
			return c >= '0' && c <= '7'
		case 2:
			return c == '0' || c == '1'
		}
		return isDec(c)
	})
	if !ok {
		return nil, false
	}
	clean := strings.ReplaceAll(digits, "_", "")
	if base == 10 && len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, false // leading zeros are a SyntaxError in Python 3
	}
	v, ok := new(big.Int).SetString(clean, base)
	return v, ok
}

// pyFloat parses a Python float literal without sign.
func pyFloat(s string) (float64, bool) {
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if !digitsOK(exp, isDec) {
			return 0, false
		}
	}
	ip, fp, dot := strings.Cut(mant, ".")
	switch {
	case !dot && exp == "":
		return 0, false // an integer
	case ip == "" && fp == "":
		return 0, false
	case ip != "" && !digitsOK(ip, isDec), fp != "" && !digitsOK(fp, isDec):
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// pyFloatRepr is Python's repr() (and str()) of a float.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp)
}

// pyStringLiteral returns the value of a quoted Python string literal, or
// of adjacent ones ('a'"b"); without prefixes or triple quotes.
func pyStringLiteral(s string) (string, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == q:
			if i == len(s)-1 {
				return b.String(), nil
			}
			// Adjacent literals concatenate: 'a''b' is 'ab'.
			if q = s[i+1]; q != '\'' && q != '"' {
				return "", fmt.Errorf("unsupported string literal: text after the closing quote")
			}
			i += 2
			continue
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				v = v*8 + int(s[i]-'0')
				i++
			}
			b.WriteRune(rune(v))
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > len(s) {
				return "", fmt.Errorf("truncated \\%c escape in a string literal", e)
			}
			v, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil || v > unicode.MaxRune || strings.ContainsAny(s[i:i+n], "+-_") {
				return "", fmt.Errorf("invalid \\%c escape in a string literal", e)
			}
			if v >= 0xd800 && v < 0xe000 {
				return "", fmt.Errorf("unsupported string literal: a surrogate escape")
			}
			b.WriteRune(rune(v))
			i += n
		case 'N':
			return "", fmt.Errorf("unsupported \\N{...} escape in a string literal")
		default:
			b.WriteByte('\\') // Python keeps unknown escapes
			b.WriteByte(e)
		}
	}
	return "", fmt.Errorf("unterminated string literal")
}

// pyStr is Python's str() of a value of a target or of the credentials.
func pyStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case float64:
		return pyFloatRepr(v)
	case float32:
		return pyFloatRepr(float64(v))
	case []string:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(e))
		}
		b.WriteByte(']')
		return b.String()
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(e))
		}
		b.WriteByte(']')
		return b.String()
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // Python keeps insertion order, which Go has lost
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(k) + ": " + pyRepr(v[k]))
		}
		b.WriteByte('}')
		return b.String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// pyRepr is Python's repr() of v: pyStr, with strings quoted.
func pyRepr(v any) string {
	s, ok := v.(string)
	if !ok {
		return pyStr(v)
	}
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyLower is Python's str.lower(): Unicode lowercase, with the full
// mapping of U+0130 and the final sigma rule.
func pyLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch r {
		case 0x130: // İ
			b.WriteString("i\u0307")
		case 0x3a3: // Σ
			if finalSigma(s, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma applies Unicode's Final_Sigma condition to the Σ at byte i
// of s: preceded by a cased letter (skipping case-ignorables) and not
// followed by one.
func finalSigma(s string, i int) bool {
	j := i
	before := false
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.In(r, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// lowerEqual reports whether pyLower(a) == pyLower(b), without
// allocating when both are ASCII.
func lowerEqual(a, b string) bool {
	if len(a) == len(b) {
		i := 0
		for ; i < len(a); i++ {
			x, y := a[i], b[i]
			if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
				break
			}
			if x != y && lowerASCII(x) != lowerASCII(y) {
				return false
			}
		}
		if i == len(a) {
			return true
		}
	}
	if isASCII(a) && isASCII(b) {
		return false // different lengths
	}
	return pyLower(a) == pyLower(b)
}

// lowerIs reports whether pyLower(s) == lower (lower already lowered).
func lowerIs(s, lower string) bool {
	if len(s) == len(lower) {
		i := 0
		for ; i < len(s); i++ {
			x := s[i]
			if x >= utf8.RuneSelf || lower[i] >= utf8.RuneSelf {
				break
			}
			if lowerASCII(x) != lower[i] {
				return false
			}
		}
		if i == len(s) {
			return true
		}
	}
	if isASCII(s) && isASCII(lower) {
		return false
	}
	return pyLower(s) == lower
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
