package engine

import (
	"strconv"
	"strings"
)

func consolidate(combo []*partial) []palloc { return consolidateInto(nil, combo) }

// consolidateInto sums a combination's amounts per (provider, class) into
// out, sorted by provider id then class.
func consolidateInto(out []palloc, combo []*partial) []palloc {
	for _, pt := range combo {
		for _, a := range pt.allocs {
			merged := false
			for i := range out {
				if out[i].in == a.in {
					out[i].amount += a.amount
					merged = true
					break
				}
			}
			if !merged {
				out = append(out, a)
			}
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && pallocLess(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// comboKey identifies a candidate by its consolidated amounts and mappings
// (two combinations under different anchors may be the same candidate).
func comboKey(combo []*partial) string {
	var b strings.Builder
	for _, a := range consolidate(combo) {
		b.WriteString(strconv.FormatInt(a.p.ID, 36))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(int(a.in.class)))
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(a.amount, 36))
		b.WriteByte(';')
	}
	b.WriteByte('|')
	for _, pt := range combo {
		for _, p := range pt.provs {
			b.WriteString(strconv.FormatInt(p.ID, 36))
			b.WriteByte(',')
		}
		b.WriteByte('/')
	}
	return b.String()
}

// render turns the chosen combinations into requests and summaries. Slices
// are carved from a few large slabs: a response can hold tens of thousands
// of requests.
func (s *search) render(res *Result, combos [][]*partial) {
	e := s.e
	s.newPass(len(e.ordered))
	roots := s.renderRoots[:0]
	oldStyle := !s.q.NestedAware && s.hasTrees
	var used map[*provider]bool
	if oldStyle {
		used = map[*provider]bool{}
	}
	ar := arenaPool.Get().(*resultArena)
	res.arena = ar
	res.Requests = sized(&ar.requests, len(combos))
	scratch := s.consolidated[:0]
	amounts, pas, maps, uuids := &ar.amounts, &ar.pas, &ar.maps, &ar.uuids
	for ci, combo := range combos {
		scratch = consolidateInto(scratch[:0], combo)
		req := &res.Requests[ci]
		// Allocations grouped per provider.
		nprov := 0
		for i := range scratch {
			if i == 0 || scratch[i].p != scratch[i-1].p {
				nprov++
			}
		}
		req.Allocations = pas.take(nprov)
		amt := amounts.take(len(scratch))
		k := 0
		for i := 0; i < len(scratch); {
			p := scratch[i].p
			a0 := i
			for ; i < len(scratch) && scratch[i].p == p; i++ {
				amt[i] = ClassAmount{Class: e.classNames[scratch[i].in.class], Amount: scratch[i].amount}
			}
			req.Allocations[k] = ProviderAmounts{UUID: p.UUID, Amounts: amt[a0:i:i]}
			k++
			if !s.see(p.root) {
				roots = append(roots, p.root)
			}
			if oldStyle {
				used[p] = true
			}
		}
		// Mappings: one entry per suffix, in request order.
		req.Mappings = maps.take(len(combo))
		for gi, pt := range combo {
			u := uuids.take(len(pt.provs))
			for j, p := range pt.provs {
				u[j] = p.UUID
			}
			req.Mappings[gi] = Mapping{Suffix: s.groups[gi].suffix, Providers: u}
		}
	}
	// Provider summaries: every provider of every tree that supplies a
	// resource (before 1.29 with trees: only the providers used).
	provs := s.renderProvs[:0]
	if oldStyle {
		for p := range used {
			provs = append(provs, p)
		}
		sortProviders(provs)
	} else {
		sortProviders(roots)
		for _, root := range roots {
			provs = appendTree(provs, root)
		}
	}
	s.consolidated, s.renderRoots, s.renderProvs = scratch, roots, provs
	res.Summaries = sized(&ar.summaries, len(provs))
	for i, p := range provs {
		res.Summaries[i] = Summary{UUID: p.UUID, ParentUUID: p.ParentUUID, RootUUID: p.RootUUID,
			Resources: p.summaryResources, Traits: p.traitNames, Version: p.version}
	}
}

// appendTree appends root and all its descendants.
func appendTree(out []*provider, root *provider) []*provider {
	out = append(out, root)
	for _, k := range root.kids {
		out = appendTree(out, k)
	}
	return out
}

func pallocLess(a, b palloc) bool {
	if a.p.ID != b.p.ID {
		return a.p.ID < b.p.ID
	}
	return a.in.class < b.in.class
}
