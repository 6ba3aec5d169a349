//go:build !unix

package store

// writableHint is "" where the access check is not implemented.
func writableHint(string) string { return "" }
