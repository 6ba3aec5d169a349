package api

import (
	"strconv"
	"strings"
)

// acceptsJSON reports whether an Accept header admits application/json.
func acceptsJSON(accept string) bool { return acceptsType(accept, "application/json") }

// acceptsType reports whether an Accept header admits the media type mt,
// directly or through a wildcard, with a quality above zero.
func acceptsType(accept, mt string) bool {
	typ, _, _ := strings.Cut(mt, "/")
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		rng := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q <= 0 {
			continue
		}
		if rng == mt || rng == "*/*" || rng == typ+"/*" {
			return true
		}
	}
	return false
}
