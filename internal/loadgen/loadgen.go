// Package loadgen is allot's own load tool (run as "allot bench"): it
// drives Placement endpoints over HTTP with the request patterns of a
// scheduler (claims, candidate queries), spreading workers over several
// endpoints (replicas), and reports throughput, latency percentiles and
// errors by kind.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"allot/internal/client"
)

// Config describes one load run.
type Config struct {
	// URLs are the Placement endpoints; worker i uses URLs[i % len(URLs)].
	URLs []string
	// Token is sent as X-Auth-Token (admin rights are needed for setup).
	Token string
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Duration is how long the workers run.
	Duration time.Duration
	// Class and Amount are what each claim takes on one provider.
	Class  string
	Amount int64
	// Candidates makes every claim a scheduler decision: query
	// allocation candidates (limit CandidateLimit) on the worker's endpoint,
	// then claim the first one. Otherwise claims go to random providers.
	Candidates     bool
	CandidateLimit int
	// Atomic makes every claim one call to allot's atomic claim
	// (POST /allot/v1/claims) with the candidates query Candidates would
	// send: the server chooses and claims in one transaction.
	Atomic bool
	// Strategy is the atomic claim's candidate order (default, pack,
	// spread, random; empty: the server's).
	Strategy string
}

// Result is what a run measured.
type Result struct {
	// Ops counts successful operations (a claim, with its query if any).
	Ops int
	// Errors counts failed operations by kind ("409 placement.concurrent_update",
	// "503", "connection refused", ...).
	Errors map[string]int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Latencies of the successful operations, sorted.
	Latencies []time.Duration
}

// Rate is successful operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0-100) of the latencies.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies)-1) * p / 100)
	return r.Latencies[i]
}

// String is a one-paragraph report.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ops in %.1fs: %.0f ops/s, latency p50 %s p90 %s p99 %s",
		r.Ops, r.Elapsed.Seconds(), r.Rate(), round(r.Percentile(50)), round(r.Percentile(90)), round(r.Percentile(99)))
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "\n  errors %s: %d", k, r.Errors[k])
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Setup creates n providers named prefix-NNNNN, each with an inventory of
// total units of class (allocation ratio 1), through the first endpoint,
// and returns their UUIDs.
func Setup(ctx context.Context, cfg Config, n int, total int64, prefix string) ([]string, error) {
	p, err := placementClient(cfg, 0)
	if err != nil {
		return nil, err
	}
	uuids := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rp, err := p.CreateProvider(ctx, client.NewProvider{Name: fmt.Sprintf("%s-%05d", prefix, i)})
			if err != nil {
				errs <- fmt.Errorf("create provider %d: %w", i, err)
				return
			}
			ratio := 1.0
			if _, err := p.SetInventories(ctx, rp.UUID, rp.Generation, map[string]client.InventorySpec{
				cfg.Class: {Total: &total, AllocationRatio: &ratio},
			}); err != nil {
				errs <- fmt.Errorf("set inventory of %s: %w", rp.UUID, err)
				return
			}
			uuids[i] = rp.UUID
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return uuids, nil
}

func placementClient(cfg Config, worker int) (*client.Placement, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("no Placement URL")
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return client.NewPlacement(cfg.URLs[worker%len(cfg.URLs)], client.Options{
		Token: cfg.Token, Version: "1.39", UserAgent: "allot-bench",
		HTTPClient: &http.Client{Transport: transport, Timeout: 30 * time.Second},
	})
}

// RunClaims claims Amount of Class for new consumers until Duration ends:
// on random providers among providers, or (Candidates) on a candidate of
// a query, each claim one PUT /allocations/{consumer}; or (Atomic) with
// one POST /allot/v1/claims per claim.
func RunClaims(ctx context.Context, cfg Config, providers []string) (Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if !cfg.Candidates && !cfg.Atomic && len(providers) == 0 {
		return Result{}, errors.New("no providers to claim on")
	}
	clients := make([]*client.Placement, cfg.Concurrency)
	for i := range clients {
		c, err := placementClient(cfg, i)
		if err != nil {
			return Result{}, err
		}
		if _, err := c.Version(ctx); err != nil {
			return Result{}, fmt.Errorf("%s: %w", cfg.URLs[i%len(cfg.URLs)], err)
		}
		clients[i] = c
	}
	return runWorkers(ctx, cfg.Concurrency, cfg.Duration, func(worker, _ int) error {
		return claimOnce(ctx, clients[worker], cfg, providers)
	}), nil
}

// runWorkers runs op in concurrency workers until d has passed and gathers
// the latencies of the operations that succeeded and the failures by kind.
// Workers start no new operation after that but finish the one in flight,
// so every operation's outcome is known (and counted).
func runWorkers(ctx context.Context, concurrency int, d time.Duration, op func(worker, n int) error) Result {
	end := time.Now().Add(d)
	var mu sync.Mutex
	res := Result{Errors: map[string]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := map[string]int{}
			for n := 0; ctx.Err() == nil && time.Now().Before(end); n++ {
				t0 := time.Now()
				if err := op(i, n); err != nil {
					errs[errorKind(err)]++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.Ops += len(lat)
			res.Latencies = append(res.Latencies, lat...)
			for k, n := range errs {
				res.Errors[k] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res
}

func claimOnce(ctx context.Context, p *client.Placement, cfg Config, providers []string) error {
	limit := cfg.CandidateLimit
	if limit <= 0 {
		limit = 10
	}
	if cfg.Atomic {
		_, err := p.Claim(ctx, client.ClaimRequest{
			Consumers: []client.ClaimConsumer{{UUID: uuid.NewString(), ProjectID: "bench", UserID: "bench", ConsumerType: "INSTANCE"}},
			Query:     client.CandidateQuery{Groups: []client.RequestGroup{{Resources: []client.Resource{{Class: cfg.Class, Amount: cfg.Amount}}}}, Limit: limit},
			Strategy:  cfg.Strategy,
		})
		return err
	}
	var rp string
	if cfg.Candidates {
		c, err := p.AllocationCandidatesQuery(ctx, map[string][]string{
			"resources": {fmt.Sprintf("%s:%d", cfg.Class, cfg.Amount)}, "limit": {fmt.Sprint(limit)}})
		if err != nil {
			return err
		}
		if len(c.AllocationRequests) == 0 {
			return errNoCandidates
		}
		for id := range c.AllocationRequests[rand.IntN(len(c.AllocationRequests))].Allocations {
			rp = id
		}
	} else {
		rp = providers[rand.IntN(len(providers))]
	}
	return p.SetAllocations(ctx, uuid.NewString(), client.AllocationWrite{
		Allocations: map[string]map[string]int64{rp: {cfg.Class: cfg.Amount}},
		ProjectID:   "bench", UserID: "bench", ConsumerType: "INSTANCE",
	})
}

var errNoCandidates = errors.New("no allocation candidates")

// errorKind names a failure for the error counts: the HTTP status and
// error code for API errors, else the cause.
func errorKind(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		if ae.Code != "" {
			return fmt.Sprintf("%d %s", ae.Status, ae.Code)
		}
		return fmt.Sprint(ae.Status)
	}
	if errors.Is(err, errNoCandidates) {
		return "no candidates"
	}
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "EOF", "timeout"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	return msg
}
