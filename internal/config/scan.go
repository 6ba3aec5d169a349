package config

import (
	"bytes"
	"strings"
	"unicode"
)

// head is a section header line.
type head struct {
	name string // as written between the brackets
	line int
}

// assign is one "key = value" line (its value's continuation lines follow
// it).
type assign struct {
	section string // the raw name of the section it is in
	key     string
	line    int
}

// scan walks the file's lines the way oslo.config's iniparser does, to
// record where each section and key is (ini.v1 keeps no line numbers) and
// to refuse what oslo.config refuses, with the line: an indented line that
// continues nothing, a section header not ending in "]", an empty section
// name, a line that is neither a header nor a comment nor "key = value" or
// "key: value", an empty key, and a key before the first section. It also
// refuses the few things oslo.config reads literally but ini.v1 reads as
// quoting (a value or key starting with a backquote or triple quotes, a
// key starting with a quote), which would otherwise be read differently
// from Placement without a word.
func scan(data []byte) ([]head, []assign, *Problem) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var heads []head
	var assigns []assign
	section := ""
	inKey := false // the previous line was a key or continued one
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimRightFunc(raw, unicode.IsSpace)
		switch {
		case line == "":
			inKey = false // a blank line ends a multi-line value
			continue
		case line[0] == ' ' || line[0] == '\t':
			if !inKey {
				return nil, nil, &Problem{Line: n, Reason: "unexpected continuation line (an indented line continues the value of the key above it, and there is none)"}
			}
			continue
		}
		inKey = false
		switch {
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, nil, &Problem{Line: n, Reason: "invalid section header (it must end with ])"}
			}
			if len(line) <= 2 {
				return nil, nil, &Problem{Line: n, Reason: "empty section name"}
			}
			section = line[1 : len(line)-1]
			heads = append(heads, head{name: section, line: n})
		case line[0] == '#' || line[0] == ';':
		default:
			i := strings.IndexAny(line, "=:")
			if i < 0 {
				return nil, nil, &Problem{Line: n, Reason: "no '=' or ':' found in assignment"}
			}
			key, value := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
			if key == "" {
				return nil, nil, &Problem{Line: n, Reason: "empty key"}
			}
			if section == "" {
				return nil, nil, &Problem{Line: n, Key: key, Reason: "a key before the first [section] header (oslo.config refuses it; put it under [DEFAULT])"}
			}
			if strings.ContainsAny(key[:1], "\"'`") {
				return nil, nil, &Problem{Line: n, Section: section, Key: key, Reason: "a key cannot start with a quote"}
			}
			if strings.HasPrefix(value, "`") || strings.HasPrefix(value, `"""`) {
				return nil, nil, &Problem{Line: n, Section: section, Key: key, Reason: "a value starting with ` or \"\"\" is not supported (INI readers differ on it): quote it with \" or ', or drop the quotes"}
			}
			assigns = append(assigns, assign{section: section, key: key, line: n})
			inKey = true
		}
	}
	return heads, assigns, nil
}
