// Command testreport reads "go test -json" on standard input and prints
// what a person running the suite needs: go test's own package lines, the
// output of every failed test, and at the end one line naming every
// skipped test and why. It exits 1 when a test failed, or when a test
// skipped while ALLOT_REQUIRE_CLIENTS=1 (CI installs everything the suite
// needs, so there a skip means a scenario did not run).
//
//	go test -json ./... | go run ./scripts/testreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is a skipped test and the reason it printed.
type skip struct {
	pkg, test, reason string
}

// report accumulates what the run did.
type report struct {
	out     io.Writer
	pending map[string][]string // a running test's output, by package and test
	skips   []skip
	failed  bool
}

func (r *report) handle(e event) {
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(r.out, e.Output)
	case e.Action == "build-fail":
		r.failed = true
	case e.Test == "":
		// Package lines ("ok  allot/internal/x  1.2s", "FAIL ...") and
		// output outside any test (a panic in TestMain, a race report).
		if e.Action == "output" {
			fmt.Fprint(r.out, e.Output)
		}
		if e.Action == "fail" {
			r.failed = true
		}
	case e.Action == "output":
		r.pending[key] = append(r.pending[key], e.Output)
	case e.Action == "fail":
		r.failed = true
		for _, line := range r.pending[key] {
			fmt.Fprint(r.out, line)
		}
		delete(r.pending, key)
	case e.Action == "skip":
		r.skips = append(r.skips, skip{e.Package, e.Test, reason(r.pending[key])})
		delete(r.pending, key)
	case e.Action == "pass":
		delete(r.pending, key)
	}
}

// reason is the last line a skipped test printed before "--- SKIP" (what
// t.Skip said), without the file and line prefix.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if _, rest, ok := strings.Cut(l, ".go:"); ok {
			if _, msg, ok := strings.Cut(rest, ": "); ok {
				return msg
			}
		}
		return l
	}
	return "no reason given"
}

// summary is the one line about skips.
func (r *report) summary() string {
	if len(r.skips) == 0 {
		return "skipped: none"
	}
	sort.Slice(r.skips, func(i, j int) bool {
		return r.skips[i].pkg+" "+r.skips[i].test < r.skips[j].pkg+" "+r.skips[j].test
	})
	parts := make([]string, len(r.skips))
	for i, s := range r.skips {
		parts[i] = fmt.Sprintf("%s %s (%s)", strings.TrimPrefix(s.pkg, "allot/"), s.test, s.reason)
	}
	return fmt.Sprintf("skipped: %d test(s): %s", len(r.skips), strings.Join(parts, "; "))
}

func run(in io.Reader, out io.Writer, requireAll bool) int {
	r := &report{out: out, pending: map[string][]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not an event: go test's own message
			continue
		}
		r.handle(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testreport: reading go test -json: %v\n", err)
		return 1
	}
	fmt.Fprintln(out, r.summary())
	switch {
	case r.failed:
		return 1
	case requireAll && len(r.skips) > 0:
		fmt.Fprintln(out, "testreport: ALLOT_REQUIRE_CLIENTS=1 and tests skipped: install what they need (scripts/test-deps) so that every scenario runs")
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Getenv("ALLOT_REQUIRE_CLIENTS") == "1"))
}
