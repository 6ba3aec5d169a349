package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Canonical returns a text of everything a search can observe in the
// index, with the derived lookups brought up to date first: the catalogs,
// every provider (its tree pointers, inventories with usage, traits,
// aggregates, its position in the id order, for roots the class masks)
// and every derived lookup (roots, sharing providers and their anchors,
// providers per class, trait and aggregate). Interned ids are written as
// the names they stand for, so two engines that reached the same state by
// different paths (one caught up change by change, one loaded from
// scratch) give the same text; summary versions, which are new after every
// change by design, are left out, and the order of a summary's trait
// names is not compared. Tests compare it; it is not for serving.
func (e *Engine) Canonical() string {
	e.rlockPrepared()
	defer e.mu.RUnlock()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ids := func(ps []*provider) []int64 {
		out := make([]int64, len(ps))
		for i, p := range ps {
			out[i] = p.ID
		}
		return out
	}
	idOf := func(p *provider) int64 {
		if p == nil {
			return -1
		}
		return p.ID
	}
	// mask lists the classes whose bit is set (classes interned at 63 or
	// later share the last bit, see classBit).
	mask := func(m uint64) []string {
		var out []string
		for id, name := range e.classNames {
			if m&classBit(classID(id)) != 0 {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	w("classes %v\n", slices.Sorted(maps.Keys(e.knownClass)))
	w("traits %v\n", slices.Sorted(maps.Keys(e.knownTrait)))
	w("providers %d parents %d dirty %v\n", len(e.byID), e.nParents, e.dirty)
	for i, p := range e.ordered {
		if e.byID[p.ID] != p || e.byUUID[p.UUID] != p {
			w("provider %d not the one indexed by id and uuid\n", p.ID)
		}
		w("p %d %s %q gen %d parent %d/%d root %d/%d idx %d/%d kids %v children %v\n",
			p.ID, p.UUID, p.Name, p.Generation, p.ParentID, idOf(p.parent), p.RootID, idOf(p.root),
			p.idx, i, ids(p.kids), e.children[p.ID])
		for _, in := range p.invs {
			w("  inv %s %+v\n", e.classNames[in.class], in.Inventory)
		}
		w("  summary %+v\n", p.summaryResources)
		traits := make([]string, len(p.traits))
		for i, t := range p.traits {
			traits[i] = e.traitNames[t]
		}
		slices.Sort(traits)
		// The summary's trait names as a set: their order follows intern
		// order (index.go, upsert).
		w("  traits %v names %v\n", traits, slices.Sorted(slices.Values(p.traitNames)))
		aggs := make([]string, len(p.aggs))
		for i, a := range p.aggs {
			aggs[i] = e.aggUUIDs[a]
		}
		slices.Sort(aggs)
		w("  aggs %v\n", aggs)
		if p.ParentID == 0 {
			w("  tree classes %v shared %v\n", mask(p.treeClasses), mask(p.sharedClasses))
		}
	}
	w("roots %v\nsharing %v\n", ids(e.roots), ids(e.sharing))
	for _, sp := range e.sharing {
		w("anchors %d %v\n", sp.ID, ids(e.sharingAnchors[sp]))
	}
	for _, r := range e.roots {
		if sw := e.sharedWith[r]; len(sw) > 0 {
			w("shared with %d %v\n", r.ID, ids(sw))
		}
	}
	lookup := func(kind string, names []string, m map[int32][]*provider) {
		keys := slices.Collect(maps.Keys(m))
		slices.SortFunc(keys, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
		for _, k := range keys {
			if len(m[k]) > 0 {
				w("%s %s %v\n", kind, names[k], ids(m[k]))
			}
		}
	}
	lookup("class", e.classNames, convertKeys(e.byClass))
	lookup("trait", e.traitNames, convertKeys(e.byTrait))
	lookup("aggregate", e.aggUUIDs, convertKeys(e.aggMembers))
	return b.String()
}

// convertKeys re-keys a lookup by its ids' underlying int32.
func convertKeys[ID ~int32](m map[ID][]*provider) map[int32][]*provider {
	out := make(map[int32][]*provider, len(m))
	for k, v := range m {
		out[int32(k)] = v
	}
	return out
}
