package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileRule is a rule of the policy file.
type fileRule struct {
	name  string
	line  int
	check *node
}

// loadFile reads and parses a policy file: a mapping of rule names to
// check strings (or to the legacy list of lists), in JSON or YAML. Like
// oslo.policy it tries JSON first (and says so, JSON being deprecated),
// then YAML. Unlike oslo.policy, a rule whose value is not a string or a
// list (YAML's null, which oslo.policy takes for "@", included), a
// duplicate rule name and a malformed rule are errors.
func loadFile(path string) ([]fileRule, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("reading the policy file: %w", err)
	}
	if json.Valid(data) {
		rules, err := loadJSON(path, data)
		return rules, true, err
	}
	rules, err := loadYAML(path, data)
	return rules, false, err
}

// loadJSON parses a JSON policy file, keeping each rule's line.
func loadJSON(path string, data []byte) ([]fileRule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	first, err := dec.Token()
	if err != nil {
		return nil, &LoadError{File: path, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if first == nil {
		return nil, nil // null: no rules
	}
	if d, ok := first.(json.Delim); !ok || d != '{' {
		return nil, &LoadError{File: path, Line: 1, Err: errors.New("the policy file must be a mapping of rule names to check strings")}
	}
	var rules []fileRule
	lines := map[string]int{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, &LoadError{File: path, Err: fmt.Errorf("invalid JSON: %w", err)}
		}
		name := k.(string) // object keys are strings
		line := 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n"))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, &LoadError{File: path, Line: line, Rule: name, Err: fmt.Errorf("invalid JSON: %w", err)}
		}
		fr, err := newFileRule(path, name, line, v, lines)
		if err != nil {
			return nil, err
		}
		rules = append(rules, fr)
	}
	return rules, nil
}

// loadYAML parses a YAML policy file, keeping each rule's line.
func loadYAML(path string, data []byte) ([]fileRule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty: no rules
		}
		return nil, yamlError(path, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(path, err)
		}
		return nil, &LoadError{File: path, Line: next.Line, Err: errors.New("the policy file has more than one YAML document")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = deref(root)
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil // only comments, or null
	}
	if root.Kind != yaml.MappingNode {
		return nil, &LoadError{File: path, Line: root.Line, Err: errors.New("the policy file must be a mapping of rule names to check strings")}
	}
	var rules []fileRule
	lines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			if k.ShortTag() == "!!merge" {
				return nil, &LoadError{File: path, Line: k.Line, Err: errors.New("YAML merge keys (<<) are not supported")}
			}
			return nil, &LoadError{File: path, Line: k.Line, Err: fmt.Errorf("a rule name must be a string, not %s", nodeType(k))}
		}
		val, err := nodeValue(v)
		if err != nil {
			return nil, &LoadError{File: path, Line: v.Line, Rule: k.Value, Err: err}
		}
		fr, err := newFileRule(path, k.Value, k.Line, val, lines)
		if err != nil {
			return nil, err
		}
		rules = append(rules, fr)
	}
	return rules, nil
}

// newFileRule parses a rule's value (a check string or the legacy list
// of lists), refusing a name already seen.
func newFileRule(path, name string, line int, v any, lines map[string]int) (fileRule, error) {
	fail := func(err error) (fileRule, error) {
		return fileRule{}, &LoadError{File: path, Line: line, Rule: name, Err: err}
	}
	if prev, dup := lines[name]; dup {
		return fail(fmt.Errorf("defined twice (first at line %d)", prev))
	}
	lines[name] = line
	var n *node
	var err error
	switch v := v.(type) {
	case string:
		n, err = parseText(v)
	case []any:
		n, err = parseList(v)
	case nil:
		err = errors.New(`the rule has no value (oslo.policy would allow everyone): write "" or "@" to allow everyone, "!" to allow no one`)
	default:
		err = fmt.Errorf("the check must be a string, not %s: quote it", pyTypeName(v))
	}
	if err != nil {
		return fail(err)
	}
	return fileRule{name: name, line: line, check: n}, nil
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// nodeValue converts a rule's YAML value for newFileRule: strings, lists
// and null as themselves, other scalars as placeholders of their type.
func nodeValue(n *yaml.Node) (any, error) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool":
			return false, nil
		case "!!int", "!!float":
			return 0.0, nil
		}
		if n.Tag == "!" { // the non-specific tag: a string
			return n.Value, nil
		}
		return nil, fmt.Errorf("the check must be a string, not %s: quote it", nodeType(n))
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		return map[string]any{}, nil
	}
	return nil, fmt.Errorf("the check must be a string, not %s", nodeType(n))
}

// nodeType names a YAML node's type for an error message.
func nodeType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a value of type " + n.ShortTag()
}

// yamlParserProblems are the errors of yaml.v3's parser (as opposed to
// its scanner), which it reports with a 0-based line: that of the
// construct it was parsing (an unclosed "[" for instance), or of the
// problem.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError turns yaml.v3's "yaml: line N: reason" into a LoadError
// with the file and (1-based) line.
func yamlError(path string, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if num, reason, ok := strings.Cut(rest, ": "); ok {
			if line, convErr := strconv.Atoi(num); convErr == nil {
				if yamlParserProblems[reason] {
					line++
				}
				return &LoadError{File: path, Line: line, Err: fmt.Errorf("invalid YAML: %s", reason)}
			}
		}
	}
	return &LoadError{File: path, Err: fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))}
}
