// Package config reads an oslo.config INI file, an operator's existing
// placement.conf, and maps the keys OpenStack Placement reads (with those
// of keystonemiddleware, oslo.policy, oslo.middleware's CORS and oslo.log)
// onto allot's settings, plus allot's own [allot] section whose keys are
// the flags of "allot serve" with "_" for "-".
//
// The result is a list of settings named like the flags of "allot serve"
// ("auth-strategy", "db", "keystone-auth-url", ...), each with its value
// in the flag's syntax and the file line it came from, so that the command
// applies file, environment and flags through one path. Keys that allot
// does not know, or knows but does not act on, come back as warnings; a
// file allot cannot read the way Placement would is an error naming the
// file, the line and the reason.
//
// The file format is oslo.config's: sections in brackets ([DEFAULT] in
// capitals, other section names case-insensitive), "key = value" or
// "key: value", whole-line comments starting with # or ;, no inline
// comments, a value continued on the following indented lines (a blank
// line ends it), one pair of matching quotes around a value stripped, the
// last assignment of a key winning. Values are parsed by gopkg.in/ini.v1;
// a small scan of the lines supplies line numbers and oslo.config's
// syntax errors. oslo.config's "$name" and "${group.name}" references are
// not expanded: a value allot reads that contains one is an error (write
// the value itself); "$$" and "\$" are a literal "$", as in oslo.config.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// Problem is an error or warning about a configuration file, located by
// file and line.
type Problem struct {
	File string
	// Line is 1-based; 0 when the problem has no line (the file as a
	// whole).
	Line    int
	Section string
	Key     string
	Reason  string
}

// Error formats the problem as "FILE:LINE: [section] key: reason".
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	switch {
	case p.Section != "" && p.Key != "":
		b.WriteString("[" + p.Section + "] " + p.Key + ": ")
	case p.Section != "":
		b.WriteString("[" + p.Section + "]: ")
	case p.Key != "":
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Setting is the value a file gives one of allot's settings.
type Setting struct {
	// Name is the setting's name: the flag of "allot serve" without its
	// dashes ("db", "auth-strategy", "keystone-password").
	Name string
	// Value is in the flag's syntax: booleans "true" or "false",
	// durations such as "300s", lists comma-separated. Values of the
	// [allot] section are passed on as written.
	Value string
	// File, Line, Section and Key say where the value was read. Line is 0
	// for a value implied by the file as a whole (Placement's defaults).
	File    string
	Line    int
	Section string
	Key     string
}

// Errorf returns a Problem located at the setting's line.
func (s Setting) Errorf(format string, args ...any) *Problem {
	return &Problem{File: s.File, Line: s.Line, Section: s.Section, Key: s.Key, Reason: fmt.Sprintf(format, args...)}
}

// Options tell Load about allot's own settings.
type Options struct {
	// Settings are the names of the settings the [allot] section may set
	// (the flags of "allot serve" and its flag-less settings). A key of
	// [allot] that names none of them is reported as a warning.
	Settings []string
}

// File is what a configuration file sets.
type File struct {
	Path string
	// Settings the file sets, at most one per name, sorted by line.
	Settings []Setting
	// Warnings report unknown sections and keys, keys allot accepts but
	// ignores, and deprecated spellings.
	Warnings []*Problem
}

// Lookup returns the setting of that name, if the file sets it.
func (f *File) Lookup(name string) (Setting, bool) {
	for _, s := range f.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Load reads and maps the file at path.
func Load(path string, opts Options) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Problem{File: path, Reason: fmt.Sprintf("cannot read the configuration file: %v", unwrapPath(err))}
	}
	return Parse(path, data, opts)
}

// unwrapPath drops the path from an *os.PathError, which Problem already
// names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Parse maps a file's contents; path names it in messages and is the base
// of the relative paths it contains (the policy file and directories).
func Parse(path string, data []byte, opts Options) (*File, error) {
	heads, assigns, p := scan(data)
	if p != nil {
		p.File = path
		return nil, p
	}
	inif, err := ini.LoadSources(ini.LoadOptions{
		IgnoreInlineComment:        true, // oslo.config has none
		AllowPythonMultilineValues: true,
		IgnoreContinuation:         true, // no backslash continuations
		PreserveSurroundedQuote:    true, // stripped below, as oslo.config does
		AllowShadows:               true, // the last assignment wins
		AllowDuplicateShadowValues: true,
		PreserveEmptyShadowValues:  true,
		KeyValueDelimiters:         "=:",
		ReaderBufferSize:           len(data) + 64, // multi-line values are peeked in one buffer
	}, data)
	if err != nil {
		return nil, &Problem{File: path, Reason: fmt.Sprintf("syntax error: %v", err)}
	}
	r := &reader{path: path, dir: filepath.Dir(path), ini: inif, allot: map[string]bool{}, seen: map[string]int{}}
	for _, s := range opts.Settings {
		r.allot[s] = true
	}
	if err := r.read(heads, assigns); err != nil {
		return nil, err
	}
	f := &File{Path: path, Warnings: r.warnings}
	for _, s := range r.settings {
		f.Settings = append(f.Settings, s)
	}
	sort.SliceStable(f.Settings, func(i, j int) bool {
		if f.Settings[i].Line != f.Settings[j].Line {
			return f.Settings[i].Line < f.Settings[j].Line
		}
		return f.Settings[i].Name < f.Settings[j].Name
	})
	sort.SliceStable(f.Warnings, func(i, j int) bool { return f.Warnings[i].Line < f.Warnings[j].Line })
	return f, nil
}

// normalizeSection is oslo.config's group name normalisation: section
// names are case-insensitive, except DEFAULT.
func normalizeSection(name string) string {
	if name == "DEFAULT" {
		return name
	}
	return strings.ToLower(name)
}

// value is one assignment of a known key, its value as oslo.config would
// see it.
type value struct {
	section string // normalised
	key     string
	line    int
	text    string
}

// reader maps one file.
type reader struct {
	path, dir string
	ini       *ini.File
	allot     map[string]bool
	seen      map[string]int // raw section + "\x00" + key: assignments read so far
	values    map[string][]value
	settings  map[string]Setting
	warnings  []*Problem
}

func (r *reader) warnf(line int, section, key, format string, args ...any) {
	r.warnings = append(r.warnings, &Problem{File: r.path, Line: line, Section: section, Key: key, Reason: fmt.Sprintf(format, args...)})
}

func (r *reader) errorf(v value, format string, args ...any) *Problem {
	return &Problem{File: r.path, Line: v.line, Section: v.section, Key: v.key, Reason: fmt.Sprintf(format, args...)}
}

// rawValue returns the value of the n-th assignment of key in the raw
// section, as ini.v1 read it, made into what oslo.config reads: the
// first line trimmed and stripped of one pair of matching quotes, each
// continuation line trimmed, joined by newlines.
func (r *reader) rawValue(a assign) (string, bool) {
	sec, err := r.ini.GetSection(a.section)
	if err != nil || !sec.HasKey(a.key) {
		return "", false
	}
	id := a.section + "\x00" + a.key
	n := r.seen[id]
	r.seen[id] = n + 1
	all := sec.Key(a.key).ValueWithShadows()
	if n >= len(all) {
		return "", false
	}
	lines := strings.Split(all[n], "\n")
	first := strings.TrimSpace(lines[0])
	if len(first) > 0 && (first[0] == '"' || first[0] == '\'') && first[len(first)-1] == first[0] {
		first = first[1:max(1, len(first)-1)] // a lone quote is an empty value, as in Python
	}
	lines[0] = first
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.TrimSpace(lines[i])
	}
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n"), true
}

func (r *reader) read(heads []head, assigns []assign) error {
	r.values = map[string][]value{}
	r.settings = map[string]Setting{}
	warned := map[string]bool{}
	for _, h := range heads {
		sec := normalizeSection(h.name)
		if warned[sec] || knownSection(sec) {
			continue
		}
		warned[sec] = true
		hint := "allot ignores it"
		switch {
		case sec == "default":
			hint = "allot ignores it (did you mean [DEFAULT]? only that spelling is the default section)"
		case strings.HasPrefix(sec, "cors."):
			hint = "allot ignores it (oslo.middleware's per-origin [cors.*] sections are deprecated and unsupported: list every origin in [cors] allowed_origin)"
		}
		r.warnf(h.line, h.name, "", "unknown section: %s", hint)
	}
	for _, a := range assigns {
		sec := normalizeSection(a.section)
		if !knownSection(sec) {
			continue // reported once above
		}
		if sec == allotSection {
			if err := r.readAllot(a); err != nil {
				return err
			}
			continue
		}
		k := lookupKey(sec, a.key)
		if k == nil {
			r.warnf(a.line, sec, a.key, "unknown key: allot ignores it%s", suggest(sec, a.key))
			continue
		}
		text, ok := r.rawValue(a)
		if !ok {
			return &Problem{File: r.path, Line: a.line, Section: sec, Key: a.key, Reason: "the value cannot be read (an INI construct that allot's reader and oslo.config's read differently)"}
		}
		name := k.section + "." + k.name
		r.values[name] = append(r.values[name], value{section: sec, key: a.key, line: a.line, text: text})
	}
	return r.apply()
}

// readAllot takes a key of the [allot] section: a setting by its flag
// name with "_" for "-".
func (r *reader) readAllot(a assign) error {
	name := strings.ReplaceAll(a.key, "_", "-")
	if !r.allot[name] || strings.Contains(a.key, "-") {
		hint := ""
		if r.allot[name] {
			hint = fmt.Sprintf(" (write %s, with _ for -)", strings.ReplaceAll(a.key, "-", "_"))
		}
		r.warnf(a.line, allotSection, a.key, "unknown key: allot serve has no such setting%s", hint)
		return nil
	}
	text, ok := r.rawValue(a)
	if !ok {
		return &Problem{File: r.path, Line: a.line, Section: allotSection, Key: a.key, Reason: "the value cannot be read (an INI construct that allot's reader and oslo.config's read differently)"}
	}
	v := value{section: allotSection, key: a.key, line: a.line, text: text}
	text, err := expand(text)
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	r.settings[name] = Setting{Name: name, Value: text, File: r.path, Line: a.line, Section: allotSection, Key: a.key}
	return nil
}

// set records a setting read from an oslo section. A setting that the
// [allot] section also sets keeps the [allot] value.
func (r *reader) set(name, val string, v value) {
	if prev, ok := r.settings[name]; ok && prev.Section == allotSection {
		if v.line > 0 {
			r.warnf(v.line, v.section, v.key, "overridden by [allot] %s on line %d", prev.Key, prev.Line)
		}
		return
	}
	r.settings[name] = Setting{Name: name, Value: val, File: r.path, Line: v.line, Section: v.section, Key: v.key}
}

// apply maps the values read onto settings, key by key in the table's
// order, so that a key may look at another (a deprecated alias, a default
// domain).
func (r *reader) apply() error {
	for i := range keys {
		k := &keys[i]
		id := k.section + "." + k.name
		vals := r.values[id]
		for _, alias := range k.aliases {
			old := r.values[alias]
			if len(old) == 0 {
				continue
			}
			sec, key, _ := strings.Cut(alias, ".")
			if len(vals) > 0 {
				r.warnf(old[len(old)-1].line, sec, key, "deprecated name of [%s] %s, which is also set and wins", k.section, k.name)
				continue
			}
			r.warnf(old[len(old)-1].line, sec, key, "deprecated: write [%s] %s", k.section, k.name)
			vals = old
		}
		if len(vals) == 0 {
			if k.absent != nil {
				if err := k.absent(r); err != nil {
					return err
				}
			}
			continue
		}
		if k.kind == kindMulti {
			if err := k.use(r, k, vals); err != nil {
				return err
			}
			continue
		}
		last := vals[len(vals)-1]
		if err := k.check(last); err != nil {
			return r.errorf(last, "%v", err)
		}
		if k.use != nil {
			if err := k.use(r, k, []value{last}); err != nil {
				return err
			}
		}
	}
	return nil
}
