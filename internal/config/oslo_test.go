package config

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/ini.v1"
)

// readAll reads every assignment's value as Parse does, by raw section
// name and key, in order.
func readAll(data []byte) (map[string]map[string][]string, error) {
	_, assigns, p := scan(data)
	if p != nil {
		return nil, p
	}
	inif, err := ini.LoadSources(ini.LoadOptions{IgnoreInlineComment: true, AllowPythonMultilineValues: true, IgnoreContinuation: true,
		PreserveSurroundedQuote: true, AllowShadows: true, AllowDuplicateShadowValues: true, PreserveEmptyShadowValues: true,
		KeyValueDelimiters: "=:", ReaderBufferSize: len(data) + 64}, data)
	if err != nil {
		return nil, err
	}
	r := &reader{ini: inif, seen: map[string]int{}}
	out := map[string]map[string][]string{}
	for _, a := range assigns {
		v, ok := r.rawValue(a)
		if !ok {
			return nil, &Problem{Line: a.line, Reason: "unreadable"}
		}
		if out[a.section] == nil {
			out[a.section] = map[string][]string{}
		}
		out[a.section][a.key] = append(out[a.section][a.key], v)
	}
	return out, nil
}

// osloRead parses files with oslo.config's own parser (Debian's
// python3-oslo.config): per file, the sections' values, or nil when
// oslo.config refuses the file.
func osloRead(t *testing.T, files []string) []map[string]map[string][]string {
	t.Helper()
	const script = `
import io, json, sys
from oslo_config import cfg, iniparser
out = []
for text in json.load(sys.stdin):
    sections = {}
    p = cfg.ConfigParser("x.conf", sections)
    try:
        iniparser.BaseParser.parse(p, io.StringIO(text, newline=None).readlines())
        out.append(sections)
    except Exception:
        out.append(None)
json.dump(out, sys.stdout)
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	in, _ := json.Marshal(files)
	cmd.Stdin = strings.NewReader(string(in))
	b, err := cmd.Output()
	if err != nil {
		skipOrFail(t, fmt.Sprintf("oslo.config is not installed here (Debian's python3-oslo.config): %v", err))
	}
	var out []map[string]map[string][]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The values allot reads are the values oslo.config reads, on hand-made
// tricky files and on random ones built from the lines INI files are made
// of. Where allot refuses a file oslo.config reads, it is one of the few
// constructs ini.v1 reads differently, refused on purpose (see scan).
func TestReadsAsOsloConfig(t *testing.T) {
	files := []string{
		"[DEFAULT]\ndebug = True\n[a]\nk = v1\nk = v2\nk = v1\n",
		"[a]\nk = \"quoted\"\nq = 'single'\nm = one\n  two\n\tthree\nafter = x\n",
		"[a]\nk = v # not a comment\nl = v ; neither\n",
		"[a]\nk = line1\n\n  cont\n",
		"[a]\nk = line1\n  # continued, not a comment\nz=1\n",
		"x = 1\n[a]\n",
		"[a] # c\nk=1\n",
		"[a]\nnokey\n",
		"[a]\nk : v\nj = a:b\nl : a=b\n",
		"[a]\nk =\n[A]\nk = 2\n[DEFAULT]\nz=1\n[default]\ny=2\n",
		"[a]\nk = v\\\n  w\n",
		"  [a]\nk=1\n",
		"[a]\n= v\n",
		"[a]\nk = \"abc\n",
		"[a]\nk = \"\n",
		"[a]\nk = ''\n",
		"[a]\nk = \"a\" and \"b\"\n",
		"[a]\nk =\n  a,\n  b,\n",
		"[a]\nk = v   \n  w   \nj = x\n",
		"[ a ]\nk = 1\n",
		"[a]]\nk = 1\n",
		"[a]\r\nk = v\r\n  w\r\nz = 1\r\n",
		"[a]\nk = $$x \\$y\n",
		"[a]\nk=\n",
		"[a]\nk==v\n",
		"[a]\nk = [x]\n",
		"[a]\nk = v\n   \nj = w\n",
		"# only a comment\n",
		"",
		"[a]\n#k = 1\n;j = 2\n",
		"[a]\nk = a\n\tb\n  c\n\n[b]\nj = 1\n",
	}
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"[a]", "[b]", "[A]", "[DEFAULT]", "k = v", "k = \"q\"", "j: 'x'", "k =", "  cont", "\tcont = x", "", "   ",
		"# c", "; c", "k = a, b", "j = x # y", "k = \"\"", "l = 'x", "m = a:b=c", "n = \"x\"y\"", "  # cc", "o = 'a'\n  'b'"}
	for i := 0; i < 400; i++ {
		var b strings.Builder
		b.WriteString("[a]\n")
		for n := rng.Intn(8); n >= 0; n-- {
			b.WriteString(pieces[rng.Intn(len(pieces))] + "\n")
		}
		files = append(files, b.String())
	}
	oslo := osloRead(t, files)
	for i, text := range files {
		ours, err := readAll([]byte(text))
		switch {
		case oslo[i] == nil && err == nil:
			t.Errorf("oslo.config refuses %q; allot reads %v", text, ours)
		case oslo[i] != nil && err != nil:
			t.Errorf("oslo.config reads %q as %v; allot refuses it: %v", text, oslo[i], err)
		case oslo[i] != nil && !reflect.DeepEqual(nonEmpty(oslo[i]), ours):
			t.Errorf("%q:\noslo.config reads %v\n      allot reads %v", text, oslo[i], ours)
		}
	}
}

// nonEmpty drops the sections without keys (oslo.config lists them).
func nonEmpty(m map[string]map[string][]string) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for s, keys := range m {
		if len(keys) > 0 {
			out[s] = keys
		}
	}
	return out
}

// skipOrFail skips a test whose reference implementation is not installed,
// unless ALLOT_REQUIRE_CLIENTS is set (CI sets it, having installed it):
// then its absence is a failure, never a silent skip.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("ALLOT_REQUIRE_CLIENTS") == "1" {
		t.Fatal(why + " (ALLOT_REQUIRE_CLIENTS is set)")
	}
	t.Skip(why)
}
