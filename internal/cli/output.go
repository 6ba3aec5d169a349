package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"gopkg.in/yaml.v3"
)

// Output formats of the client commands (-f), as in the OpenStack client.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatValue = "value"
	formatCSV   = "csv"
)

var formats = []string{formatTable, formatJSON, formatYAML, formatValue, formatCSV}

// outputOptions are the global output flags.
type outputOptions struct {
	format   string
	columns  []string
	fitWidth bool
	maxWidth int
	// width returns the terminal's width (0 when unknown); set by the
	// caller so that tests can fix it.
	width func(w io.Writer) int
}

// validate checks the options before a command runs.
func (o *outputOptions) validate() error {
	for _, f := range formats {
		if o.format == f {
			return nil
		}
	}
	return usageError{fmt.Errorf("-f %q: use one of %s", o.format, strings.Join(formats, ", "))}
}

// view is what a client command prints: one or more tables of rows, or one
// record (show). The first table is the main one: -c picks its columns and
// the value and csv formats print only it.
type view struct {
	// record prints tables[0]'s single row as a field/value list (table
	// format) or one object (json, yaml).
	record bool
	tables []grid
	// raw, when set, is the API document -f json and -f yaml print instead
	// of the rows (unless -c picks columns).
	raw any
}

// grid is a list of rows under named columns.
type grid struct {
	title   string
	columns []string
	rows    [][]any
}

// listView is a view of one table.
func listView(columns []string, rows [][]any) *view {
	return &view{tables: []grid{{columns: columns, rows: rows}}}
}

// recordView is a view of one record; fields and values pair up.
func recordView(fields []string, values []any) *view {
	return &view{record: true, tables: []grid{{columns: fields, rows: [][]any{values}}}}
}

// lines is a cell of several lines: one per line in a table, "; "-joined
// in the value and csv formats, a list in json and yaml.
type lines []string

// render writes v to w in the chosen format.
func (o *outputOptions) render(w io.Writer, v *view) error {
	if v == nil {
		return nil
	}
	if len(o.columns) > 0 {
		if err := v.selectColumns(o.columns); err != nil {
			return err
		}
	}
	switch o.format {
	case formatJSON:
		return writeJSON(w, o.structured(v))
	case formatYAML:
		return writeYAML(w, o.structured(v))
	case formatValue:
		return writeValue(w, v)
	case formatCSV:
		return writeCSV(w, v)
	default:
		return o.writeTables(w, v)
	}
}

// selectColumns keeps the named columns of the main table, in the order
// given (-c).
func (v *view) selectColumns(names []string) error {
	g := &v.tables[0]
	index := map[string]int{}
	for i, c := range g.columns {
		index[c] = i
	}
	var picks []int
	for _, n := range names {
		i, ok := index[n]
		if !ok {
			return usageError{fmt.Errorf("-c %q: no such column; the columns are %s", n, quoteList(g.columns))}
		}
		picks = append(picks, i)
	}
	cols := make([]string, len(picks))
	for j, i := range picks {
		cols[j] = g.columns[i]
	}
	rows := make([][]any, len(g.rows))
	for r, row := range g.rows {
		rows[r] = make([]any, len(picks))
		for j, i := range picks {
			rows[r][j] = row[i]
		}
	}
	g.columns, g.rows = cols, rows
	v.tables = v.tables[:1]
	v.raw = nil
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// structured returns the json/yaml form of v: the raw document, a list of
// ordered objects, or one ordered object.
func (o *outputOptions) structured(v *view) any {
	if v.raw != nil {
		return v.raw
	}
	g := v.tables[0]
	if v.record {
		if len(g.rows) == 0 {
			return orderedMap{}
		}
		return newOrderedMap(g.columns, g.rows[0])
	}
	list := make([]any, len(g.rows))
	for i, row := range g.rows {
		list[i] = newOrderedMap(g.columns, row)
	}
	return list
}

// orderedMap is a JSON/YAML object whose keys keep their column order.
type orderedMap struct {
	keys   []string
	values []any
}

func newOrderedMap(keys []string, values []any) orderedMap {
	return orderedMap{keys: keys, values: values}
}

// MarshalJSON writes the object with its keys in order.
func (m orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(jsonValue(m.values[i]))
		if err != nil {
			return nil, fmt.Errorf("encode column %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue turns a cell into its JSON value.
func jsonValue(v any) any {
	switch x := v.(type) {
	case lines:
		return []string(x)
	case []string:
		if x == nil {
			return []string{}
		}
	case float64:
		// As the API writes them: 1.0, not 1.
		return json.Number(formatFloat(x))
	}
	return v
}

func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the output as JSON: %w", err)
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

func writeYAML(w io.Writer, v any) error {
	node, err := yamlNode(v)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return fmt.Errorf("encode the output as YAML: %w", err)
	}
	return enc.Close()
}

// yamlNode converts a value (orderedMap, decoded JSON, cells) to a YAML node
// tree, keeping orderedMap key order and sorting plain maps.
func yamlNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case orderedMap:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i, k := range x.keys {
			child, err := yamlNode(jsonValue(x.values[i]))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, child)
		}
		return n, nil
	case json.Number:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: numberTag(x), Value: x.String()}, nil
	case map[string]any:
		keys := sortedKeys(x)
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			child, err := yamlNode(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, child)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, item := range x {
			child, err := yamlNode(item)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		return n, nil
	}
	if m, ok := v.(json.Marshaler); ok {
		data, err := m.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encode the output as YAML: %w", err)
		}
		doc, err := decodeDocument(data)
		if err != nil {
			return nil, err
		}
		return yamlNode(doc)
	}
	n := &yaml.Node{}
	if err := n.Encode(jsonValue(v)); err != nil {
		return nil, fmt.Errorf("encode the output as YAML: %w", err)
	}
	return n, nil
}

func numberTag(n json.Number) string {
	if _, err := n.Int64(); err == nil {
		return "!!int"
	}
	return "!!float"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeValue prints the main table's values, space-separated, one row a
// line, without headers (a record prints one value a line).
func writeValue(w io.Writer, v *view) error {
	g := v.tables[0]
	var b strings.Builder
	if v.record {
		if len(g.rows) > 0 {
			for _, cell := range g.rows[0] {
				b.WriteString(cellText(cell, true))
				b.WriteByte('\n')
			}
		}
	} else {
		for _, row := range g.rows {
			for i, cell := range row {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(cellText(cell, true))
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCSV prints the main table with a header line.
func writeCSV(w io.Writer, v *view) error {
	g := v.tables[0]
	cw := csv.NewWriter(w)
	if err := cw.Write(g.columns); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, row := range g.rows {
		rec := make([]string, len(row))
		for i, cell := range row {
			rec[i] = cellText(cell, true)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTables prints every table of v, a blank line between them.
func (o *outputOptions) writeTables(w io.Writer, v *view) error {
	limit := 0
	if o.maxWidth > 0 {
		limit = o.maxWidth
	} else if o.fitWidth {
		if o.width != nil {
			limit = o.width(w)
		}
		if limit <= 0 {
			limit = 80
		}
	}
	for i, g := range v.tables {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		record := v.record && i == 0
		if record {
			g = g.transpose()
		}
		if _, err := io.WriteString(w, g.render(limit, !record)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// transpose turns a one-row grid into Field/Value rows.
func (g grid) transpose() grid {
	out := grid{title: g.title, columns: []string{"Field", "Value"}}
	if len(g.rows) == 0 {
		return out
	}
	for i, c := range g.columns {
		out.rows = append(out.rows, []any{c, g.rows[0][i]})
	}
	return out
}

// render draws the grid as an ASCII table, wrapping columns so that the
// table fits in limit characters when limit > 0, and aligning columns of
// numbers to the right when alignNumbers.
func (g grid) render(limit int, alignNumbers bool) string {
	t := table.NewWriter()
	t.SetStyle(table.StyleDefault)
	t.Style().Format.Header = text.FormatDefault
	t.Style().Format.Footer = text.FormatDefault
	t.Style().Title.Align = text.AlignLeft
	if g.title != "" {
		t.SetTitle(g.title)
	}
	header := append([]string{}, g.columns...)
	widths := make([]int, len(g.columns))
	numeric := make([]bool, len(g.columns))
	for i, c := range g.columns {
		widths[i] = textWidth(c)
		numeric[i] = alignNumbers && len(g.rows) > 0
	}
	cells := make([][]string, len(g.rows))
	for r, row := range g.rows {
		cells[r] = make([]string, len(row))
		for i, cell := range row {
			s := cellText(cell, false)
			cells[r][i] = s
			if w := textWidth(s); w > widths[i] {
				widths[i] = w
			}
			if !isNumber(cell) && cell != nil {
				numeric[i] = false
			}
		}
	}
	if limit > 0 {
		for i, w := range fitWidths(widths, limit) {
			if w < widths[i] {
				header[i] = wrapLines(header[i], w)
				for r := range cells {
					cells[r][i] = wrapLines(cells[r][i], w)
				}
			}
		}
	}
	hrow := make(table.Row, len(header))
	for i, h := range header {
		hrow[i] = h
	}
	t.AppendHeader(hrow)
	multiline := false
	for _, row := range cells {
		r := make(table.Row, len(row))
		for i, s := range row {
			r[i] = s
			multiline = multiline || strings.Contains(s, "\n")
		}
		t.AppendRow(r)
	}
	configs := make([]table.ColumnConfig, len(g.columns))
	for i := range g.columns {
		configs[i] = table.ColumnConfig{Number: i + 1}
		if numeric[i] {
			configs[i].Align = text.AlignRight
		}
	}
	t.SetColumnConfigs(configs)
	// Rows of several lines get separators, so that each row reads as one.
	t.Style().Options.SeparateRows = multiline
	return t.Render()
}

// wrapLines wraps each line of s to width, at word boundaries when it can,
// keeping the line breaks s has.
func wrapLines(s string, width int) string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		if textWidth(l) > width {
			ls[i] = text.WrapSoft(l, width)
		}
	}
	return strings.Join(ls, "\n")
}

// fitWidths shrinks the widest columns until the table (borders and padding
// included: 3 characters a column plus one) fits in limit, keeping every
// column at least minColumn wide.
func fitWidths(widths []int, limit int) []int {
	const minColumn = 6
	out := append([]int(nil), widths...)
	total := func() int {
		n := 1
		for _, w := range out {
			n += w + 3
		}
		return n
	}
	for total() > limit {
		widest := -1
		for i, w := range out {
			if w > minColumn && (widest < 0 || w > out[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		out[widest]--
	}
	return out
}

// textWidth is the width of the widest line of s.
func textWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		if n := text.StringWidthWithoutEscSequences(l); n > w {
			w = n
		}
	}
	return w
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, float64, json.Number:
		return true
	}
	return false
}

// cellText formats a cell for a table (flat false: lists one item a line)
// or for the value and csv formats (flat true: lists comma-joined).
func cellText(v any, flat bool) string {
	if l, ok := v.(interface{ Lines() lines }); ok {
		v = l.Lines()
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatFloat(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case lines:
		if flat {
			return strings.Join(x, "; ")
		}
		return strings.Join(x, "\n")
	case []string:
		if flat {
			return strings.Join(x, ",")
		}
		return strings.Join(x, "\n")
	case map[string]int64:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+"="+strconv.FormatInt(x[k], 10))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+"="+cellText(x[k], true))
		}
		return strings.Join(parts, ", ")
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// formatFloat prints a float the way the API's JSON shows it (16.0, 1.5).
func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// decodeDocument reads a JSON document keeping numbers exact, for the raw
// json and yaml output.
func decodeDocument(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode the server's answer: %w", err)
	}
	return v, nil
}

// jsonMarshal encodes v as JSON (cells use it to show API objects).
func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
