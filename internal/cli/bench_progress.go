package cli

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// progressLine is a status line that a long bench command rewrites in
// place, on a terminal only: redirected to a file or a pipe, the output
// holds the final report and nothing else.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer // nil: not a terminal
	width int       // of the last line written, to blank it
}

// newProgress returns a progress line on w if w is a terminal.
func newProgress(w io.Writer) *progressLine {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &progressLine{w: w}
	}
	return &progressLine{}
}

// show replaces the line with the formatted text.
func (p *progressLine) show(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := fmt.Sprintf(format, args...)
	pad := max(p.width-len(s), 0)
	fmt.Fprintf(p.w, "\r%s%*s", s, pad, "")
	p.width = len(s)
}

// done blanks the line so that the report starts on a clean one.
func (p *progressLine) done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.width = 0
	}
}
