package engine

// partials computes every way to satisfy one group, each under an anchor
// tree (the root the candidate will be counted under).
func (s *search) partials(g *resolvedGroup) []*partial {
	if g.granular {
		return s.granularPartials(g)
	}
	return s.treePartials(g)
}

// smallestClassList returns the providers with inventory of the group's
// rarest class (nil for a resourceless group: every provider).
func (s *search) smallestClassList(g *resolvedGroup) []*provider {
	if len(g.amounts) == 0 {
		return s.e.all()
	}
	best := s.e.byClass[g.amounts[0].class]
	for _, a := range g.amounts[1:] {
		if l := s.e.byClass[a.class]; len(l) < len(best) {
			best = l
		}
	}
	return best
}

// sharingAnchors returns the roots of every tree that shares an aggregate
// with sharing provider p (p's own root included when p is in an aggregate).
func (s *search) sharingAnchors(p *provider, cache map[*provider][]*provider) []*provider {
	if a, ok := cache[p]; ok {
		return a
	}
	seen := map[*provider]bool{}
	var out []*provider
	for _, agg := range p.aggs {
		for _, m := range s.e.aggMembers[agg] {
			if !seen[m.root] {
				seen[m.root] = true
				out = append(out, m.root)
			}
		}
	}
	cache[p] = out
	return out
}

// granularPartials: each provider that alone has capacity for every class
// of the group and itself has the traits and (direct) aggregates asked for.
// A sharing provider also serves every tree it shares an aggregate with.
func (s *search) granularPartials(g *resolvedGroup) []*partial {
	resourceless := len(g.amounts) == 0
	if resourceless && len(g.traits.allOf) == 0 && len(g.aggs.allOf) == 0 {
		// Placement matches nothing for a group with no positive filter.
		return nil
	}
	var out []*partial
	cache := map[*provider][]*provider{}
	for _, p := range s.smallestClassList(g) {
		if s.budgetExceeded() {
			return out
		}
		if g.inTree != nil && p.root != g.inTree {
			continue
		}
		if !g.traits.matches(p) || !g.aggs.matches(p) {
			continue
		}
		allocs := make([]palloc, 0, len(g.amounts))
		fits := true
		for _, a := range g.amounts {
			in := p.inventory(a.class)
			if in == nil || !in.fits(a.n) {
				fits = false
				break
			}
			allocs = append(allocs, palloc{p: p, in: in, amount: a.n})
		}
		if !fits {
			continue
		}
		sharing := p.hasTrait(s.e.sharesID)
		provs := []*provider{p}
		if s.rootOK(p.root) {
			out = append(out, &partial{anchor: p.root, allocs: allocs, provs: provs, sharingOnly: sharing})
		}
		if sharing {
			for _, a := range s.sharingAnchors(p, cache) {
				if a != p.root && s.rootOK(a) {
					out = append(out, &partial{anchor: a, allocs: allocs, provs: provs, sharingOnly: true})
				}
			}
		}
	}
	return out
}

// pair is a provider able to supply one class for a candidate anchored at
// anchor (its own root, or a tree it shares with).
type pair struct {
	p      *provider
	in     *inv
	anchor *provider
}

// treePartials: the unsuffixed group may take each class from a different
// provider of one tree, or from a sharing provider in an aggregate with the
// tree; the providers used must together have the required traits and none
// of them a forbidden one.
func (s *search) treePartials(g *resolvedGroup) []*partial {
	cache := map[*provider][]*provider{}
	// Per class (in class order), the candidate providers per anchor.
	perClass := make([]map[*provider][]pair, len(g.amounts))
	var anchors []*provider
	for ci, a := range g.amounts {
		m := map[*provider][]pair{}
		add := func(p *provider, in *inv, anchor *provider) {
			if !s.rootOK(anchor) {
				return
			}
			if !g.aggs.empty() {
				if !(g.aggs.requiredOK(p) || g.aggs.requiredOK(anchor)) || g.aggs.forbiddenHit(p) || g.aggs.forbiddenHit(anchor) {
					return
				}
			}
			if ci > 0 {
				if _, ok := perClass[ci-1][anchor]; !ok {
					return // the tree already lacks an earlier class
				}
			}
			for _, x := range m[anchor] {
				if x.p == p {
					return
				}
			}
			m[anchor] = append(m[anchor], pair{p: p, in: in, anchor: anchor})
		}
		for _, p := range s.e.byClass[a.class] {
			if s.budgetExceeded() {
				return nil
			}
			if g.inTree != nil && p.root != g.inTree {
				continue
			}
			in := p.inventory(a.class)
			if in == nil || !in.fits(a.n) {
				continue
			}
			add(p, in, p.root)
			if g.inTree == nil && p.hasTrait(s.e.sharesID) && (len(g.aggs.allOf) == 0 || g.aggs.requiredOK(p)) {
				for _, anchor := range s.sharingAnchors(p, cache) {
					add(p, in, anchor)
				}
			}
		}
		if len(m) == 0 {
			return nil
		}
		perClass[ci] = m
	}
	// Anchors with providers for every class, in a stable order.
	for anchor := range perClass[len(perClass)-1] {
		anchors = append(anchors, anchor)
	}
	sortProviders(anchors)
	var out []*partial
	choice := make([]pair, len(g.amounts))
	for _, anchor := range anchors {
		lists := make([][]pair, len(g.amounts))
		ok := true
		for ci := range g.amounts {
			lists[ci] = perClass[ci][anchor]
			if len(lists[ci]) == 0 {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var walk func(ci int)
		walk = func(ci int) {
			if s.stopped {
				return
			}
			if ci == len(lists) {
				if pt := s.treePartial(g, anchor, choice); pt != nil {
					out = append(out, pt)
				}
				return
			}
			for _, c := range lists[ci] {
				if s.budgetExceeded() {
					return
				}
				choice[ci] = c
				walk(ci + 1)
			}
		}
		walk(0)
	}
	return out
}

// treePartial checks the traits of one combination of providers and
// builds its partial.
func (s *search) treePartial(g *resolvedGroup, anchor *provider, choice []pair) *partial {
	var provs []*provider
	sharingOnly := true
	for _, c := range choice {
		dup := false
		for _, p := range provs {
			if p == c.p {
				dup = true
				break
			}
		}
		if !dup {
			provs = append(provs, c.p)
			if !c.p.hasTrait(s.e.sharesID) {
				sharingOnly = false
			}
		}
	}
	for _, p := range provs {
		for _, f := range g.traits.forbidden {
			if p.hasTrait(f) {
				return nil
			}
		}
	}
	for _, set := range g.traits.allOf {
		ok := false
		for _, t := range set {
			for _, p := range provs {
				if p.hasTrait(t) {
					ok = true
					break
				}
			}
			if ok {
				break
			}
		}
		if !ok {
			return nil
		}
	}
	allocs := make([]palloc, len(choice))
	for i, c := range choice {
		allocs[i] = palloc{p: c.p, in: c.in, amount: g.amounts[i].n}
	}
	sortProviders(provs)
	return &partial{anchor: anchor, allocs: allocs, provs: provs, sharingOnly: sharingOnly}
}

func sortProviders(ps []*provider) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].ID < ps[j-1].ID; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
