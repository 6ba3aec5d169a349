package engine

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"allot/internal/model"
)

// Update is one catch-up step from the store's change feed.
type Update struct {
	// Revision is the store revision the update brings the index to.
	Revision int64
	// Full replaces the whole index with Providers.
	Full bool
	// Providers are the current states of the changed providers.
	Providers []model.ProviderState
	// Removed are changed provider ids that no longer exist.
	Removed []int64
	// Classes and Traits, when non-nil, replace the catalogs of known
	// resource class and trait names.
	Classes []string
	Traits  []string
}

type classID int32
type traitID int32
type aggID int32

// inv is an inventory as the search uses it: the store's inventory (whose
// methods hold the capacity rule) under the index's class id.
type inv struct {
	class classID
	model.Inventory
}

// provider is a provider in the index.
type provider struct {
	model.Provider
	invs   []inv     // sorted by class
	traits []traitID // sorted
	aggs   []aggID   // sorted
	parent *provider
	root   *provider
	kids   []*provider
	// idx is the provider's position in the id order (set by prepare).
	idx int
	// For roots (set by prepare): the classes present in the tree, and
	// those the tree may take from sharing providers (bit 63: class id >= 63).
	treeClasses, sharedClasses uint64
	// Immutable views for results (replaced, never mutated, on update).
	summaryResources []SummaryResource
	traitNames       []string
	version          uint64 // Summary.Version
}

func (p *provider) inventory(c classID) *inv {
	for i := range p.invs {
		if p.invs[i].class == c {
			return &p.invs[i]
		}
	}
	return nil
}

func (p *provider) hasTrait(t traitID) bool {
	_, ok := slices.BinarySearch(p.traits, t)
	return ok
}

func (p *provider) inAgg(a aggID) bool {
	_, ok := slices.BinarySearch(p.aggs, a)
	return ok
}

// Engine is the index plus its searches. It is safe for concurrent use:
// searches share a read lock, updates take the write lock.
type Engine struct {
	mu  sync.RWMutex
	rev int64

	classByName map[string]classID
	classNames  []string
	knownClass  map[string]bool
	traitByName map[string]traitID
	traitNames  []string
	knownTrait  map[string]bool
	aggByUUID   map[string]aggID
	aggUUIDs    []string

	byID     map[int64]*provider
	byUUID   map[string]*provider
	children map[int64][]int64
	nParents int // providers with a parent: the deployment has trees
	sharesID traitID
	// renumber and recount are the edits finishEdits owes the derived
	// lookups at the end of an Apply (maintain.go).
	renumber bool
	recount  []*provider
	// orphaned are the parents a provider left during an Apply (it moved
	// or was removed): their kids are refreshed at its end.
	orphaned []int64

	// Derived lookups, rebuilt by prepare when dirty says so.
	dirty      bool
	ordered    []*provider             // every provider, by id
	byClass    map[classID][]*provider // providers with inventory of a class, by id
	aggMembers map[aggID][]*provider   // providers directly in an aggregate, by id
	byTrait    map[traitID][]*provider // providers with a trait, by id
	sharing    []*provider             // providers with MISC_SHARES_VIA_AGGREGATE, by id
	// sharingAnchors maps a sharing provider to the roots of every tree
	// that shares an aggregate with it (its own root included when it is in
	// an aggregate); sharedWith is the reverse: per root, the sharing
	// providers it may use.
	sharingAnchors map[*provider][]*provider
	sharedWith     map[*provider][]*provider
	roots          []*provider // every root, by id
}

// classBit is a class's bit in a tree class mask.
func classBit(c classID) uint64 {
	if c >= 63 {
		return 1 << 63
	}
	return 1 << uint(c)
}

// New returns an empty engine at revision 0.
func New() *Engine {
	e := &Engine{
		classByName: map[string]classID{},
		knownClass:  map[string]bool{},
		traitByName: map[string]traitID{},
		knownTrait:  map[string]bool{},
		aggByUUID:   map[string]aggID{},
		byID:        map[int64]*provider{},
		byUUID:      map[string]*provider{},
		children:    map[int64][]int64{},
		dirty:       true, // the derived lookups are not built yet
	}
	e.sharesID = e.trait(model.SharesViaAggregate)
	return e
}

// Revision is the store revision the index reflects.
func (e *Engine) Revision() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rev
}

// Len is the number of providers in the index.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.byID)
}

// EachInventory calls fn, under the index's read lock, for every
// inventory of every provider (nested children and sharing providers
// included), by provider id then class: what capacity metrics read at
// scrape time. fn must not call the engine.
func (e *Engine) EachInventory(fn func(p *model.Provider, inv *model.Inventory)) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ids := make([]int64, 0, len(e.byID))
	for id := range e.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := e.byID[id]
		for i := range p.invs {
			fn(&p.Provider, &p.invs[i].Inventory)
		}
	}
}

// intern returns name's id in one of the index's name tables, adding it
// when new.
func intern[ID ~int32](ids map[string]ID, names *[]string, name string) ID {
	if id, ok := ids[name]; ok {
		return id
	}
	id := ID(len(*names))
	ids[name] = id
	*names = append(*names, name)
	return id
}

func (e *Engine) class(name string) classID { return intern(e.classByName, &e.classNames, name) }
func (e *Engine) trait(name string) traitID { return intern(e.traitByName, &e.traitNames, name) }
func (e *Engine) agg(uuid string) aggID     { return intern(e.aggByUUID, &e.aggUUIDs, uuid) }

// Apply brings the index to u.Revision, derived lookups included (edited
// in place, or rebuilt when an edit cannot maintain them: see
// maintain.go), so that the next search finds them ready. Updates older
// than the index are ignored, so concurrent catch-ups are harmless.
func (e *Engine) Apply(u Update) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u.Revision < e.rev && !u.Full {
		return
	}
	if u.Classes != nil {
		e.knownClass = make(map[string]bool, len(u.Classes))
		for _, c := range u.Classes {
			e.knownClass[c] = true
			e.class(c)
		}
	}
	if u.Traits != nil {
		e.knownTrait = make(map[string]bool, len(u.Traits))
		for _, t := range u.Traits {
			e.knownTrait[t] = true
			e.trait(t)
		}
	}
	if u.Full {
		e.byID = map[int64]*provider{}
		e.byUUID = map[string]*provider{}
		e.children = map[int64][]int64{}
		e.nParents = 0
		e.dirty = true
	}
	for _, id := range u.Removed {
		e.remove(id)
	}
	for i := range u.Providers {
		e.upsert(&u.Providers[i])
	}
	// Resolve tree pointers of everything that changed and of their
	// relatives: the new parents (link) and the parents left (orphaned).
	for i := range u.Providers {
		if p := e.byID[u.Providers[i].ID]; p != nil {
			e.link(p)
		}
	}
	for _, id := range e.orphaned {
		if p := e.byID[id]; p != nil {
			e.link(p)
		}
	}
	e.orphaned = e.orphaned[:0]
	e.finishEdits()
	if u.Full {
		for _, p := range e.byID {
			e.link(p)
		}
	}
	// What the edits could not maintain is rebuilt now, by the caller of
	// Apply (the writer that caught up), not by the next search.
	if e.dirty {
		e.rebuild()
	}
	e.rev = u.Revision
}

func (e *Engine) remove(id int64) {
	p := e.byID[id]
	if p == nil {
		return
	}
	e.unparent(p)
	delete(e.byID, id)
	if q := e.byUUID[p.UUID]; q == p {
		delete(e.byUUID, p.UUID)
	}
	e.removed(p)
}

func (e *Engine) unparent(p *provider) {
	if p.ParentID == 0 {
		return
	}
	e.nParents--
	e.orphaned = append(e.orphaned, p.ParentID)
	kids := e.children[p.ParentID]
	for i, k := range kids {
		if k == p.ID {
			kids = append(kids[:i], kids[i+1:]...)
			break
		}
	}
	if len(kids) == 0 {
		delete(e.children, p.ParentID)
	} else {
		e.children[p.ParentID] = kids
	}
}

func (e *Engine) upsert(s *model.ProviderState) {
	// Update in place so that pointers from other providers stay valid.
	p := e.byID[s.ID]
	isNew := p == nil
	var oldParent, oldRoot int64
	if p != nil {
		e.unparent(p)
		if p.UUID != s.UUID {
			delete(e.byUUID, p.UUID)
		}
		oldParent, oldRoot = p.ParentID, p.RootID
		p.Provider = s.Provider
	} else {
		p = &provider{Provider: s.Provider}
	}
	if p.ParentID != 0 {
		e.nParents++
		// Kept in id order, as a load from scratch has them, whatever the
		// order of the updates: summaries and tree walks follow it.
		kids := e.children[p.ParentID]
		i, _ := slices.BinarySearch(kids, p.ID)
		e.children[p.ParentID] = slices.Insert(kids, i, p.ID)
	}
	oldClasses, oldAggs, oldTraits := classesOf(p.invs), append([]aggID(nil), p.aggs...), append([]traitID(nil), p.traits...)
	p.invs = make([]inv, 0, len(s.Inventories))
	for _, in := range s.Inventories {
		p.invs = append(p.invs, inv{class: e.class(in.ResourceClass), Inventory: in})
	}
	sort.Slice(p.invs, func(i, j int) bool { return p.invs[i].class < p.invs[j].class })
	p.traits = make([]traitID, 0, len(s.Traits))
	for _, t := range s.Traits {
		p.traits = append(p.traits, e.trait(t))
	}
	slices.Sort(p.traits)
	p.aggs = make([]aggID, 0, len(s.Aggregates))
	for _, a := range s.Aggregates {
		p.aggs = append(p.aggs, e.agg(a))
	}
	slices.Sort(p.aggs)
	p.summaryResources = make([]SummaryResource, len(p.invs))
	for i := range p.invs {
		p.summaryResources[i] = SummaryResource{Class: e.classNames[p.invs[i].class], Capacity: p.invs[i].Capacity(), Used: p.invs[i].Used}
	}
	// Summaries list classes by name, not by interned id, which depends on
	// the order the index met them (a restart changes it).
	slices.SortFunc(p.summaryResources, func(a, b SummaryResource) int { return strings.Compare(a.Class, b.Class) })
	p.version = summaryVersions.Add(1)
	p.traitNames = make([]string, len(p.traits))
	for i, t := range p.traits {
		p.traitNames[i] = e.traitNames[t]
	}
	// Traits stay in interned order: the catalog's by name at a load, then
	// in the order new ones appear, which is Placement's order (by the
	// trait's creation) in its own tests; a restart can change it (see
	// README, "Keeping the index current").
	e.edited(p, isNew, oldParent, oldRoot, oldClasses, oldAggs, oldTraits)
	e.byID[p.ID] = p
	e.byUUID[p.UUID] = p
}

// link resolves p's parent, root and children pointers, and refreshes its
// parent's children list.
func (e *Engine) link(p *provider) {
	p.parent = e.byID[p.ParentID]
	p.root = e.byID[p.RootID]
	if p.root == nil {
		p.root = p
	}
	p.kids = p.kids[:0]
	for _, k := range e.children[p.ID] {
		if c := e.byID[k]; c != nil {
			p.kids = append(p.kids, c)
			c.parent = p
		}
	}
	if p.parent != nil {
		kids := p.parent.kids[:0]
		for _, k := range e.children[p.parent.ID] {
			if c := e.byID[k]; c != nil {
				kids = append(kids, c)
			}
		}
		p.parent.kids = kids
	}
}

// all returns every provider ordered by id (the caller holds the read lock
// after prepare).
func (e *Engine) all() []*provider {
	return e.ordered
}

// rlockPrepared takes the read lock with the derived lookups up to date:
// an update applied between prepare and the read lock (another catch-up)
// may have made them stale again, and a search must not mix them with
// the providers' newer state. The caller releases the read lock.
func (e *Engine) rlockPrepared() {
	for {
		e.prepare()
		e.mu.RLock()
		if !e.dirty {
			return
		}
		e.mu.RUnlock()
	}
}

// prepare builds the derived lookups if they are not (an engine no
// update reached yet; Apply leaves them built). It must be called without
// any lock held.
func (e *Engine) prepare() {
	e.mu.RLock()
	dirty := e.dirty
	e.mu.RUnlock()
	if !dirty {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dirty {
		e.rebuild()
	}
}

// rebuild builds the derived lookups from the providers: O(N log N). The
// caller holds the write lock.
func (e *Engine) rebuild() {
	e.ordered = make([]*provider, 0, len(e.byID))
	for _, p := range e.byID {
		e.ordered = append(e.ordered, p)
	}
	sort.Slice(e.ordered, func(i, j int) bool { return e.ordered[i].ID < e.ordered[j].ID })
	e.byClass = map[classID][]*provider{}
	e.aggMembers = map[aggID][]*provider{}
	e.byTrait = map[traitID][]*provider{}
	e.sharing = nil
	for _, p := range e.ordered {
		for _, in := range p.invs {
			e.byClass[in.class] = append(e.byClass[in.class], p)
		}
		for _, a := range p.aggs {
			e.aggMembers[a] = append(e.aggMembers[a], p)
		}
		for _, t := range p.traits {
			e.byTrait[t] = append(e.byTrait[t], p)
		}
		if p.hasTrait(e.sharesID) {
			e.sharing = append(e.sharing, p)
		}
	}
	e.roots = nil
	for i, p := range e.ordered {
		p.idx = i
		p.treeClasses, p.sharedClasses = 0, 0
	}
	for _, p := range e.ordered {
		if p.ParentID == 0 {
			e.roots = append(e.roots, p)
		}
		for _, in := range p.invs {
			p.root.treeClasses |= classBit(in.class)
		}
	}
	e.sharingAnchors = map[*provider][]*provider{}
	e.sharedWith = map[*provider][]*provider{}
	for _, sp := range e.sharing {
		seen := map[*provider]bool{}
		for _, agg := range sp.aggs {
			for _, m := range e.aggMembers[agg] {
				if !seen[m.root] {
					seen[m.root] = true
					e.sharingAnchors[sp] = append(e.sharingAnchors[sp], m.root)
					e.sharedWith[m.root] = append(e.sharedWith[m.root], sp)
					for _, in := range sp.invs {
						m.root.sharedClasses |= classBit(in.class)
					}
				}
			}
		}
		// In id order, not in the order of the aggregates' interned ids,
		// which depends on the order the index met them.
		slices.SortFunc(e.sharingAnchors[sp], func(a, b *provider) int { return byID(a, b.ID) })
	}
	e.dirty = false
}
