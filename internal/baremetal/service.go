package baremetal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"

	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
)

// Options configure the Service.
type Options struct {
	Logger *slog.Logger
	// Workers is the number of allocation workers (default 2; 0 keeps the
	// default, negative disables processing, for tests of the queue).
	Workers int
	// Lease is how long a worker holds an allocation before another may
	// take it over (default 30 s).
	Lease time.Duration
	// Poll is how often idle workers look for pending allocations made by
	// other replicas or left by dead workers (default 1 s).
	Poll time.Duration
	// WorkerID names this process's workers (default host:pid:random).
	WorkerID string
	// Metrics times allocations from POST to active (nil: not counted).
	Metrics *metrics.Metrics
}

// Service implements the Bare Metal API's operations.
type Service struct {
	store     *store.Store
	placement *placement.Service
	log       *slog.Logger
	opts      Options
	wake      chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	startOnce sync.Once
	stopOnce  sync.Once
}

// New returns a Service over the placement service's store.
func New(p *placement.Service, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.WorkerID == "" {
		host, _ := os.Hostname()
		opts.WorkerID = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	return &Service{store: p.Store(), placement: p, log: opts.Logger, opts: opts,
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// logicalName matches Ironic's logical names (RFC 3986 unreserved characters).
var logicalName = regexp.MustCompile(`^[A-Za-z0-9\-._~]+$`)

// IsLogicalName reports whether s may be a node or allocation name.
func IsLogicalName(s string) bool { return len(s) <= 255 && logicalName.MatchString(s) }

// validNodeName reports whether s may be a node's name: a logical name that
// is not also a UUID (an identifier that reads as a UUID is looked up by
// UUID only, so the node could never be found by that name; Ironic refuses
// such names too).
func validNodeName(s string) bool {
	_, isUUID := model.NormalizeUUID(s)
	return IsLogicalName(s) && !isUUID
}

// nodeProvider is the resource provider that stands for n.
func nodeProvider(n *model.Node) placement.NodeProvider {
	np := placement.NodeProvider{UUID: n.UUID, Name: n.UUID, Traits: n.Traits}
	if n.ResourceClass != nil && *n.ResourceClass != "" {
		np.Class = model.NodeResourceClass(*n.ResourceClass)
	}
	np.Reserved = unallocatable(n) != "" && n.AllocationID == 0
	return np
}

// syncProvider keeps the node's provider in step inside tx.
func syncProvider(ctx context.Context, tx *store.Tx, n *model.Node) error {
	return placement.SyncNodeProvider(ctx, tx, nodeProvider(n))
}

// lookupNode finds a node by UUID or logical name, or fails with notFound.
func lookupNode(ctx context.Context, tx *store.Tx, ident string, lock bool, notFound func(string) error) (model.Node, error) {
	var n model.Node
	var ok bool
	var err error
	if norm, isUUID := model.NormalizeUUID(ident); isUUID {
		n, ok, err = tx.NodeBy(ctx, "uuid", norm, lock)
	} else if IsLogicalName(ident) {
		n, ok, err = tx.NodeBy(ctx, "name", ident, lock)
	} else {
		return n, model.BadRequest("Expected a logical name or UUID but received %s.", model.Clip(ident, 200))
	}
	if err != nil {
		return n, err
	}
	if !ok {
		return n, notFound(ident)
	}
	return n, nil
}

func nodeNotFound(ident string) error {
	return model.NotFound("Node %s could not be found.", model.Clip(ident, 200))
}

// NodeFilter selects and pages the nodes ListNodes returns: the store's
// filter, plus the marker named the way the API names it.
type NodeFilter struct {
	model.NodeFilter
	// Marker, when set, continues after the node with this UUID or name,
	// found in the list's own read (an unknown one is a 404); it replaces
	// MarkerID.
	Marker string
}

// AllocationFilter selects and pages the allocations ListAllocations
// returns: the store's filter, plus the node and the marker named the way
// the API names them.
type AllocationFilter struct {
	model.NodeAllocationFilter
	// Node, when set, keeps the allocations of the node with this UUID or
	// name, found in the list's own read (an unknown one is a 400, as in
	// Ironic); it replaces NodeID.
	Node string
	// Marker, when set, continues after the allocation with this UUID or
	// name, found in the list's own read (an unknown one is a 404); it
	// replaces MarkerID.
	Marker string
}

// NodeSortable reports whether nodes may be sorted by key.
func NodeSortable(key string) bool { return store.NodeSortable(key) }

// AllocationSortable reports whether allocations may be sorted by key.
func AllocationSortable(key string) bool { return store.AllocationSortable(key) }

// AllocationCounts counts the allocations by state and those waiting for
// a worker, for the metrics.
func (s *Service) AllocationCounts(ctx context.Context) (metrics.AllocationCounts, error) {
	var c metrics.AllocationCounts
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		c.ByState, c.Queued, err = tx.CountNodeAllocations(ctx, time.Now())
		return err
	})
	return c, err
}
