package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources are what a scrape reads, each when set: state the server keeps
// anyway (the index, the pool), read at scrape time so that searches and
// writes pay nothing for it.
type Sources struct {
	// EngineRevision is the store revision the in-memory index reflects.
	EngineRevision func() int64
	// StoreRevision is the store's latest committed revision.
	StoreRevision func(ctx context.Context) (int64, error)
	// CatchUp brings the index up to the store's revision, after the
	// revisions are read (so that the lag says how far behind the index
	// was) and before the index's series are read (so that they describe
	// the store's state).
	CatchUp func(ctx context.Context) error
	// Providers is the number of providers in the index.
	Providers func() int
	// Pool describes the store's connection pool.
	Pool func() Pool
	// Capacity calls yield for every inventory of every provider in the
	// index (nested children and sharing providers included).
	Capacity func(yield func(Capacity))
	// PerProvider exports the openstack_placement_resource_* series, one
	// per provider and class; off on clouds too large for that.
	PerProvider bool
	// PerProviderMax, when positive, leaves those series out of a scrape
	// while the index holds more providers than this (Providers must be
	// set): four series per inventory cost a scrape about a second of CPU
	// at 10,000 providers and ten at 100,000, longer than Prometheus's
	// default scrape timeout, which would lose every other series too.
	// allot_metrics_per_provider_omitted says when they are left out.
	PerProviderMax int
	// Allocations counts the bare-metal allocations.
	Allocations func(ctx context.Context) (AllocationCounts, error)
}

// Pool is a connection pool's state.
type Pool struct {
	InUse, Idle, Max int
	// WaitCount is how many times a caller waited for a connection,
	// WaitSeconds how long in total.
	WaitCount   int64
	WaitSeconds float64
}

// Capacity is one inventory of one provider, as the openstack-exporter
// series describe it.
type Capacity struct {
	// Provider is the provider's name (openstack-exporter's hostname).
	Provider string
	// Class is the resource class (its resourcetype).
	Class                  string
	Total, Reserved, Usage int64
	AllocationRatio        float64
}

// AllocationCounts are the bare-metal allocations by state, and how many
// of the allocating ones wait for a worker (none holds them, or its lease
// ran out).
type AllocationCounts struct {
	ByState map[string]int64
	Queued  int64
}

// allocationStates are the states always exported (0 when none), so that
// a series does not vanish when its last allocation leaves the state.
var allocationStates = []string{"allocating", "active", "error"}

// sourceCollector exports Sources at scrape time.
type sourceCollector struct {
	src Sources

	engineRev, storeRev, lag, providers *prometheus.Desc
	poolInUse, poolIdle, poolMax        *prometheus.Desc
	poolWaits, poolWaitSeconds          *prometheus.Desc
	total, usage, reserved, ratio       *prometheus.Desc
	allocs, queue                       *prometheus.Desc
	scrapeErrors, perProviderOmitted    *prometheus.Desc
}

// capacityPrefix is openstack-exporter's prefix of its Placement series.
const capacityPrefix = "openstack_placement_"

// Watch registers the scrape-time series of src.
func (m *Metrics) Watch(src Sources) {
	if m == nil {
		return
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	capLabels := []string{"hostname", "resourcetype"}
	m.reg.MustRegister(&sourceCollector{
		src:                src,
		engineRev:          d("allot_engine_revision", "Store revision the in-memory candidate index reflects."),
		storeRev:           d("allot_store_revision", "Latest committed store revision."),
		lag:                d("allot_engine_lag_revisions", "Store revisions the index had not applied when the scrape began (it catches up before each search and each scrape)."),
		providers:          d("allot_engine_providers", "Resource providers in the in-memory index."),
		poolInUse:          d("allot_store_pool_connections_in_use", "Store connections in use."),
		poolIdle:           d("allot_store_pool_connections_idle", "Idle store connections."),
		poolMax:            d("allot_store_pool_connections_max", "Most store connections the pool opens (0: no limit)."),
		poolWaits:          d("allot_store_pool_waits_total", "Times a transaction waited for a free store connection."),
		poolWaitSeconds:    d("allot_store_pool_wait_seconds_total", "Time transactions waited for a free store connection."),
		total:              d(capacityPrefix+"resource_total", "Inventory total of a resource class on a provider (openstack-exporter's series).", capLabels...),
		usage:              d(capacityPrefix+"resource_usage", "Amount of a resource class allocated on a provider (openstack-exporter's series).", capLabels...),
		reserved:           d(capacityPrefix+"resource_reserved", "Reserved amount of a resource class on a provider (openstack-exporter's series).", capLabels...),
		ratio:              d(capacityPrefix+"resource_allocation_ratio", "Allocation ratio of a resource class on a provider (openstack-exporter's series).", capLabels...),
		allocs:             d("allot_baremetal_allocations", "Bare-metal allocations by state.", "state"),
		queue:              d("allot_baremetal_queue_depth", "Bare-metal allocations waiting for a worker (allocating, held by no live lease)."),
		perProviderOmitted: d("allot_metrics_per_provider_omitted", "1 when this scrape leaves out the openstack_placement_resource_* series because the cloud has more providers than --metrics-per-provider-max, else 0."),
		scrapeErrors:       d("allot_scrape_errors", "Sources this scrape could not read (the store was unreachable): store_revision, index (the catch-up; the index's series are then stale) or baremetal_allocations.", "source"),
	})
}

// Describe implements prometheus.Collector.
func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.engineRev, c.storeRev, c.lag, c.providers, c.poolInUse, c.poolIdle, c.poolMax,
		c.poolWaits, c.poolWaitSeconds, c.total, c.usage, c.reserved, c.ratio, c.allocs, c.queue, c.scrapeErrors, c.perProviderOmitted} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	ctx, cancel := scrapeContext()
	defer cancel()
	failed := func(source string) { gauge(c.scrapeErrors, 1, source) }
	s := c.src
	var engineRev int64
	if s.EngineRevision != nil {
		engineRev = s.EngineRevision()
		gauge(c.engineRev, float64(engineRev))
	}
	if s.StoreRevision != nil {
		if rev, err := s.StoreRevision(ctx); err != nil {
			failed("store_revision")
		} else {
			gauge(c.storeRev, float64(rev))
			if s.EngineRevision != nil {
				gauge(c.lag, float64(max(rev-engineRev, 0)))
			}
		}
	}
	if s.CatchUp != nil {
		if err := s.CatchUp(ctx); err != nil {
			failed("index")
		}
	}
	if s.Providers != nil {
		gauge(c.providers, float64(s.Providers()))
	}
	if s.Pool != nil {
		p := s.Pool()
		gauge(c.poolInUse, float64(p.InUse))
		gauge(c.poolIdle, float64(p.Idle))
		gauge(c.poolMax, float64(p.Max))
		counter(c.poolWaits, float64(p.WaitCount))
		counter(c.poolWaitSeconds, p.WaitSeconds)
	}
	if s.Capacity != nil && s.PerProvider {
		if s.PerProviderMax > 0 && s.Providers != nil && s.Providers() > s.PerProviderMax {
			gauge(c.perProviderOmitted, 1)
		} else {
			gauge(c.perProviderOmitted, 0)
			s.Capacity(func(cp Capacity) {
				gauge(c.total, float64(cp.Total), cp.Provider, cp.Class)
				gauge(c.usage, float64(cp.Usage), cp.Provider, cp.Class)
				gauge(c.reserved, float64(cp.Reserved), cp.Provider, cp.Class)
				gauge(c.ratio, cp.AllocationRatio, cp.Provider, cp.Class)
			})
		}
	}
	if s.Allocations != nil {
		if a, err := s.Allocations(ctx); err != nil {
			failed("baremetal_allocations")
		} else {
			for _, st := range allocationStates {
				gauge(c.allocs, float64(a.ByState[st]), st)
			}
			for st, n := range a.ByState {
				if !isKnownState(st) {
					gauge(c.allocs, float64(n), st)
				}
			}
			gauge(c.queue, float64(a.Queued))
		}
	}
}

func isKnownState(s string) bool {
	for _, k := range allocationStates {
		if k == s {
			return true
		}
	}
	return false
}
