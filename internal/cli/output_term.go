package cli

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// terminalWidth returns the width of the terminal w writes to, else
// $COLUMNS, else 0 (unknown).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}
