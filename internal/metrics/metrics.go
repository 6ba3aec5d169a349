// Package metrics owns every Prometheus series allot exports: their names,
// types, labels and help text live here and nowhere else. A server creates
// one Metrics (on a registry of its own, so that tests may start many
// servers in one process) and hands it to the parts that count: the API
// adapter, the placement and bare-metal services and the store. Every
// method works on a nil *Metrics and does nothing, so a part built
// without metrics (a test, a CLI command) pays nothing and needs no
// guards.
//
// Series that describe state (the index, the pool, capacity, bare-metal
// allocations) are read at scrape time from Sources, so that writes and
// searches pay nothing for them.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"allot/internal/model"
)

// namespace prefixes allot's own series.
const namespace = "allot"

// Label values of the series (bounded sets: every label value a series
// takes is one of these, a route pattern of a route table, an HTTP status
// or a resource class).
const (
	// Operations of allot_allocation_writes_total and
	// allot_allocation_conflicts_total.
	OpAllocations = "allocations" // PUT /allocations/{c}, POST /allocations
	OpDelete      = "delete"      // DELETE /allocations/{c}
	OpReshape     = "reshape"     // POST /reshaper
	OpClaim       = "claim"       // the atomic claim
	OpBaremetal   = "baremetal"   // a bare-metal allocation bound to its node

	// Conflict kinds.
	ConflictConcurrentUpdate = model.CodeConcurrentUpdate // a generation moved under the writer
	ConflictCapacity         = "capacity"                 // the write does not fit the inventories
	ConflictNoFit            = "no_fit"                   // a claim found no candidate that fits
	ConflictOther            = "other"                    // any other 409

	// Reasons of allot_candidates_truncated_total.
	TruncatedCap    = "cap"    // --max-candidates stopped the search
	TruncatedBudget = "budget" // --candidate-budget (or the request's end) stopped it

	// Unrouted is the route label of a request that matched no route (or
	// was refused before routing: authentication, version negotiation).
	Unrouted = "unrouted"
)

// Metrics is one server's series. The zero of a *Metrics (nil) counts
// nothing.
type Metrics struct {
	reg *prometheus.Registry

	httpDuration *prometheus.HistogramVec
	httpInFlight *prometheus.GaugeVec

	candDuration  prometheus.Histogram
	candReturned  prometheus.Histogram
	candTruncated *prometheus.CounterVec

	writes       *prometheus.CounterVec
	conflicts    *prometheus.CounterVec
	claimRetries prometheus.Counter

	catchUp *prometheus.HistogramVec

	txDuration *prometheus.HistogramVec
	txRetries  prometheus.Counter
	dbErrors   *prometheus.CounterVec

	postToActive prometheus.Histogram
}

// New returns the series of one server, registered on a registry of their
// own together with Go's runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "Time to answer an API request, by API, route pattern, method and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"api", "route", "method", "status"})
	m.httpInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "http_requests_in_flight",
		Help: "API requests being answered, by API.",
	}, []string{"api"})
	m.candDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "candidates_search_duration_seconds",
		Help:    "Time of one allocation-candidates search in the in-memory index (GET /allocation_candidates, a claim's search).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.candReturned = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "candidates_returned",
		Help:    "Allocation requests one search returned (after limit).",
		Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000},
	})
	m.candTruncated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "candidates_truncated_total",
		Help: "Searches stopped before they generated every candidate, by reason: cap (--max-candidates) or budget (--candidate-budget, or the request ended).",
	}, []string{"reason"})
	m.writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "allocation_writes_total",
		Help: "Committed writes of allocations, by operation: allocations (PUT/POST), delete, reshape, claim, baremetal.",
	}, []string{"op"})
	m.conflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "allocation_conflicts_total",
		Help: "Writes of allocations refused with 409, by operation and kind: placement.concurrent_update, capacity, no_fit or other.",
	}, []string{"op", "kind"})
	m.claimRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "claim_retries_total",
		Help: "Transactions of atomic claims beyond each claim's first (a candidate was taken meanwhile, or a wait for busy candidates).",
	})
	m.catchUp = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "engine_catchup_duration_seconds",
		Help:    "Time to bring the in-memory index up to the store's revision, by kind: incremental (the change feed) or full (a reload).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
	m.txDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "store_transaction_duration_seconds",
		Help:    "Time of one store transaction attempt, begin to commit or rollback, by kind (read or write) and outcome (ok, or error: rolled back, whether on purpose or not).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"kind", "outcome"})
	m.txRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "store_transaction_retries_total",
		Help: "Write transactions retried after a transient conflict (deadlock, serialization failure, busy SQLite file).",
	})
	m.dbErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "store_errors_total",
		Help: "Database errors a store operation returned (after its retries), by kind: unavailable (connection lost, database down), storage (disk full, read-only, I/O) or other.",
	}, []string{"kind"})
	m.postToActive = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "baremetal_allocation_active_seconds",
		Help:    "Time from a bare-metal allocation's POST to its binding to a node (state active), on the replica whose worker bound it.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	})
	m.reg.MustRegister(m.httpDuration, m.httpInFlight, m.candDuration, m.candReturned, m.candTruncated,
		m.writes, m.conflicts, m.claimRetries, m.catchUp, m.txDuration, m.txRetries, m.dbErrors, m.postToActive,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the server's /metrics exposes.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// HTTP counts the requests of one API (label api).
type HTTP struct {
	duration prometheus.ObserverVec
	inFlight prometheus.Gauge
}

// HTTP returns the request series of the API named name (placement or
// baremetal); nil on a nil Metrics.
func (m *Metrics) HTTP(name string) *HTTP {
	if m == nil {
		return nil
	}
	return &HTTP{
		duration: m.httpDuration.MustCurryWith(prometheus.Labels{"api": name}),
		inFlight: m.httpInFlight.WithLabelValues(name),
	}
}

// Start counts a request in flight; call the returned function with the
// matched route pattern (Unrouted when none), the method and the status
// when it is answered.
func (h *HTTP) Start() func(route, method string, status int) {
	if h == nil {
		return func(string, string, int) {}
	}
	start := time.Now()
	h.inFlight.Inc()
	return func(route, method string, status int) {
		if route == "" {
			route = Unrouted
		}
		h.duration.WithLabelValues(route, methodLabel(method), statusLabel(status)).Observe(time.Since(start).Seconds())
		h.inFlight.Dec() // last: a scrape that sees none in flight sees every duration
	}
}

// methodLabel bounds the method label: a client may send any token.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// statusLabel formats a status; statuses are three digits.
func statusLabel(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return strconv.Itoa(s)
}

// Search records one allocation-candidates search: its duration, the
// requests it returned, and why it stopped early (TruncatedCap,
// TruncatedBudget, or "" when it did not).
func (m *Metrics) Search(d time.Duration, returned int, truncated string) {
	if m == nil {
		return
	}
	m.candDuration.Observe(d.Seconds())
	m.candReturned.Observe(float64(returned))
	if truncated != "" {
		m.candTruncated.WithLabelValues(truncated).Inc()
	}
}

// Wrote counts a committed write of allocations by operation op.
func (m *Metrics) Wrote(op string) {
	if m == nil {
		return
	}
	m.writes.WithLabelValues(op).Inc()
}

// Conflict counts a write of allocations by operation op refused with a
// 409 of kind (ConflictConcurrentUpdate, ConflictCapacity, ConflictNoFit
// or ConflictOther).
func (m *Metrics) Conflict(op, kind string) {
	if m == nil {
		return
	}
	m.conflicts.WithLabelValues(op, kind).Inc()
}

// ClaimRetries adds a claim's transactions beyond its first.
func (m *Metrics) ClaimRetries(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.claimRetries.Add(float64(n))
}

// CatchUp records one catch-up of the index: full or incremental.
func (m *Metrics) CatchUp(full bool, d time.Duration) {
	if m == nil {
		return
	}
	kind := "incremental"
	if full {
		kind = "full"
	}
	m.catchUp.WithLabelValues(kind).Observe(d.Seconds())
}

// Tx records one transaction attempt of kind "read" or "write".
func (m *Metrics) Tx(kind string, d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.txDuration.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// TxRetry counts a retried write transaction.
func (m *Metrics) TxRetry() {
	if m == nil {
		return
	}
	m.txRetries.Inc()
}

// Kinds of allot_store_errors_total.
const (
	DBUnavailable = "unavailable"
	DBStorage     = "storage"
	DBOther       = "other"
)

// DBError counts a database error of kind DBUnavailable, DBStorage or
// DBOther.
func (m *Metrics) DBError(kind string) {
	if m == nil {
		return
	}
	m.dbErrors.WithLabelValues(kind).Inc()
}

// Active records a bare-metal allocation bound to its node, created at
// created.
func (m *Metrics) Active(created time.Time) {
	if m == nil || created.IsZero() {
		return
	}
	m.postToActive.Observe(time.Since(created).Seconds())
}

// scrapeTimeout bounds the store queries of one scrape.
const scrapeTimeout = 5 * time.Second

// scrapeContext is the context of a scrape's store queries.
func scrapeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), scrapeTimeout)
}
