package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"allot/internal/client"
)

// QueryConfig describes a run of allocation-candidates queries only.
type QueryConfig struct {
	// URLs are the Placement endpoints; worker i uses URLs[i % len(URLs)].
	URLs []string
	// Token is sent as X-Auth-Token.
	Token string
	// Version is the Placement microversion asked for (default 1.39).
	Version string
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Duration is how long the workers run.
	Duration time.Duration
	// Queries are query strings of GET /allocation_candidates; each worker
	// sends them in turn.
	Queries []string
	// NewConnections opens a new connection for every request, as a client
	// without keep-alive does; otherwise each worker keeps its connection.
	NewConnections bool
}

// RunQueries sends the queries until Duration ends and measures each
// answer from the request to the last byte of the body. An answer other
// than 200 is an error, counted by status and Placement error code.
func RunQueries(ctx context.Context, cfg QueryConfig) (Result, error) {
	if len(cfg.URLs) == 0 {
		return Result{}, errors.New("no Placement URL")
	}
	if len(cfg.Queries) == 0 {
		return Result{}, errors.New("no query to send")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Version == "" {
		cfg.Version = "1.39"
	}
	queries := make([]url.Values, len(cfg.Queries))
	for i, q := range cfg.Queries {
		v, err := url.ParseQuery(q)
		if err != nil {
			return Result{}, fmt.Errorf("query %q: %w", q, err)
		}
		queries[i] = v
	}
	clients := make([]*client.Placement, cfg.Concurrency)
	for i := range clients {
		transport := &http.Transport{DisableKeepAlives: cfg.NewConnections, MaxIdleConnsPerHost: 1}
		defer transport.CloseIdleConnections()
		c, err := client.NewPlacement(cfg.URLs[i%len(cfg.URLs)], client.Options{
			Token: cfg.Token, Version: cfg.Version, UserAgent: "allot-bench",
			HTTPClient: &http.Client{Transport: transport, Timeout: 60 * time.Second},
		})
		if err != nil {
			return Result{}, err
		}
		clients[i] = c
	}
	res := runWorkers(ctx, cfg.Concurrency, cfg.Duration, func(worker, n int) outcome {
		_, err := clients[worker].Do(ctx, http.MethodGet, "/allocation_candidates", queries[(worker+n)%len(queries)], nil)
		return outcome{err: err}
	})
	res.Full = false
	return res, nil
}
