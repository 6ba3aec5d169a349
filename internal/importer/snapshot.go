package importer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"allot/internal/client"
	"allot/internal/model"
)

// Snapshot is everything of a Placement service the importer copies and
// compares, read through its API.
type Snapshot struct {
	// Version is the microversion it was read at.
	Version model.Version
	// Classes and Traits are the custom (CUSTOM_...) names, sorted.
	Classes []string
	Traits  []string
	// Providers and Consumers are keyed by UUID.
	Providers map[string]*Provider
	Consumers map[string]*Consumer
}

// Provider is a resource provider with its inventories, usages, traits and
// aggregates.
type Provider struct {
	UUID, Name string
	// Parent is empty for a root (and for every provider read below 1.14).
	Parent     string
	Generation int64
	// Inventories and Usages are keyed by resource class.
	Inventories map[string]client.Inventory
	Usages      map[string]int64
	// Traits and Aggregates are sorted.
	Traits     []string
	Aggregates []string
}

// Consumer is a consumer with its allocations.
type Consumer struct {
	UUID      string
	ProjectID string
	UserID    string
	// Type is the consumer type ("unknown" for one written without one), or
	// empty when read below microversion 1.38.
	Type       string
	Generation *int64
	// Allocations maps provider UUID -> resource class -> amount.
	Allocations map[string]map[string]int64
}

// Progress is the state of a long step, for a progress display.
type Progress struct {
	// Step names what is being done ("read source providers", ...).
	Step        string
	Done, Total int
}

// ProgressFunc receives progress; it is called from several goroutines,
// never at once (calls are serialized) and may be nil.
type ProgressFunc func(Progress)

// Read reads a whole service with the given number of concurrent requests.
// role ("source" or "target") prefixes the progress steps.
func Read(ctx context.Context, svc *Service, role string, workers int, progress ProgressFunc) (*Snapshot, error) {
	return read(ctx, svc, role, workers, progress, true)
}

// read is Read, with the providers' usages or without them (Usages then
// stays empty: an import needs none, and saves a request per provider).
func read(ctx context.Context, svc *Service, role string, workers int, progress ProgressFunc, usages bool) (*Snapshot, error) {
	p := svc.Client
	snap := &Snapshot{Version: svc.Version, Providers: map[string]*Provider{}, Consumers: map[string]*Consumer{}}
	classes, err := p.ListResourceClasses(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: list resource classes: %w", role, err)
	}
	for _, rc := range classes {
		if strings.HasPrefix(rc.Name, "CUSTOM_") {
			snap.Classes = append(snap.Classes, rc.Name)
		}
	}
	slices.Sort(snap.Classes)
	if svc.has(model.V(1, 6)) {
		traits, err := p.ListTraits(ctx, client.TraitFilter{Name: "startswith:CUSTOM_"})
		if err != nil {
			return nil, fmt.Errorf("%s: list traits: %w", role, err)
		}
		snap.Traits = slices.Sorted(slices.Values(traits))
	}
	rps, err := p.ListProviders(ctx, client.ProviderFilter{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	// Read every provider's details, concurrently; collect the consumers
	// from the providers' allocations (Placement has no list of consumers).
	read := make([]*Provider, len(rps))
	holders := make([]map[string]client.ProviderConsumerAllocation, len(rps))
	step := newStepper(progress, role+": read providers", len(rps))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, rp := range rps {
		g.Go(func() error {
			defer step.tick()
			prov, allocs, err := readProvider(gctx, svc, rp, usages)
			if client.IsNotFound(err) {
				return nil // deleted while we read: not there
			}
			if err != nil {
				return fmt.Errorf("%s: resource provider %s (%s): %w", role, rp.UUID, rp.Name, err)
			}
			read[i], holders[i] = prov, allocs
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var consumers []string
	for i, prov := range read {
		if prov == nil {
			continue
		}
		snap.Providers[prov.UUID] = prov
		for c := range holders[i] {
			if !seen[c] {
				seen[c] = true
				consumers = append(consumers, c)
			}
		}
	}
	slices.Sort(consumers)
	got := make([]*Consumer, len(consumers))
	step = newStepper(progress, role+": read consumers", len(consumers))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, uuid := range consumers {
		g.Go(func() error {
			defer step.tick()
			c, err := readConsumer(gctx, svc, uuid)
			if err != nil {
				return fmt.Errorf("%s: consumer %s: %w", role, uuid, err)
			}
			got[i] = c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, c := range got {
		if c != nil {
			snap.Consumers[c.UUID] = c
		}
	}
	return snap, nil
}

// readProvider reads one provider's details and the allocations held on it.
func readProvider(ctx context.Context, svc *Service, rp client.Provider, withUsages bool) (*Provider, map[string]client.ProviderConsumerAllocation, error) {
	p := svc.Client
	prov := &Provider{UUID: rp.UUID, Name: rp.Name, Parent: rp.ParentProviderUUID, Generation: rp.Generation, Traits: []string{}, Aggregates: []string{}}
	invs, err := p.GetInventories(ctx, rp.UUID)
	if err != nil {
		return nil, nil, fmt.Errorf("inventories: %w", err)
	}
	prov.Inventories = invs.Inventories
	if prov.Inventories == nil {
		prov.Inventories = map[string]client.Inventory{}
	}
	prov.Usages = map[string]int64{}
	if withUsages {
		usages, err := p.GetProviderUsages(ctx, rp.UUID)
		if err != nil {
			return nil, nil, fmt.Errorf("usages: %w", err)
		}
		maps.Copy(prov.Usages, usages.Usages)
	}
	if svc.has(model.V(1, 6)) {
		traits, err := p.GetProviderTraits(ctx, rp.UUID)
		if err != nil {
			return nil, nil, fmt.Errorf("traits: %w", err)
		}
		prov.Traits = sortedCopy(traits.Traits)
	}
	aggs, err := p.GetProviderAggregates(ctx, rp.UUID)
	if err != nil {
		return nil, nil, fmt.Errorf("aggregates: %w", err)
	}
	prov.Aggregates = sortedCopy(aggs.Aggregates)
	allocs, err := p.GetProviderAllocations(ctx, rp.UUID)
	if err != nil {
		return nil, nil, fmt.Errorf("allocations: %w", err)
	}
	return prov, allocs.Allocations, nil
}

// readConsumer reads one consumer; nil when it has no allocations any more.
func readConsumer(ctx context.Context, svc *Service, uuid string) (*Consumer, error) {
	a, err := svc.Client.GetAllocations(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if len(a.Allocations) == 0 {
		return nil, nil // released while we read
	}
	c := &Consumer{UUID: uuid, ProjectID: a.ProjectID, UserID: a.UserID, Type: a.ConsumerType,
		Generation: a.ConsumerGeneration, Allocations: map[string]map[string]int64{}}
	for rp, pa := range a.Allocations {
		c.Allocations[rp] = maps.Clone(pa.Resources)
	}
	return c, nil
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

// stepper counts the items of one step done and reports progress.
type stepper struct {
	fn    ProgressFunc
	step  string
	total int
	mu    sync.Mutex
	done  int
}

// newStepper reports the start of a step (0 of total done).
func newStepper(fn ProgressFunc, step string, total int) *stepper {
	s := &stepper{fn: fn, step: step, total: total}
	if fn != nil {
		fn(Progress{Step: step, Total: total})
	}
	return s
}

// tick marks one more item done.
func (s *stepper) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done++
	if s.fn != nil {
		s.fn(Progress{Step: s.step, Done: s.done, Total: s.total})
	}
}
