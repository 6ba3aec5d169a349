package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"allot/internal/client"
)

// The operations of a mixed run, in report order.
const (
	OpQuery       = "query"
	OpClaim       = "claim"
	OpAtomicClaim = "atomic claim"
	OpRelease     = "release"
	OpInventory   = "inventory"
	OpTraits      = "traits"
	OpCatalog     = "catalog"
	OpCreate      = "create"
)

// MixedOps lists the operations of a mixed run in report order.
var MixedOps = []string{OpQuery, OpClaim, OpAtomicClaim, OpRelease, OpInventory, OpTraits, OpCatalog, OpCreate}

// MaxRate bounds every rate of a mixed run (per second): beyond it a
// ticker cannot keep time, and the run would measure the tool.
const MaxRate = 1000

// MixedConfig describes a mixed run: schedulers querying and claiming,
// compute hosts updating their providers, operators changing the catalog
// and adding providers, all at once for Duration.
type MixedConfig struct {
	// URLs are the Placement endpoints (replicas); scheduler and host i use
	// URLs[i % len(URLs)], catalog changes and creations the first.
	URLs []string
	// Token is sent as X-Auth-Token.
	Token string
	// Duration is how long operations start; those in flight then finish.
	Duration time.Duration
	// Query is the query string of GET /allocation_candidates every
	// scheduler sends (limit=10 is added when it names no limit).
	Query string
	// Schedulers is the number of scheduler workers, each looping
	// query-then-claim (or atomic claim).
	Schedulers int
	// AtomicShare is the fraction (0-1) of the schedulers that claim with
	// allot's atomic claim (POST /allot/v1/claims) instead.
	AtomicShare float64
	// Retries bounds how often a scheduler asks again after a 409 on its
	// claim, and a host re-reads after a 409 on its update.
	Retries int
	// Hold is how long a claim is held before it is released (DELETE
	// /allocations/{consumer}), so that the cloud reaches a steady state.
	Hold time.Duration
	// Hosts is the number of compute hosts, each updating one provider the
	// query finds, alternately its inventory and its traits.
	Hosts int
	// HostRate is the updates per second of each host.
	HostRate float64
	// CatalogRate is new custom traits per second (0: none).
	CatalogRate float64
	// CreateRate is new providers per second (0: none).
	CreateRate float64
	// Prefix names what the run creates (traits, providers).
	Prefix string
	// Progress, if set, is called about once a second with the time
	// elapsed and the operations done so far, by operation.
	Progress func(elapsed time.Duration, done map[string]int)
}

// Validate says what is wrong with a configuration, naming the CLI's flags.
func (c MixedConfig) Validate() error {
	rate := func(name string, v float64, needed bool) error {
		switch {
		case v != v || v < 0 || v > MaxRate:
			return fmt.Errorf("%s must be between 0 and %d per second, not %v", name, MaxRate, v)
		case needed && v == 0:
			return fmt.Errorf("%s must be positive when there are hosts", name)
		}
		return nil
	}
	switch {
	case len(c.URLs) == 0:
		return errors.New("--placement-url: give at least one URL")
	case c.Duration <= 0:
		return errors.New("--duration must be positive")
	case c.Schedulers < 1:
		return errors.New("--schedulers must be at least 1")
	case c.AtomicShare != c.AtomicShare || c.AtomicShare < 0 || c.AtomicShare > 1:
		return fmt.Errorf("--atomic-share must be between 0 and 1, not %v", c.AtomicShare)
	case c.Retries < 0:
		return errors.New("--retries must not be negative")
	case c.Hold < 0:
		return errors.New("--hold must not be negative")
	case c.Hosts < 0:
		return errors.New("--hosts must not be negative")
	case strings.TrimSpace(c.Query) == "":
		return errors.New("--query must not be empty")
	}
	for _, u := range c.URLs {
		if _, err := client.NewPlacement(u, client.Options{}); err != nil {
			return fmt.Errorf("--placement-url: %w", err)
		}
	}
	if _, err := c.query(); err != nil {
		return err
	}
	if err := rate("--host-rate", c.HostRate, c.Hosts > 0); err != nil {
		return err
	}
	if err := rate("--catalog-rate", c.CatalogRate, false); err != nil {
		return err
	}
	if err := rate("--create-rate", c.CreateRate, false); err != nil {
		return err
	}
	if traitPart(c.Prefix) == "" {
		return fmt.Errorf("--prefix %q: give letters or digits", c.Prefix)
	}
	return nil
}

// query parses Query and adds limit=10 when it has no limit.
func (c MixedConfig) query() (url.Values, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(c.Query, "?"))
	if err != nil {
		return nil, fmt.Errorf("--query %q: %w", c.Query, err)
	}
	if len(q) == 0 {
		return nil, fmt.Errorf("--query %q: no parameters", c.Query)
	}
	if !q.Has("limit") {
		q.Set("limit", "10")
	}
	return q, nil
}

// traitPart makes s usable in a custom trait name: upper case letters,
// digits and underscores.
func traitPart(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, s), "_")
}

// OpResult is what a mixed run measured of one operation.
type OpResult struct {
	Result
	// Skipped says why the operation did not run (empty: it ran or was
	// not asked for).
	Skipped string
}

// MixedResult is what a mixed run measured.
type MixedResult struct {
	// Ops has one entry per operation of MixedOps.
	Ops map[string]*OpResult
	// Elapsed is the wall time of the run (until the last operation in
	// flight finished).
	Elapsed time.Duration
	// Held is the number of claims still held at the end, released after
	// the run (not measured).
	Held int
	// Hosts are the providers the compute hosts updated.
	Hosts []string
	// Heaps is the server's heap in use per metrics URL at the end of the
	// run (before the claims still held are released), when it could be
	// read.
	Heaps []Heap
}

// Heap is a server's heap in use as its /metrics reported it.
type Heap struct {
	URL   string
	Bytes float64 // 0 with Err
	Err   string
}

// RunMixed runs the mix of cfg and reports each operation.
func RunMixed(ctx context.Context, cfg MixedConfig, metricsURLs []string) (*MixedResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	query, _ := cfg.query()
	m := &mixedRun{cfg: cfg, query: query, stats: map[string]*opStats{}}
	for _, op := range MixedOps {
		m.stats[op] = &opStats{errors: map[string]int{}}
	}
	if err := m.setup(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	m.end = start.Add(cfg.Duration)
	// stop ends the waits of the workers that run at a rate, at the end
	// (a catalog change every 5 s must not hold the run 5 s longer).
	m.stop = make(chan struct{})
	endTimer := time.AfterFunc(cfg.Duration, func() { close(m.stop) })
	defer endTimer.Stop()
	m.releases = make(chan release, 1<<16)
	var workers, releasers sync.WaitGroup
	atomicN := int(float64(cfg.Schedulers)*cfg.AtomicShare + 0.5)
	if !m.atomicOK {
		atomicN = 0
	}
	for i := range cfg.Schedulers {
		workers.Go(func() { m.scheduler(ctx, i, i < atomicN) })
	}
	for i := range cfg.Schedulers {
		releasers.Go(func() { m.releaser(ctx, i) })
	}
	for i, rp := range m.hosts {
		workers.Go(func() { m.host(ctx, i, rp) })
	}
	if cfg.CatalogRate > 0 {
		workers.Go(func() { m.every(ctx, cfg.CatalogRate, OpCatalog, m.catalog) })
	}
	if cfg.CreateRate > 0 {
		workers.Go(func() { m.every(ctx, cfg.CreateRate, OpCreate, m.create) })
	}
	stopProgress := m.progress(start)
	workers.Wait()
	close(m.releases)
	releasers.Wait()
	stopProgress()
	res := &MixedResult{Ops: map[string]*OpResult{}, Elapsed: time.Since(start), Held: len(m.leftover), Hosts: m.hosts}
	res.Heaps = readHeaps(ctx, metricsURLs)
	for _, op := range MixedOps {
		res.Ops[op] = &OpResult{Result: m.stats[op].result(res.Elapsed)}
	}
	if !m.atomicOK && cfg.AtomicShare > 0 {
		res.Ops[OpAtomicClaim].Skipped = "the server has no atomic claim (POST " + client.ClaimPath + " answered 404: not allot): every scheduler queried and claimed"
	}
	m.cleanup(ctx)
	return res, nil
}

// opStats gathers one operation's outcomes from every worker.
type opStats struct {
	done      atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
	errors    map[string]int
	conflicts int
	retries   int
}

func (s *opStats) ok(d time.Duration) {
	s.done.Add(1)
	s.mu.Lock()
	s.latencies = append(s.latencies, d)
	s.mu.Unlock()
}

func (s *opStats) fail(err error) {
	s.mu.Lock()
	s.errors[errorKind(err)]++
	s.mu.Unlock()
}

func (s *opStats) conflict(retried bool) {
	s.mu.Lock()
	s.conflicts++
	if retried {
		s.retries++
	}
	s.mu.Unlock()
}

func (s *opStats) result(elapsed time.Duration) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Result{Ops: len(s.latencies), Errors: s.errors, Conflicts: s.conflicts, Retries: s.retries,
		Elapsed: elapsed, Latencies: slices.Clone(s.latencies)}
	slices.Sort(r.Latencies)
	return r
}

// release is a claim to release when it is due.
type release struct {
	consumer string
	due      time.Time
}

// mixedRun is one mixed run in progress.
type mixedRun struct {
	cfg      MixedConfig
	query    url.Values
	stats    map[string]*opStats
	end      time.Time
	stop     chan struct{} // closed at end
	atomicOK bool
	hosts    []string
	trait    string // the custom trait hosts toggle
	releases chan release
	mu       sync.Mutex
	leftover []string // claims still held at the end
	catalogN atomic.Int64
	createN  atomic.Int64
}

// client returns a new client of endpoint i % len(URLs) (Validate checked
// that every URL makes one).
func (m *mixedRun) client(i int) *client.Placement {
	p, _ := newClient(m.cfg.URLs, m.cfg.Token, i)
	return p
}

func (m *mixedRun) running() bool { return time.Now().Before(m.end) }

// setup checks every endpoint, finds the hosts' providers, creates the
// trait they toggle and finds out whether the server has atomic claims.
func (m *mixedRun) setup(ctx context.Context) error {
	for i, u := range m.cfg.URLs {
		if _, err := m.client(i).Version(ctx); err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
	}
	p := m.client(0)
	if m.cfg.Hosts > 0 {
		q := maps.Clone(m.query) // Set replaces the slice: the shared ones stay as they were
		q.Set("limit", strconv.Itoa(m.cfg.Hosts))
		c, err := p.AllocationCandidatesQuery(ctx, q)
		if err != nil {
			return fmt.Errorf("find the hosts' providers with --query: %w", err)
		}
		seen := map[string]bool{}
		for _, ar := range c.AllocationRequests {
			for _, rp := range slices.Sorted(maps.Keys(ar.Allocations)) {
				if !seen[rp] && len(m.hosts) < m.cfg.Hosts {
					seen[rp] = true
					m.hosts = append(m.hosts, rp)
				}
			}
		}
		if len(m.hosts) < m.cfg.Hosts {
			return fmt.Errorf("--hosts %d: the query finds only %d providers to update", m.cfg.Hosts, len(m.hosts))
		}
		m.trait = "CUSTOM_BENCH_" + traitPart(m.cfg.Prefix) + "_HOST"
		if _, err := p.CreateTrait(ctx, m.trait); err != nil {
			return fmt.Errorf("create trait %s: %w", m.trait, err)
		}
	}
	if m.cfg.AtomicShare > 0 {
		// An empty claim: allot refuses it (400), other servers do not
		// know the path (404).
		_, err := p.Do(ctx, http.MethodPost, client.ClaimPath, nil, map[string]any{})
		ae := (*client.APIError)(nil)
		switch {
		case err == nil:
			return errors.New("an empty atomic claim succeeded: is this a Placement endpoint?")
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			m.atomicOK = false
		case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
			m.atomicOK = true
		default:
			return fmt.Errorf("probe the atomic claim: %w", err)
		}
	}
	return nil
}

// scheduler loops query-then-claim (or atomic claims) for new consumers
// until the run ends, and hands each claim to the releasers.
func (m *mixedRun) scheduler(ctx context.Context, i int, atomicClaims bool) {
	p := m.client(i)
	for ctx.Err() == nil && m.running() {
		consumer := uuid.NewString()
		var ok bool
		if atomicClaims {
			ok = m.atomicClaim(ctx, p, consumer)
		} else {
			ok = m.queryClaim(ctx, p, consumer)
		}
		if ok {
			select {
			case m.releases <- release{consumer: consumer, due: time.Now().Add(m.cfg.Hold)}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// queryClaim asks for candidates and claims the first, asking again after
// a 409 at most Retries times.
func (m *mixedRun) queryClaim(ctx context.Context, p *client.Placement, consumer string) bool {
	qs, cs := m.stats[OpQuery], m.stats[OpClaim]
	for attempt := 0; ; attempt++ {
		t0 := time.Now()
		c, err := p.AllocationCandidatesQuery(ctx, m.query)
		if err != nil {
			qs.fail(err)
			return false
		}
		qs.ok(time.Since(t0))
		if len(c.AllocationRequests) == 0 {
			cs.fail(errNoCandidates)
			return false
		}
		t0 = time.Now()
		err = p.SetAllocations(ctx, consumer, client.AllocationWrite{
			Allocations: c.AllocationRequests[0].Allocations,
			ProjectID:   "bench", UserID: "bench", ConsumerType: "INSTANCE",
		})
		if err == nil {
			cs.ok(time.Since(t0))
			return true
		}
		ae := (*client.APIError)(nil)
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
			cs.fail(err)
			return false
		}
		retry := attempt < m.cfg.Retries && m.running()
		cs.conflict(retry)
		if !retry {
			cs.fail(gaveUpError{err})
			return false
		}
	}
}

// atomicClaim claims with allot's atomic claim, the same query.
func (m *mixedRun) atomicClaim(ctx context.Context, p *client.Placement, consumer string) bool {
	s := m.stats[OpAtomicClaim]
	body := map[string]any{
		"consumers": []client.ClaimConsumer{{UUID: consumer, ProjectID: "bench", UserID: "bench", ConsumerType: "INSTANCE"}},
		"query":     m.query.Encode(),
	}
	t0 := time.Now()
	_, err := p.Do(ctx, http.MethodPost, client.ClaimPath, nil, body)
	if err != nil {
		if ae := (*client.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusConflict {
			s.conflict(false)
		}
		s.fail(err)
		return false
	}
	s.ok(time.Since(t0))
	return true
}

// releaser releases claims when they are due. Claims due after the run
// are kept for cleanup; those due during it are released and measured,
// even if the releasers are behind.
func (m *mixedRun) releaser(ctx context.Context, i int) {
	p := m.client(i)
	s := m.stats[OpRelease]
	for r := range m.releases {
		if r.due.After(m.end) || ctx.Err() != nil {
			m.mu.Lock()
			m.leftover = append(m.leftover, r.consumer)
			m.mu.Unlock()
			continue
		}
		if wait := time.Until(r.due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		t0 := time.Now()
		if err := p.DeleteAllocations(ctx, r.consumer); err != nil {
			s.fail(err)
			m.mu.Lock()
			m.leftover = append(m.leftover, r.consumer)
			m.mu.Unlock()
			continue
		}
		s.ok(time.Since(t0))
	}
}

// cleanup releases the claims still held, unmeasured, so that the cloud
// is left as the run found it (but for its trait and provider changes),
// even when the run was interrupted (for at most a minute).
func (m *mixedRun) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	work := make(chan string)
	var wg sync.WaitGroup
	for i := range min(m.cfg.Schedulers, 8) {
		wg.Go(func() {
			p := m.client(i)
			for c := range work {
				_ = p.DeleteAllocations(ctx, c) // best effort: a 404 means it is gone
			}
		})
	}
	for _, c := range m.leftover {
		work <- c
	}
	close(work)
	wg.Wait()
}

// every runs op at rate per second until the run ends (a ticker: an
// operation slower than the period delays the next, it does not queue).
func (m *mixedRun) every(ctx context.Context, rate float64, name string, op func(context.Context, *client.Placement) error) {
	p := m.client(0)
	s := m.stats[name]
	period := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-m.stop:
			return
		case <-ctx.Done():
			return
		}
		if !m.running() {
			return
		}
		t0 := time.Now()
		if err := op(ctx, p); err != nil {
			s.fail(err)
			continue
		}
		s.ok(time.Since(t0))
	}
}

// catalog adds one custom trait (a catalog change).
func (m *mixedRun) catalog(ctx context.Context, p *client.Placement) error {
	name := fmt.Sprintf("CUSTOM_BENCH_%s_%d", traitPart(m.cfg.Prefix), m.catalogN.Add(1))
	_, err := p.CreateTrait(ctx, name)
	return err
}

// create adds one provider with an inventory.
func (m *mixedRun) create(ctx context.Context, p *client.Placement) error {
	rp, err := p.CreateProvider(ctx, client.NewProvider{Name: fmt.Sprintf("%s-new-%06d", m.cfg.Prefix, m.createN.Add(1))})
	if err != nil {
		return err
	}
	total, ratio := int64(64), 1.0
	_, err = p.SetInventories(ctx, rp.UUID, rp.Generation, map[string]client.InventorySpec{"VCPU": {Total: &total, AllocationRatio: &ratio}})
	return err
}

// host updates provider rp at HostRate, alternately its inventory (one
// class's reserved between its first value and one more) and its traits
// (the run's trait on and off), re-reading after a 409.
func (m *mixedRun) host(ctx context.Context, i int, rp string) {
	p := m.client(i)
	period := time.Duration(float64(time.Second) / m.cfg.HostRate)
	// Spread the hosts' first updates over one period.
	select {
	case <-time.After(time.Duration(rand.Int64N(int64(period) + 1))):
	case <-m.stop:
		return
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	base := int64(-1)
	// Odd hosts start with their traits, so that both kinds of update
	// run from the first period on.
	for n := i % 2; ctx.Err() == nil && m.running(); n++ {
		name := OpInventory
		update := func() error { return m.updateInventory(ctx, p, rp, &base) }
		if n%2 == 1 {
			name = OpTraits
			update = func() error { return m.updateTraits(ctx, p, rp) }
		}
		s := m.stats[name]
		t0 := time.Now()
		err := m.withRetries(s, update)
		if err != nil {
			s.fail(err)
		} else {
			s.ok(time.Since(t0))
		}
		select {
		case <-tick.C:
		case <-m.stop:
		case <-ctx.Done():
		}
	}
}

// withRetries runs update again after a 409 (a generation conflict), at
// most Retries times.
func (m *mixedRun) withRetries(s *opStats, update func() error) error {
	for attempt := 0; ; attempt++ {
		err := update()
		ae := (*client.APIError)(nil)
		if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusConflict {
			return err
		}
		retry := attempt < m.cfg.Retries
		s.conflict(retry)
		if !retry {
			return gaveUpError{err}
		}
	}
}

// updateInventory reads rp's inventories and writes them back with the
// reserved of the first class (by name) that has room toggled between
// its first value and one more: the host reports a change.
func (m *mixedRun) updateInventory(ctx context.Context, p *client.Placement, rp string, base *int64) error {
	invs, err := p.GetInventories(ctx, rp)
	if err != nil {
		return err
	}
	specs := map[string]client.InventorySpec{}
	toggled := false
	for _, class := range slices.Sorted(maps.Keys(invs.Inventories)) {
		inv := invs.Inventories[class]
		spec := inv.Spec()
		if !toggled && inv.Total > 1 {
			if *base < 0 {
				*base = min(inv.Reserved, inv.Total-2)
			}
			r := *base
			if inv.Reserved == *base {
				r = *base + 1
			}
			spec.Reserved = &r
			toggled = true
		}
		specs[class] = spec
	}
	if !toggled {
		return fmt.Errorf("provider %s has no inventory to change", rp)
	}
	_, err = p.SetInventories(ctx, rp, invs.Generation, specs)
	return err
}

// updateTraits reads rp's traits and writes them back with the run's
// trait added or removed.
func (m *mixedRun) updateTraits(ctx context.Context, p *client.Placement, rp string) error {
	tr, err := p.GetProviderTraits(ctx, rp)
	if err != nil {
		return err
	}
	traits := slices.DeleteFunc(slices.Clone(tr.Traits), func(t string) bool { return t == m.trait })
	if len(traits) == len(tr.Traits) {
		traits = append(traits, m.trait)
	}
	_, err = p.SetProviderTraits(ctx, rp, tr.Generation, traits)
	return err
}

// progress calls Config.Progress about once a second until stopped.
func (m *mixedRun) progress(start time.Time) (stop func()) {
	if m.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				counts := map[string]int{}
				for op, s := range m.stats {
					counts[op] = int(s.done.Load())
				}
				m.cfg.Progress(time.Since(start), counts)
			case <-done:
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
