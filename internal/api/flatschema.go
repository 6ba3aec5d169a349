package api

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"allot/internal/model"
)

// flatCheck is a fast, allocation-free acceptor for the schemas of query
// strings: an object whose values are strings, constrained by
// properties, patternProperties, additionalProperties, required and, per
// value, type, enum, pattern, minLength, maxLength and format "uuid".
//
// It only ever accepts: when it answers false (or the schema uses anything
// else, and no flatCheck is built), the full validator runs and words the
// error. So a query that passes it is exactly one the full validator
// passes, and the hot path of GET requests skips the general validator.
type flatCheck struct {
	props      map[string]*flatValue
	patterns   []flatPattern
	additional bool
	required   []string
}

type flatPattern struct {
	re *regexp.Regexp
	// prefix starts every key the pattern can match (when it is anchored
	// at the start): keys without it skip the regular expression.
	prefix string
	value  *flatValue
}

// flatValue constrains one string value.
type flatValue struct {
	enum      []string
	patterns  []*regexp.Regexp
	minLength int
	maxLength int // -1: none
	uuid      bool
}

// compileFlat builds a flatCheck from a schema document, or returns nil
// when the document uses a keyword it does not model.
func compileFlat(doc any) *flatCheck {
	m, ok := doc.(map[string]any)
	if !ok || m["type"] != "object" {
		return nil
	}
	fc := &flatCheck{props: map[string]*flatValue{}, additional: true}
	for k, v := range m {
		switch k {
		case "type", "description", "title", "$schema":
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			for name, sub := range props {
				fv := compileFlatValue(sub)
				if fv == nil {
					return nil
				}
				fc.props[name] = fv
			}
		case "patternProperties":
			pats, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			for pat, sub := range pats {
				re, err := regexp.Compile(pat)
				fv := compileFlatValue(sub)
				if err != nil || fv == nil {
					return nil
				}
				fp := flatPattern{re: re, value: fv}
				if strings.HasPrefix(pat, "^") {
					fp.prefix, _ = re.LiteralPrefix()
				}
				fc.patterns = append(fc.patterns, fp)
			}
		case "additionalProperties":
			b, ok := v.(bool)
			if !ok {
				return nil
			}
			fc.additional = b
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil
			}
			for _, r := range list {
				s, ok := r.(string)
				if !ok {
					return nil
				}
				fc.required = append(fc.required, s)
			}
		default:
			return nil
		}
	}
	return fc
}

func compileFlatValue(doc any) *flatValue {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	fv := &flatValue{maxLength: -1}
	for k, v := range m {
		switch k {
		case "description", "title":
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
			// Numeric keywords do not apply to strings.
		case "type":
			if !allowsString(v) {
				return nil
			}
		case "enum":
			list, ok := v.([]any)
			if !ok {
				return nil
			}
			for _, e := range list {
				if s, ok := e.(string); ok {
					fv.enum = append(fv.enum, s)
				}
			}
			if len(fv.enum) == 0 {
				return nil
			}
		case "pattern":
			s, ok := v.(string)
			if !ok {
				return nil
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return nil
			}
			fv.patterns = append(fv.patterns, re)
		case "minLength", "maxLength":
			n, ok := schemaInt(v)
			if !ok {
				return nil
			}
			if k == "minLength" {
				fv.minLength = n
			} else {
				fv.maxLength = n
			}
		case "format":
			if v != "uuid" {
				return nil
			}
			fv.uuid = true
		default:
			return nil
		}
	}
	return fv
}

// allowsString reports whether a "type" keyword admits strings.
func allowsString(v any) bool {
	switch t := v.(type) {
	case string:
		return t == "string"
	case []any:
		for _, e := range t {
			if e == "string" {
				return true
			}
		}
	}
	return false
}

// schemaInt reads a non-negative integer keyword value (schema documents
// are decoded with json.Number).
func schemaInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, false
	}
	return int(i), true
}

// accepts reports whether values surely satisfy the schema.
func (fc *flatCheck) accepts(values map[string]string) bool {
	for _, r := range fc.required {
		if _, ok := values[r]; !ok {
			return false
		}
	}
	for k, v := range values {
		matched := false
		if fv := fc.props[k]; fv != nil {
			if !fv.accepts(v) {
				return false
			}
			matched = true
		}
		for _, p := range fc.patterns {
			if strings.HasPrefix(k, p.prefix) && p.re.MatchString(k) {
				if !p.value.accepts(v) {
					return false
				}
				matched = true
			}
		}
		if !matched && !fc.additional {
			return false
		}
	}
	return true
}

func (fv *flatValue) accepts(v string) bool {
	if fv.enum != nil {
		found := false
		for _, e := range fv.enum {
			if e == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if fv.minLength > 0 || fv.maxLength >= 0 {
		n := utf8.RuneCountInString(v)
		if n < fv.minLength || (fv.maxLength >= 0 && n > fv.maxLength) {
			return false
		}
	}
	for _, re := range fv.patterns {
		if !re.MatchString(v) {
			return false
		}
	}
	if fv.uuid && !model.IsUUIDLike(v) {
		return false
	}
	return true
}

// HasQueryFastPath reports whether ValidateQuery can accept valid query
// strings for s without the general validator (tests assert it for the
// schemas on hot paths).
func (s *Schema) HasQueryFastPath() bool { return s.flat != nil }
