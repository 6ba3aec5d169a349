package importer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"allot/internal/client"
)

// Difference is one way the target differs from the source.
type Difference struct {
	// Object names what differs: "resource provider UUID (NAME)",
	// "consumer UUID", "resource class NAME", "trait NAME".
	Object string
	// Field is the part of it that differs: "exists", "name", "parent",
	// "inventory VCPU total", "usage VCPU", "trait NAME", "aggregate UUID",
	// "allocation PROVIDER VCPU", "project", "user", "consumer type".
	Field string
	// Source and Target are the two values; absent is "-".
	Source, Target string
}

// String shows the difference on one line.
func (d Difference) String() string {
	return fmt.Sprintf("%s: %s: source %s, target %s", d.Object, d.Field, d.Source, d.Target)
}

// absent shows a missing value.
const absent = "-"

// Compare lists every difference between two snapshots: custom resource
// classes and traits, providers (name, parent, every inventory field,
// usages, traits, aggregates) and consumers (project, user, consumer type,
// every allocation), in a stable order. Generations are not compared:
// they count writes, which differ by design. Consumer types are compared
// when both snapshots were read at microversion 1.38 or later.
func Compare(from, to *Snapshot) []Difference {
	var out []Difference
	add := func(object, field, s, t string) {
		out = append(out, Difference{Object: object, Field: field, Source: s, Target: t})
	}
	presence := func(kind string, a, b []string) {
		for _, n := range union(a, b) {
			if s, t := slices.Contains(a, n), slices.Contains(b, n); s != t {
				add(kind+" "+n, "exists", yesNo(s), yesNo(t))
			}
		}
	}
	presence("resource class", from.Classes, to.Classes)
	presence("trait", from.Traits, to.Traits)

	for _, uuid := range union(slices.Collect(maps.Keys(from.Providers)), slices.Collect(maps.Keys(to.Providers))) {
		s, t := from.Providers[uuid], to.Providers[uuid]
		switch {
		case s == nil:
			add(providerObject(t), "exists", "no", "yes")
			continue
		case t == nil:
			add(providerObject(s), "exists", "yes", "no")
			continue
		}
		object := providerObject(s)
		if s.Name != t.Name {
			add(object, "name", s.Name, t.Name)
		}
		if s.Parent != t.Parent {
			add(object, "parent", orAbsent(s.Parent), orAbsent(t.Parent))
		}
		for _, rc := range union(slices.Collect(maps.Keys(s.Inventories)), slices.Collect(maps.Keys(t.Inventories))) {
			si, sok := s.Inventories[rc]
			ti, tok := t.Inventories[rc]
			if !sok || !tok {
				add(object, "inventory "+rc, inventoryString(si, sok), inventoryString(ti, tok))
				continue
			}
			for _, f := range inventoryFields {
				if a, b := f.value(si), f.value(ti); a != b {
					add(object, "inventory "+rc+" "+f.name, a, b)
				}
			}
		}
		for _, rc := range union(slices.Collect(maps.Keys(s.Usages)), slices.Collect(maps.Keys(t.Usages))) {
			a, aok := s.Usages[rc]
			b, bok := t.Usages[rc]
			if a != b || aok != bok {
				add(object, "usage "+rc, intOrAbsent(a, aok), intOrAbsent(b, bok))
			}
		}
		for _, n := range union(s.Traits, t.Traits) {
			if a, b := slices.Contains(s.Traits, n), slices.Contains(t.Traits, n); a != b {
				add(object, "trait "+n, yesNo(a), yesNo(b))
			}
		}
		for _, n := range union(s.Aggregates, t.Aggregates) {
			if a, b := slices.Contains(s.Aggregates, n), slices.Contains(t.Aggregates, n); a != b {
				add(object, "aggregate "+n, yesNo(a), yesNo(b))
			}
		}
	}

	types := from.Version.AtLeast(typeVersion) && to.Version.AtLeast(typeVersion)
	for _, uuid := range union(slices.Collect(maps.Keys(from.Consumers)), slices.Collect(maps.Keys(to.Consumers))) {
		s, t := from.Consumers[uuid], to.Consumers[uuid]
		object := "consumer " + uuid
		switch {
		case s == nil:
			add(object, "exists", "no", "yes")
			continue
		case t == nil:
			add(object, "exists", "yes", "no")
			continue
		}
		if s.ProjectID != t.ProjectID {
			add(object, "project", s.ProjectID, t.ProjectID)
		}
		if s.UserID != t.UserID {
			add(object, "user", s.UserID, t.UserID)
		}
		if types && s.Type != t.Type {
			add(object, "consumer type", s.Type, t.Type)
		}
		for _, rp := range union(slices.Collect(maps.Keys(s.Allocations)), slices.Collect(maps.Keys(t.Allocations))) {
			sa, ta := s.Allocations[rp], t.Allocations[rp]
			for _, rc := range union(slices.Collect(maps.Keys(sa)), slices.Collect(maps.Keys(ta))) {
				a, aok := sa[rc]
				b, bok := ta[rc]
				if a != b || aok != bok {
					add(object, "allocation "+rp+" "+rc, intOrAbsent(a, aok), intOrAbsent(b, bok))
				}
			}
		}
	}
	return out
}

// inventoryFields are the compared fields of an inventory, in the API's
// order.
var inventoryFields = []struct {
	name  string
	value func(client.Inventory) string
}{
	{"total", func(i client.Inventory) string { return strconv.FormatInt(i.Total, 10) }},
	{"reserved", func(i client.Inventory) string { return strconv.FormatInt(i.Reserved, 10) }},
	{"min_unit", func(i client.Inventory) string { return strconv.FormatInt(i.MinUnit, 10) }},
	{"max_unit", func(i client.Inventory) string { return strconv.FormatInt(i.MaxUnit, 10) }},
	{"step_size", func(i client.Inventory) string { return strconv.FormatInt(i.StepSize, 10) }},
	{"allocation_ratio", func(i client.Inventory) string { return strconv.FormatFloat(i.AllocationRatio, 'g', -1, 64) }},
}

// inventoryString shows a whole inventory, or absent.
func inventoryString(inv client.Inventory, ok bool) string {
	if !ok {
		return absent
	}
	parts := make([]string, len(inventoryFields))
	for i, f := range inventoryFields {
		parts[i] = f.name + "=" + f.value(inv)
	}
	return strings.Join(parts, ",")
}

func providerObject(p *Provider) string {
	return fmt.Sprintf("resource provider %s (%s)", p.UUID, p.Name)
}

// union returns the sorted distinct strings of a and b.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orAbsent(s string) string {
	if s == "" {
		return absent
	}
	return s
}

func intOrAbsent(n int64, ok bool) string {
	if !ok {
		return absent
	}
	return strconv.FormatInt(n, 10)
}

// Verify reads both services and compares them (see Compare).
func Verify(ctx context.Context, src, dst *Service, workers int, progress ProgressFunc) ([]Difference, error) {
	from, err := Read(ctx, src, "source", workers, progress)
	if err != nil {
		return nil, err
	}
	to, err := Read(ctx, dst, "target", workers, progress)
	if err != nil {
		return nil, err
	}
	return Compare(from, to), nil
}
