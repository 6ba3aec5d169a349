package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
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
	clients := make([]*http.Client, cfg.Concurrency)
	bases := make([]string, cfg.Concurrency)
	for i := range clients {
		transport := &http.Transport{DisableKeepAlives: cfg.NewConnections, MaxIdleConnsPerHost: 1}
		defer transport.CloseIdleConnections()
		clients[i] = &http.Client{Transport: transport, Timeout: 60 * time.Second}
		bases[i] = strings.TrimRight(cfg.URLs[i%len(cfg.URLs)], "/") + "/allocation_candidates?"
	}
	return runWorkers(ctx, cfg.Concurrency, cfg.Duration, func(worker, n int) error {
		q := cfg.Queries[(worker+n)%len(cfg.Queries)]
		return queryOnce(ctx, clients[worker], bases[worker]+q, cfg)
	}), nil
}

// queryError is a non-200 answer.
type queryError struct {
	status int
	code   string
}

func (e *queryError) Error() string {
	if e.code != "" {
		return fmt.Sprintf("%d %s", e.status, e.code)
	}
	return fmt.Sprint(e.status)
}

func queryOnce(ctx context.Context, hc *http.Client, url string, cfg QueryConfig) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", cfg.Token)
	req.Header.Set("OpenStack-API-Version", "placement "+cfg.Version)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "allot-bench")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Errors []struct {
				Code string `json:"code"`
			} `json:"errors"`
		}
		qe := &queryError{status: resp.StatusCode}
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body) == nil && len(body.Errors) > 0 {
			qe.code = body.Errors[0].Code
		}
		return qe
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
