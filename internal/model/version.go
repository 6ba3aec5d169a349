package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an API microversion, e.g. 1.39.
type Version struct {
	Major, Minor int
}

// V builds a Version.
func V(major, minor int) Version { return Version{major, minor} }

// String formats the version as "X.Y".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v >= o.
func (v Version) AtLeast(o Version) bool {
	return v.Major > o.Major || v.Major == o.Major && v.Minor >= o.Minor
}

// Less reports whether v < o.
func (v Version) Less(o Version) bool { return !v.AtLeast(o) }

// ParseVersion reads "X.Y" with non-negative integers (no signs, no spaces
// inside, no extra dots).
func ParseVersion(s string) (Version, bool) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok || maj == "" || min == "" || strings.Contains(min, ".") {
		return Version{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || !isDigits(maj) || !isDigits(min) {
		return Version{}, false
	}
	return Version{a, b}, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
