package model

import "strings"

// Name rules shared by resource classes and traits, and inventory bounds.
const (
	CustomPrefix   = "CUSTOM_"
	MaxTraitLength = 255
	// MaxInt is the largest value of an inventory field (a signed 32-bit int).
	MaxInt = 2147483647
)

// IsUpperName reports whether s matches ^[A-Z0-9_]+$.
func IsUpperName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// IsCustomName reports whether s matches ^CUSTOM_[A-Z0-9_]+$.
func IsCustomName(s string) bool {
	return strings.HasPrefix(s, CustomPrefix) && len(s) > len(CustomPrefix) && IsUpperName(s)
}

// IsValidCustomTrait reports whether s is an acceptable custom trait name.
func IsValidCustomTrait(s string) bool {
	return IsCustomName(s) && len(s) <= MaxTraitLength
}

// IsUUIDLike reports whether s can be read as a UUID: 32 hex digits, with or
// without the four hyphens, optionally in braces or with a urn:uuid: prefix
// (what Placement accepts as "uuid-like").
func IsUUIDLike(s string) bool {
	_, ok := NormalizeUUID(s)
	return ok
}

// NormalizeUUID returns the canonical lower-case hyphenated form of a
// uuid-like string.
func NormalizeUUID(s string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "urn:")
	t = strings.TrimPrefix(t, "uuid:")
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		t = t[1 : len(t)-1]
	}
	var hex []byte
	switch len(t) {
	case 32:
		hex = []byte(t)
	case 36:
		if t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
			return "", false
		}
		hex = make([]byte, 0, 32)
		hex = append(hex, t[0:8]...)
		hex = append(hex, t[9:13]...)
		hex = append(hex, t[14:18]...)
		hex = append(hex, t[19:23]...)
		hex = append(hex, t[24:]...)
	default:
		return "", false
	}
	for _, c := range hex {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	h := string(hex)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}
