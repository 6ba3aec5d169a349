package importer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"allot/internal/client"
	"allot/internal/model"
)

// Options tune an import.
type Options struct {
	// Workers is the number of concurrent requests (at least 1).
	Workers int
	// Force makes the target's providers and consumers that differ from the
	// source's (same UUID, another name, parent, project, user, type or
	// allocations) match the source; without it they are left alone and
	// reported as conflicts.
	Force bool
	// Progress, when not nil, receives the progress of each step.
	Progress ProgressFunc
}

// Count tallies what happened to the objects of one kind.
type Count struct {
	// Created: written to the target, which did not have it.
	Created int
	// Updated: the target had it with other data and was made to match.
	Updated int
	// Unchanged: the target already had it as the source has it.
	Unchanged int
	// Skipped: not imported; a Problem says why.
	Skipped int
}

// Problem is one object the import did not copy, and why.
type Problem struct {
	Object string
	Reason string
}

// Report is what an import did.
type Report struct {
	Classes, Traits, Providers, Consumers Count
	// Problems lists every object not imported, in the order met.
	Problems []Problem
}

// importer holds the state of one run.
type importer struct {
	src, dst *Service
	// dstUntyped writes consumers without a consumer type (microversion
	// 1.37) when the source has none for them; nil when dst is below 1.38.
	dstUntyped *Service
	from, to   *Snapshot
	opts       Options

	mu      sync.Mutex
	report  Report
	skipped map[string]bool // provider UUIDs not imported
}

// ImportPlacement copies the cloud of src into dst (see the package
// comment) and reports what it did. An error means the import stopped (a
// service unreachable or failing); everything written before stays, and a
// rerun continues from there. Objects the target refuses are not errors:
// they are skipped and listed in the report's Problems.
func ImportPlacement(ctx context.Context, src, dst *Service, opts Options) (*Report, error) {
	opts.Workers = max(opts.Workers, 1)
	im := &importer{src: src, dst: dst, opts: opts, skipped: map[string]bool{}}
	if dst.has(typeVersion) {
		legacy, err := at(dst.ep, model.V(1, 37))
		if err != nil {
			return nil, err
		}
		im.dstUntyped = legacy
	}
	var err error
	if im.from, err = read(ctx, src, "source", opts.Workers, opts.Progress, false); err != nil {
		return nil, err
	}
	if im.to, err = read(ctx, dst, "target", opts.Workers, opts.Progress, false); err != nil {
		return nil, err
	}
	if err := im.names(ctx); err != nil {
		return nil, err
	}
	if err := im.providers(ctx); err != nil {
		return nil, err
	}
	if err := im.consumers(ctx); err != nil {
		return nil, err
	}
	return &im.report, nil
}

// refused tells an answer the target gave about one object (a 4xx: skip it
// and go on) from a failure that stops the import.
func refused(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500
}

// problem records that object was not imported.
func (im *importer) problem(count *Count, object, format string, args ...any) {
	im.mu.Lock()
	defer im.mu.Unlock()
	count.Skipped++
	im.report.Problems = append(im.report.Problems, Problem{Object: object, Reason: fmt.Sprintf(format, args...)})
}

// tally adds one outcome to count.
func (im *importer) tally(count *Count, o outcome) {
	im.mu.Lock()
	defer im.mu.Unlock()
	switch o {
	case created:
		count.Created++
	case updated:
		count.Updated++
	case unchanged:
		count.Unchanged++
	}
}

// outcome is what happened to one object that was not skipped.
type outcome int

const (
	unchanged outcome = iota
	created
	updated
)

// names creates the custom resource classes and traits the target lacks.
func (im *importer) names(ctx context.Context) error {
	have := map[string]bool{}
	for _, n := range im.to.Classes {
		have[n] = true
	}
	for _, n := range im.from.Classes {
		if have[n] {
			im.tally(&im.report.Classes, unchanged)
			continue
		}
		if _, err := im.dst.Client.EnsureResourceClass(ctx, n); err != nil {
			if !refused(err) {
				return fmt.Errorf("target: resource class %s: %w", n, err)
			}
			im.problem(&im.report.Classes, "resource class "+n, "the target refused it: %v", err)
			continue
		}
		im.tally(&im.report.Classes, created)
	}
	clear(have)
	for _, n := range im.to.Traits {
		have[n] = true
	}
	for _, n := range im.from.Traits {
		if have[n] {
			im.tally(&im.report.Traits, unchanged)
			continue
		}
		if _, err := im.dst.Client.CreateTrait(ctx, n); err != nil {
			if !refused(err) {
				return fmt.Errorf("target: trait %s: %w", n, err)
			}
			im.problem(&im.report.Traits, "trait "+n, "the target refused it: %v", err)
			continue
		}
		im.tally(&im.report.Traits, created)
	}
	return nil
}

// providers copies the providers level by level (roots, their children,
// ...), the providers of one level concurrently.
func (im *importer) providers(ctx context.Context) error {
	levels := treeLevels(im.from.Providers)
	byName := map[string]string{}
	for _, t := range im.to.Providers {
		byName[t.Name] = t.UUID
	}
	step := newStepper(im.opts.Progress, "import providers", len(im.from.Providers))
	for _, level := range levels {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(im.opts.Workers)
		for _, s := range level {
			g.Go(func() error {
				defer step.tick()
				return im.provider(gctx, s, byName)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// treeLevels groups providers by depth, parents before children, each
// level sorted by name. A provider whose parent is not among them (a
// source changing while read) counts as a root.
func treeLevels(provs map[string]*Provider) [][]*Provider {
	depth := map[string]int{}
	var depthOf func(p *Provider, seen int) int
	depthOf = func(p *Provider, seen int) int {
		if d, ok := depth[p.UUID]; ok {
			return d
		}
		d := 0
		if parent, ok := provs[p.Parent]; ok && p.Parent != "" && seen < len(provs) {
			d = depthOf(parent, seen+1) + 1
		}
		depth[p.UUID] = d
		return d
	}
	var levels [][]*Provider
	for _, p := range provs {
		d := depthOf(p, 0)
		for len(levels) <= d {
			levels = append(levels, nil)
		}
		levels[d] = append(levels[d], p)
	}
	for _, l := range levels {
		sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	}
	return levels
}

// provider makes the target's provider s.UUID match s: created with its
// name and parent, or checked (and with Force corrected), then its
// inventories, traits and aggregates set where they differ.
func (im *importer) provider(ctx context.Context, s *Provider, byName map[string]string) error {
	count := &im.report.Providers
	object := fmt.Sprintf("resource provider %s (%s)", s.UUID, s.Name)
	skip := func(format string, args ...any) error {
		im.mu.Lock()
		im.skipped[s.UUID] = true
		im.mu.Unlock()
		im.problem(count, object, format, args...)
		return nil
	}
	im.mu.Lock()
	parentSkipped := s.Parent != "" && im.skipped[s.Parent]
	im.mu.Unlock()
	if parentSkipped {
		return skip("its parent %s was not imported", s.Parent)
	}
	t := im.to.Providers[s.UUID]
	result := unchanged
	var gen int64
	switch {
	case t == nil:
		if other, ok := byName[s.Name]; ok {
			if renamed, ok := im.from.Providers[other]; ok && renamed.Name != s.Name {
				return skip("the target has another provider named %q (%s), which the source names %q; import again once it is renamed (--force renames it)", s.Name, other, renamed.Name)
			}
			return skip("the target has another provider named %q (%s); rename or delete it, then import again", s.Name, other)
		}
		rp, err := im.dst.Client.CreateProvider(ctx, client.NewProvider{Name: s.Name, UUID: s.UUID, ParentProviderUUID: s.Parent})
		if err != nil {
			if refused(err) {
				return skip("the target refused to create it: %v", err)
			}
			return fmt.Errorf("target: create %s: %w", object, err)
		}
		gen, result = rp.Generation, created
		t = &Provider{Inventories: map[string]client.Inventory{}, Traits: []string{}, Aggregates: []string{}}
	case t.Name != s.Name || t.Parent != s.Parent:
		if !im.opts.Force {
			return skip("the target has this UUID with name %q and parent %s, the source with name %q and parent %s; use --force to make the target match the source",
				t.Name, orNone(t.Parent), s.Name, orNone(s.Parent))
		}
		rp, err := im.dst.Client.UpdateProvider(ctx, s.UUID, client.ProviderUpdate{Name: s.Name, SetParent: t.Parent != s.Parent, ParentProviderUUID: s.Parent})
		if err != nil {
			if refused(err) {
				return skip("the target refused to rename or move it: %v", err)
			}
			return fmt.Errorf("target: update %s: %w", object, err)
		}
		gen, result = rp.Generation, updated
	default:
		gen = t.Generation
	}
	changed, err := im.providerData(ctx, s, t, &gen)
	if err != nil {
		if refused(err) {
			return skip("%v", err)
		}
		return fmt.Errorf("target: %s: %w", object, err)
	}
	if changed && result == unchanged {
		result = updated
	}
	im.tally(count, result)
	return nil
}

// providerData sets the target provider's inventories, traits and
// aggregates to the source's where they differ; gen is the target
// provider's generation, kept current.
func (im *importer) providerData(ctx context.Context, s, t *Provider, gen *int64) (bool, error) {
	p := im.dst.Client
	changed := false
	if !maps.Equal(s.Inventories, t.Inventories) {
		specs := make(map[string]client.InventorySpec, len(s.Inventories))
		for rc, inv := range s.Inventories {
			specs[rc] = inv.Spec()
		}
		out, err := p.SetInventories(ctx, s.UUID, *gen, specs)
		if err != nil {
			return changed, fmt.Errorf("set inventories: %w", err)
		}
		*gen, changed = out.Generation, true
	}
	if !slices.Equal(s.Traits, t.Traits) {
		out, err := p.SetProviderTraits(ctx, s.UUID, *gen, s.Traits)
		if err != nil {
			return changed, fmt.Errorf("set traits: %w", err)
		}
		*gen, changed = out.Generation, true
	}
	if !slices.Equal(s.Aggregates, t.Aggregates) {
		var g *int64
		if im.dst.has(model.V(1, 19)) {
			g = gen
		}
		out, err := p.SetProviderAggregates(ctx, s.UUID, g, s.Aggregates)
		if err != nil {
			return changed, fmt.Errorf("set aggregates: %w", err)
		}
		if out.HasGeneration {
			*gen = out.Generation
		}
		changed = true
	}
	return changed, nil
}

// consumers writes every source consumer's allocations in one request
// each, concurrently.
func (im *importer) consumers(ctx context.Context) error {
	uuids := slices.Sorted(maps.Keys(im.from.Consumers))
	step := newStepper(im.opts.Progress, "import consumers", len(uuids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(im.opts.Workers)
	for _, uuid := range uuids {
		g.Go(func() error {
			defer step.tick()
			return im.consumer(gctx, im.from.Consumers[uuid])
		})
	}
	return g.Wait()
}

// consumer writes one consumer's allocations unless the target already
// has them.
func (im *importer) consumer(ctx context.Context, s *Consumer) error {
	count := &im.report.Consumers
	object := "consumer " + s.UUID
	for _, rp := range slices.Sorted(maps.Keys(s.Allocations)) {
		im.mu.Lock()
		skipped := im.skipped[rp]
		im.mu.Unlock()
		if skipped {
			im.problem(count, object, "it has allocations on resource provider %s, which was not imported", rp)
			return nil
		}
	}
	t := im.to.Consumers[s.UUID]
	w := client.AllocationWrite{Allocations: s.Allocations, ProjectID: s.ProjectID, UserID: s.UserID, ConsumerType: s.Type}
	result := created
	if t != nil {
		if why := consumerDiffers(s, t); why == "" {
			im.tally(count, unchanged)
			return nil
		} else if !im.opts.Force {
			im.problem(count, object, "the target has this consumer with other data (%s); use --force to make the target match the source", why)
			return nil
		}
		w.ConsumerGeneration, result = t.Generation, updated
	}
	dst := im.dst
	if (s.Type == "" || s.Type == unknownType) && im.dstUntyped != nil {
		dst = im.dstUntyped // a consumer without a type is written without one
	}
	var err error
	for range 3 { // another writer on the same providers: try again
		err = dst.Client.SetAllocations(ctx, s.UUID, w)
		if !isConcurrentUpdate(err) || t != nil {
			break
		}
	}
	if err != nil {
		if refused(err) {
			im.problem(count, object, "the target refused its allocations: %v", err)
			return nil
		}
		return fmt.Errorf("target: %s: %w", object, err)
	}
	im.tally(count, result)
	return nil
}

// typeVersion is the microversion that shows consumer types.
var typeVersion = model.V(1, 38)

// unknownType is how Placement shows a consumer written without a type.
const unknownType = "unknown"

func isConcurrentUpdate(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == 409 && ae.Code == model.CodeConcurrentUpdate
}

// consumerDiffers says how target consumer t differs from source consumer
// s ("" when it does not).
func consumerDiffers(s, t *Consumer) string {
	switch {
	case s.ProjectID != t.ProjectID:
		return fmt.Sprintf("project %s, the source's %s", t.ProjectID, s.ProjectID)
	case s.UserID != t.UserID:
		return fmt.Sprintf("user %s, the source's %s", t.UserID, s.UserID)
	case s.Type != "" && t.Type != "" && s.Type != t.Type:
		return fmt.Sprintf("consumer type %s, the source's %s", t.Type, s.Type)
	case !maps.EqualFunc(s.Allocations, t.Allocations, maps.Equal):
		return "other allocations"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
