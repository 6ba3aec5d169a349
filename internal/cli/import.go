package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"allot/internal/importer"
)

// newImportCommand builds "allot import": moving an existing cloud onto
// allot through the APIs.
func newImportCommand(o *clientOptions) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:   "import",
		Short: "Copy a running Placement's cloud into allot through the APIs, and compare the two",
		Long: `Copies the data of a running OpenStack Placement (any implementation, any
database, microversion 1.14 or later) into allot through both services'
HTTP APIs, and compares the two. See docs/operations.md, "Moving a cloud
onto allot".`,
	}, newImportPlacementCommand(o))
}

// progressPrinter shows an import's progress on w: a line rewritten in
// place on a terminal (at most every 100 ms), else one line when each step
// ends.
type progressPrinter struct {
	w        io.Writer
	terminal bool

	mu    sync.Mutex
	step  string    // the step last shown
	last  time.Time // when it was shown
	shown bool      // a terminal line is on screen and needs a newline
}

// newProgressPrinter returns a printer for w.
func newProgressPrinter(w io.Writer) *progressPrinter {
	f, ok := w.(*os.File)
	return &progressPrinter{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// report is an importer.ProgressFunc.
func (p *progressPrinter) report(pr importer.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := pr.Done == pr.Total
	if !p.terminal {
		if end {
			fmt.Fprintf(p.w, "%s: %d done\n", pr.Step, pr.Total)
		}
		return
	}
	if !end && pr.Step == p.step && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.step, p.last = pr.Step, time.Now()
	pct := 100
	if pr.Total > 0 {
		pct = pr.Done * 100 / pr.Total
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d of %d (%d%%)", pr.Step, pr.Done, pr.Total, pct)
	p.shown = !end
	if end {
		fmt.Fprintln(p.w)
	}
}

// finish ends a terminal line left open by an interrupted step.
func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

// printReport prints an import's counts and every problem; it returns how
// many objects were not imported.
func printReport(w io.Writer, r *importer.Report) int {
	for _, line := range []struct {
		kind string
		c    importer.Count
	}{
		{"resource classes", r.Classes}, {"traits", r.Traits},
		{"resource providers", r.Providers}, {"consumers", r.Consumers},
	} {
		fmt.Fprintf(w, "%-19s %d created, %d updated, %d unchanged, %d skipped\n",
			line.kind+":", line.c.Created, line.c.Updated, line.c.Unchanged, line.c.Skipped)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "skipped %s: %s\n", p.Object, p.Reason)
	}
	return len(r.Problems)
}

// printDifferences prints every difference and a count.
func printDifferences(w io.Writer, diffs []importer.Difference) {
	for _, d := range diffs {
		fmt.Fprintln(w, "differs", d.String())
	}
	noun := "differences"
	if len(diffs) == 1 {
		noun = "difference"
	}
	fmt.Fprintf(w, "verify: %d %s\n", len(diffs), noun)
}

// plural returns "N thing" or "N things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(thing, "s"))
}
