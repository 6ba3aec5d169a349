package engine

import (
	"sort"
	"strconv"
	"strings"
)

func consolidate(combo []*partial) []palloc {
	var out []palloc
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
	sort.Slice(out, func(i, j int) bool {
		if out[i].p.ID != out[j].p.ID {
			return out[i].p.ID < out[j].p.ID
		}
		return out[i].in.class < out[j].in.class
	})
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

// render turns the chosen combinations into requests and summaries.
func (s *search) render(res *Result, combos [][]*partial) {
	e := s.e
	trees := map[*provider]bool{}
	used := map[*provider]bool{}
	res.Requests = make([]Request, 0, len(combos))
	for _, combo := range combos {
		allocs := consolidate(combo)
		var req Request
		for i := 0; i < len(allocs); {
			p := allocs[i].p
			pa := ProviderAmounts{UUID: p.UUID}
			for ; i < len(allocs) && allocs[i].p == p; i++ {
				pa.Amounts = append(pa.Amounts, ClassAmount{Class: e.classNames[allocs[i].in.class], Amount: allocs[i].amount})
			}
			req.Allocations = append(req.Allocations, pa)
			trees[p.root] = true
			used[p] = true
		}
		// Mappings: one entry per suffix, in request order.
		for gi, pt := range combo {
			m := Mapping{Suffix: s.groups[gi].suffix}
			for _, p := range pt.provs {
				m.Providers = append(m.Providers, p.UUID)
			}
			req.Mappings = append(req.Mappings, m)
		}
		res.Requests = append(res.Requests, req)
	}
	// Provider summaries: every provider of every tree that supplies a
	// resource (before 1.29 with trees: only the providers used).
	var provs []*provider
	if !s.q.NestedAware && s.hasTrees {
		for p := range used {
			provs = append(provs, p)
		}
	} else {
		for root := range trees {
			provs = appendTree(provs, root)
		}
	}
	sort.Slice(provs, func(i, j int) bool { return provs[i].ID < provs[j].ID })
	res.Summaries = make([]Summary, 0, len(provs))
	for _, p := range provs {
		sum := Summary{UUID: p.UUID, ParentUUID: p.ParentUUID, RootUUID: p.RootUUID}
		sum.Resources = make([]SummaryResource, len(p.invs))
		for i := range p.invs {
			in := &p.invs[i]
			sum.Resources[i] = SummaryResource{Class: e.classNames[in.class], Capacity: in.capacity, Used: in.used}
		}
		sum.Traits = make([]string, len(p.traits))
		for i, t := range p.traits {
			sum.Traits[i] = e.traitNames[t]
		}
		res.Summaries = append(res.Summaries, sum)
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
