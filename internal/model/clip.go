package model

// Clip returns s cut to at most max characters (runes; each invalid byte
// counts as one), ending with "..." when it was longer. Error messages
// quote client input through it, so that an answer never echoes a whole
// request. A cut never splits a character.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "..."
		}
		n++
	}
	return s
}
