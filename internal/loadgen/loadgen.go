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

// Mode is how a claims run claims.
type Mode string

// The modes of a claims run.
const (
	// ModeRandom claims on a random provider of the run's, one PUT
	// /allocations/{consumer} per claim, without asking for candidates.
	ModeRandom Mode = "random"
	// ModeQuery is a scheduler's query-then-claim: GET
	// /allocation_candidates, pick a candidate (Config.Pick), PUT its
	// allocations; on a 409 the scheduler asks again and retries, at most
	// Config.Retries times.
	ModeQuery Mode = "query"
	// ModeAtomic is one call to allot's atomic claim (POST
	// /allot/v1/claims) with the query ModeQuery would send: the server
	// chooses and claims in one transaction and retries on its side.
	ModeAtomic Mode = "atomic"
)

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeRandom, ModeQuery, ModeAtomic:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: use random, query or atomic", s)
}

// Config describes one load run.
type Config struct {
	// URLs are the Placement endpoints; worker i uses URLs[i % len(URLs)].
	URLs []string
	// Token is sent as X-Auth-Token (admin rights are needed for setup).
	Token string
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Duration is how long the workers run (at most, with UntilFull).
	Duration time.Duration
	// Class and Amount are what each claim takes on one provider.
	Class  string
	Amount int64
	// Mode is how each claim is made (default ModeRandom).
	Mode Mode
	// CandidateLimit is the limit of each candidates query (default 10).
	CandidateLimit int
	// Pick is how ModeQuery chooses among the candidates: uniformly at
	// random among the first Pick (1, the default: the first, as a
	// scheduler that takes its best-weighed host does).
	Pick int
	// Retries bounds how often ModeQuery asks again and retries a claim
	// refused with a 409 before it gives up on it (0: never).
	Retries int
	// UntilFull ends a worker when the cloud is full for it (ModeQuery:
	// no candidate left; ModeAtomic: the claim answers that nothing
	// fits), and the run when every worker has ended or Duration passed.
	UntilFull bool
	// Strategy is the atomic claim's candidate order (default, pack,
	// spread, random; empty: the server's).
	Strategy string
}

// Result is what a run measured.
type Result struct {
	// Ops counts successful operations (a claim, with its queries and
	// retries if any).
	Ops int
	// Errors counts failed operations by kind ("409 placement.concurrent_update",
	// "503", "connection refused", ...): a claim that gave up.
	Errors map[string]int
	// Conflicts counts the 409 answers to claims the client received,
	// retried or not (a worker's last "nothing fits" with UntilFull
	// aside: that is how it learns that the cloud is full).
	Conflicts int
	// Retries counts the claims ModeQuery sent again after a 409.
	Retries int
	// Full is set when every worker ended because the cloud was full for
	// it (UntilFull), not because Duration passed.
	Full bool
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

// Failed is the number of failed operations.
func (r Result) Failed() int {
	n := 0
	for _, k := range r.Errors {
		n += k
	}
	return n
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
	if r.Conflicts > 0 || r.Retries > 0 {
		fmt.Fprintf(&b, ", %d conflicts (409) seen, %d retries", r.Conflicts, r.Retries)
	}
	if r.Full {
		b.WriteString(", ended when full")
	}
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

// Cloud is the providers a run claims on.
type Cloud struct {
	// Providers are their UUIDs.
	Providers []string
	// Aggregate holds them all and no other provider: the candidates
	// queries of the run name it (member_of), so that runs on fresh
	// providers in the same deployment do not see each other's.
	Aggregate string
	// Total is each provider's inventory of the class.
	Total int64
}

// Setup creates n providers named prefix-NNNNN, each with an inventory of
// total units of class (allocation ratio 1) and in a new aggregate of
// their own, through the first endpoint.
func Setup(ctx context.Context, cfg Config, n int, total int64, prefix string) (Cloud, error) {
	cloud := Cloud{Providers: make([]string, n), Aggregate: uuid.NewString(), Total: total}
	p, err := newClient(cfg.URLs, cfg.Token, 0)
	if err != nil {
		return cloud, err
	}
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
			invs, err := p.SetInventories(ctx, rp.UUID, rp.Generation, map[string]client.InventorySpec{
				cfg.Class: {Total: &total, AllocationRatio: &ratio},
			})
			if err != nil {
				errs <- fmt.Errorf("set inventory of %s: %w", rp.UUID, err)
				return
			}
			if _, err := p.SetProviderAggregates(ctx, rp.UUID, &invs.Generation, []string{cloud.Aggregate}); err != nil {
				errs <- fmt.Errorf("set aggregate of %s: %w", rp.UUID, err)
				return
			}
			cloud.Providers[i] = rp.UUID
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return cloud, err
	}
	return cloud, nil
}

// Remaining counts the claims of cfg that still fit on the cloud: per
// provider, its free units of the class over Amount.
func Remaining(ctx context.Context, cfg Config, cloud Cloud) (int64, error) {
	p, err := newClient(cfg.URLs, cfg.Token, 0)
	if err != nil {
		return 0, err
	}
	if cfg.Amount <= 0 {
		return 0, errors.New("the claim amount must be positive")
	}
	var left int64
	for _, rp := range cloud.Providers {
		u, err := p.GetProviderUsages(ctx, rp)
		if err != nil {
			return 0, fmt.Errorf("usages of %s: %w", rp, err)
		}
		left += (cloud.Total - u.Usages[cfg.Class]) / cfg.Amount
	}
	return left, nil
}

// newClient returns worker's own keep-alive client of the Placement
// endpoint urls[worker % len(urls)]: every load tool spreads its workers
// over the replicas this way.
func newClient(urls []string, token string, worker int) (*client.Placement, error) {
	if len(urls) == 0 {
		return nil, errors.New("no Placement URL")
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return client.NewPlacement(urls[worker%len(urls)], client.Options{
		Token: token, Version: "1.39", UserAgent: "allot-bench",
		HTTPClient: &http.Client{Transport: transport, Timeout: 60 * time.Second},
	})
}

// RunClaims claims Amount of Class for new consumers on the cloud until
// Duration ends (or, with UntilFull, the cloud is full), the way Mode
// says.
func RunClaims(ctx context.Context, cfg Config, cloud Cloud) (Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeRandom
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return Result{}, err
	}
	if cfg.Mode == ModeRandom && len(cloud.Providers) == 0 {
		return Result{}, errors.New("no providers to claim on")
	}
	if cfg.Mode == ModeRandom && cfg.UntilFull {
		return Result{}, errors.New("claims on random providers cannot tell when the cloud is full: use the query or atomic mode")
	}
	if cfg.CandidateLimit <= 0 {
		cfg.CandidateLimit = 10
	}
	if cfg.Pick <= 0 {
		cfg.Pick = 1
	}
	clients := make([]*client.Placement, cfg.Concurrency)
	for i := range clients {
		c, err := newClient(cfg.URLs, cfg.Token, i)
		if err != nil {
			return Result{}, err
		}
		if _, err := c.Version(ctx); err != nil {
			return Result{}, fmt.Errorf("%s: %w", cfg.URLs[i%len(cfg.URLs)], err)
		}
		clients[i] = c
	}
	return runWorkers(ctx, cfg.Concurrency, cfg.Duration, func(worker, _ int) outcome {
		return claimOnce(ctx, clients[worker], cfg, cloud)
	}), nil
}

// outcome is what one operation of a worker came to.
type outcome struct {
	// err is why it failed (nil: it succeeded).
	err error
	// full ends the worker: the cloud is full for it.
	full bool
	// conflicts and retries count the 409s seen and the retries made.
	conflicts, retries int
}

// runWorkers runs op in concurrency workers until d has passed (or every
// worker was told the cloud is full) and gathers the latencies of the
// operations that succeeded and the failures by kind. Workers start no new
// operation after that but finish the one in flight, so every operation's
// outcome is known (and counted).
func runWorkers(ctx context.Context, concurrency int, d time.Duration, op func(worker, n int) outcome) Result {
	end := time.Now().Add(d)
	var mu sync.Mutex
	res := Result{Errors: map[string]int{}, Full: true}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := map[string]int{}
			var conflicts, retries int
			full := false
			for n := 0; ctx.Err() == nil && time.Now().Before(end); n++ {
				t0 := time.Now()
				o := op(i, n)
				conflicts += o.conflicts
				retries += o.retries
				if o.full {
					full = true
					break
				}
				if o.err != nil {
					errs[errorKind(o.err)]++
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
			res.Conflicts += conflicts
			res.Retries += retries
			res.Full = res.Full && full
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res
}

// claimOnce makes one claim for a new consumer the way cfg.Mode says.
func claimOnce(ctx context.Context, p *client.Placement, cfg Config, cloud Cloud) outcome {
	consumer := uuid.NewString()
	resources := []client.Resource{{Class: cfg.Class, Amount: cfg.Amount}}
	query := client.CandidateQuery{Groups: []client.RequestGroup{{Resources: resources, MemberOf: []string{cloud.Aggregate}}}, Limit: cfg.CandidateLimit}
	switch cfg.Mode {
	case ModeAtomic:
		_, err := p.Claim(ctx, client.ClaimRequest{
			Consumers: []client.ClaimConsumer{{UUID: consumer, ProjectID: "bench", UserID: "bench", ConsumerType: "INSTANCE"}},
			Query:     query,
			Strategy:  cfg.Strategy,
		})
		if err == nil {
			return outcome{}
		}
		if ae := (*client.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusConflict {
			if cfg.UntilFull && ae.Code == codeNoFit {
				return outcome{full: true}
			}
			return outcome{err: err, conflicts: 1}
		}
		return outcome{err: err}
	case ModeQuery:
		var o outcome
		for {
			c, err := p.AllocationCandidatesQuery(ctx, query.Values())
			if err != nil {
				o.err = err
				return o
			}
			if len(c.AllocationRequests) == 0 {
				if cfg.UntilFull {
					o.full = true
				} else {
					o.err = errNoCandidates
				}
				return o
			}
			pick := c.AllocationRequests[rand.IntN(min(cfg.Pick, len(c.AllocationRequests)))]
			err = p.SetAllocations(ctx, consumer, client.AllocationWrite{
				Allocations: pick.Allocations,
				ProjectID:   "bench", UserID: "bench", ConsumerType: "INSTANCE",
			})
			ae := (*client.APIError)(nil)
			if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusConflict {
				o.err = err
				return o
			}
			o.conflicts++
			if o.retries == cfg.Retries {
				o.err = gaveUpError{err}
				return o
			}
			o.retries++
		}
	}
	rp := cloud.Providers[rand.IntN(len(cloud.Providers))]
	err := p.SetAllocations(ctx, consumer, client.AllocationWrite{
		Allocations: map[string]map[string]int64{rp: {cfg.Class: cfg.Amount}},
		ProjectID:   "bench", UserID: "bench", ConsumerType: "INSTANCE",
	})
	if ae := (*client.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return outcome{err: err, conflicts: 1}
	}
	return outcome{err: err}
}

// codeNoFit is the atomic claim's error code when nothing fits.
const codeNoFit = "allot.claim.no_fit"

var errNoCandidates = errors.New("no allocation candidates")

// gaveUpError is a query-then-claim that was refused with a 409 once more
// than Config.Retries allows.
type gaveUpError struct{ last error }

func (e gaveUpError) Error() string { return "gave up after retries: " + e.last.Error() }
func (e gaveUpError) Unwrap() error { return e.last }

// errorKind names a failure for the error counts: the HTTP status and
// error code for API errors, else the cause.
func errorKind(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		kind := fmt.Sprint(ae.Status)
		if ae.Code != "" {
			kind += " " + ae.Code
		}
		if errors.As(err, new(gaveUpError)) {
			kind = "gave up after retries: " + kind
		}
		return kind
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
