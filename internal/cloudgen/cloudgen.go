// Package cloudgen writes a generated cloud (compute hosts with
// inventories, traits and aggregates, optional NUMA children and sharing
// storage pools, and allocations) straight through the store, in large
// store.Write batches, so that a benchmark can start from 100,000
// providers in minutes instead of hours of HTTP calls ("allot
// bench load"). Everything goes through the store's own transactions and
// bulk inserts, so the change feed records every provider and the usage
// counters equal the allocations, as the Placement service would have
// written them.
package cloudgen

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// The shape of every generated compute host. The default query of "allot
// bench mixed" (DefaultQuery) finds candidates in every shape.
const (
	// HostVCPU, HostMemoryMB and HostDiskGB are a compute host's
	// inventories (VCPU with allocation ratio 4, the others 1). With
	// Nested, VCPU and MEMORY_MB are split evenly over NUMANodes
	// children; with Sharing, DISK_GB is on the pools instead.
	HostVCPU     = 64
	HostMemoryMB = 262144
	HostDiskGB   = 2000
	// VCPURatio is the VCPU allocation ratio.
	VCPURatio = 4.0
	// NUMANodes is the number of children of a nested host.
	NUMANodes = 2
	// HostsPerPool is how many hosts share one storage pool (Sharing).
	HostsPerPool = 100
	// PoolDiskGB is a storage pool's DISK_GB.
	PoolDiskGB = 1000000
	// Aggregates is the number of host aggregates; host i is in
	// aggregate i % Aggregates (and, with Sharing, in its pool's).
	Aggregates = 16
	// BatchSize is the number of hosts written per store transaction.
	BatchSize = 1000
)

// What each generated allocation (consumer) takes: on its host (its NUMA
// child with Nested), and DISK_GB on the host or its pool.
const (
	ConsumerVCPU     = 2
	ConsumerMemoryMB = 4096
	ConsumerDiskGB   = 20
)

// Traits of the hosts: every host and NUMA child has TraitAll (a
// child's CPUs have the feature: a query's required traits must be on
// the providers that give its resources, and with Nested and Sharing
// the host itself gives none); host i has TraitOdd when i is odd. Pools
// have MISC_SHARES_VIA_AGGREGATE.
const (
	TraitAll = "HW_CPU_X86_AVX2"
	TraitOdd = "STORAGE_DISK_SSD"
)

// DefaultQuery is a scheduler's limit=10 query that every generated shape
// answers: one instance's resources on a host with TraitAll.
const DefaultQuery = "resources=VCPU:1,MEMORY_MB:1024,DISK_GB:10&required=" + TraitAll + "&limit=10"

// Spec describes the cloud to write.
type Spec struct {
	// Prefix starts every provider name: Prefix-cn-0000001, Prefix-cn-0000001-numa0,
	// Prefix-pool-00001. Provider and consumer UUIDs derive from it, so
	// two loads with different prefixes never collide.
	Prefix string
	// Hosts is the number of compute hosts (root providers).
	Hosts int
	// Nested gives each host NUMANodes children holding its VCPU and
	// MEMORY_MB.
	Nested bool
	// Sharing puts DISK_GB on storage pools shared by HostsPerPool hosts
	// through an aggregate, instead of on the hosts.
	Sharing bool
	// Allocations is the number of consumers to create, spread round-robin
	// over the hosts, each taking ConsumerVCPU, ConsumerMemoryMB and
	// ConsumerDiskGB.
	Allocations int
}

// MaxPerHost is the most consumers one host carries in a generated cloud:
// a NUMA child's memory over a consumer's (the tightest inventory).
const MaxPerHost = HostMemoryMB / NUMANodes / ConsumerMemoryMB

// maxNameLength is Placement's limit on provider names.
const maxNameLength = 200

// Validate says what is wrong with a spec, in terms of its flags.
func (s Spec) Validate() error {
	switch {
	case s.Prefix == "":
		return errors.New("the name prefix must not be empty")
	case s.Hosts <= 0:
		return errors.New("the number of providers must be positive")
	case s.Allocations < 0:
		return errors.New("the number of allocations must not be negative")
	case s.Allocations > s.Hosts*MaxPerHost:
		return fmt.Errorf("%d allocations do not fit on %d hosts: at most %d per host", s.Allocations, s.Hosts, MaxPerHost)
	}
	if longest := s.HostName(s.Hosts-1) + "-numa0"; len(longest) > maxNameLength {
		return fmt.Errorf("the name prefix is too long: provider names such as %q would pass Placement's %d characters", longest, maxNameLength)
	}
	return nil
}

// Pools is the number of storage pools the spec has.
func (s Spec) Pools() int {
	if !s.Sharing {
		return 0
	}
	return (s.Hosts + HostsPerPool - 1) / HostsPerPool
}

// Providers is the number of providers the spec has: hosts, their
// children and the pools.
func (s Spec) Providers() int {
	n := s.Hosts + s.Pools()
	if s.Nested {
		n += s.Hosts * NUMANodes
	}
	return n
}

// HostName is the name of host i (0-based).
func (s Spec) HostName(i int) string { return fmt.Sprintf("%s-cn-%07d", s.Prefix, i+1) }

// name derives a stable UUID from the prefix and an object's name, so that
// the cloud is the same on every load and tests can compute what to expect.
func (s Spec) id(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("allot-cloudgen/"+kind+"/"+name)).String()
}

// AggregateUUID is the UUID of host aggregate i.
func (s Spec) AggregateUUID(i int) string {
	return s.id("aggregate", fmt.Sprintf("%s-%d", s.Prefix, i))
}

// PoolAggregateUUID is the UUID of the aggregate of pool j.
func (s Spec) PoolAggregateUUID(j int) string {
	return s.id("aggregate", fmt.Sprintf("%s-pool-%d", s.Prefix, j))
}

// Report is what Load wrote.
type Report struct {
	Providers, Hosts, Pools, Consumers int
}

// Load writes the cloud of spec through st in transactions of BatchSize
// hosts (with their children, pools and consumers). progress, if not nil,
// is called after each transaction with the hosts written so far. A load
// that fails midway leaves the transactions before it committed: run it
// again with another prefix, or on a fresh store.
func Load(ctx context.Context, st *store.Store, spec Spec, progress func(hosts int)) (Report, error) {
	var rep Report
	if err := spec.Validate(); err != nil {
		return rep, err
	}
	var classes map[string]int64
	traits := map[string]int64{}
	err := st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if classes, err = tx.ResourceClassIDs(ctx, []string{"VCPU", "MEMORY_MB", "DISK_GB"}); err != nil {
			return fmt.Errorf("resource classes: %w", err)
		}
		for _, name := range []string{TraitAll, TraitOdd, model.SharesViaAggregate} {
			tr, _, err := tx.CreateTrait(ctx, name)
			if err != nil {
				return fmt.Errorf("trait %s: %w", name, err)
			}
			traits[name] = tr.ID
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	w := writer{spec: spec, classes: classes, traits: traits}
	for start := 0; start < spec.Hosts; start += BatchSize {
		end := min(start+BatchSize, spec.Hosts)
		var batch Report
		err := st.Write(ctx, func(tx *store.Tx) error {
			batch = Report{}
			return w.hosts(ctx, tx, start, end, &batch)
		})
		if err != nil {
			return rep, fmt.Errorf("write hosts %d-%d: %w", start+1, end, err)
		}
		rep.Providers += batch.Providers
		rep.Hosts += batch.Hosts
		rep.Pools += batch.Pools
		rep.Consumers += batch.Consumers
		if progress != nil {
			progress(end)
		}
	}
	return rep, nil
}

// writer writes batches of one spec.
type writer struct {
	spec    Spec
	classes map[string]int64
	traits  map[string]int64
}

// batch is what one transaction writes, gathered first and then written
// with the store's bulk inserts (a few statements per table, not one per
// row: a round trip each on PostgreSQL).
type batch struct {
	providers   []model.Provider // roots: pools and hosts
	children    []model.Provider // ParentID and RootID filled in after the roots
	childOf     []int            // index in providers of each child's host
	inventories []invSpec
	traits      []nameRef
	aggregates  []aggRef
	consumers   []consumerSpec
}

// ref names a provider of the batch: a root (index in providers) or a
// child (index in children).
type ref struct {
	child bool
	i     int
}

type invSpec struct {
	rp    ref
	class string
	total int64
	ratio float64
	used  int64
}

type nameRef struct {
	rp    ref
	trait int64
}

type aggRef struct {
	rp  ref
	agg string
}

type consumerSpec struct {
	uuid   string
	allocs []allocSpec
}

type allocSpec struct {
	rp     ref
	class  string
	amount int64
}

// hosts writes hosts [start, end), the pools that start among them, and
// the consumers placed on them.
func (w writer) hosts(ctx context.Context, tx *store.Tx, start, end int, rep *Report) error {
	s := w.spec
	if s.Sharing && start%HostsPerPool != 0 {
		return errors.New("a batch must start at a pool boundary")
	}
	var b batch
	root := func(p model.Provider) ref {
		b.providers = append(b.providers, p)
		return ref{i: len(b.providers) - 1}
	}
	inv := func(rp ref, class string, total int64, ratio float64, used int64) {
		b.inventories = append(b.inventories, invSpec{rp: rp, class: class, total: total, ratio: ratio, used: used})
	}
	var pool ref
	for i := start; i < end; i++ {
		if s.Sharing && i%HostsPerPool == 0 {
			j := i / HostsPerPool
			name := s.poolName(j)
			pool = root(model.Provider{UUID: s.id("provider", name), Name: name})
			var used int64
			for h := j * HostsPerPool; h < min((j+1)*HostsPerPool, s.Hosts); h++ {
				used += int64(s.consumersOn(h)) * ConsumerDiskGB
			}
			inv(pool, "DISK_GB", PoolDiskGB, 1, used)
			b.traits = append(b.traits, nameRef{pool, w.traits[model.SharesViaAggregate]})
			b.aggregates = append(b.aggregates, aggRef{pool, s.PoolAggregateUUID(j)})
			rep.Pools++
		}
		name := s.HostName(i)
		host := root(model.Provider{UUID: s.id("provider", name), Name: name})
		rep.Hosts++
		n := int64(s.consumersOn(i))
		if !s.Nested {
			inv(host, "VCPU", HostVCPU, VCPURatio, n*ConsumerVCPU)
			inv(host, "MEMORY_MB", HostMemoryMB, 1, n*ConsumerMemoryMB)
		}
		if !s.Sharing {
			inv(host, "DISK_GB", HostDiskGB, 1, n*ConsumerDiskGB)
		}
		b.traits = append(b.traits, nameRef{host, w.traits[TraitAll]})
		if i%2 == 1 {
			b.traits = append(b.traits, nameRef{host, w.traits[TraitOdd]})
		}
		b.aggregates = append(b.aggregates, aggRef{host, s.AggregateUUID(i % Aggregates)})
		if s.Sharing {
			b.aggregates = append(b.aggregates, aggRef{host, s.PoolAggregateUUID(i / HostsPerPool)})
		}
		// The NUMA children; consumer c uses child c % NUMANodes.
		var numa []ref
		if s.Nested {
			for k := range NUMANodes {
				cname := fmt.Sprintf("%s-numa%d", name, k)
				b.children = append(b.children, model.Provider{UUID: s.id("provider", cname), Name: cname})
				b.childOf = append(b.childOf, host.i)
				child := ref{child: true, i: len(b.children) - 1}
				numa = append(numa, child)
				onThis := (n + NUMANodes - 1 - int64(k)) / NUMANodes
				inv(child, "VCPU", HostVCPU/NUMANodes, VCPURatio, onThis*ConsumerVCPU)
				inv(child, "MEMORY_MB", HostMemoryMB/NUMANodes, 1, onThis*ConsumerMemoryMB)
				b.traits = append(b.traits, nameRef{child, w.traits[TraitAll]})
			}
		}
		for c := range int(n) {
			compute, disk := host, host
			if s.Nested {
				compute = numa[c%NUMANodes]
			}
			if s.Sharing {
				disk = pool
			}
			b.consumers = append(b.consumers, consumerSpec{uuid: s.id("consumer", fmt.Sprintf("%s-%d", name, c)), allocs: []allocSpec{
				{compute, "VCPU", ConsumerVCPU}, {compute, "MEMORY_MB", ConsumerMemoryMB}, {disk, "DISK_GB", ConsumerDiskGB}}})
		}
	}
	if err := w.write(ctx, tx, &b); err != nil {
		return err
	}
	rep.Providers += len(b.providers) + len(b.children)
	rep.Consumers += len(b.consumers)
	return nil
}

// write writes a batch with the store's bulk inserts.
func (w writer) write(ctx context.Context, tx *store.Tx, b *batch) error {
	roots, err := tx.CreateProviders(ctx, b.providers)
	if err != nil {
		return providerError(err)
	}
	for k := range b.children {
		host := roots[b.childOf[k]]
		b.children[k].ParentID, b.children[k].RootID = host.ID, host.ID
	}
	children, err := tx.CreateProviders(ctx, b.children)
	if err != nil {
		return providerError(err)
	}
	id := func(r ref) int64 {
		if r.child {
			return children[r.i].ID
		}
		return roots[r.i].ID
	}
	invs := make([]store.InventoryRow, len(b.inventories))
	for k, inv := range b.inventories {
		invs[k] = store.InventoryRow{ProviderID: id(inv.rp), ClassID: w.classes[inv.class], Inventory: model.Inventory{
			ResourceClass: inv.class, Total: inv.total, MinUnit: 1, MaxUnit: inv.total, StepSize: 1,
			AllocationRatio: inv.ratio, Used: inv.used}}
	}
	if err := tx.InsertInventories(ctx, invs); err != nil {
		return fmt.Errorf("inventories: %w", err)
	}
	traits := make([]store.ProviderTrait, len(b.traits))
	for k, t := range b.traits {
		traits[k] = store.ProviderTrait{ProviderID: id(t.rp), TraitID: t.trait}
	}
	if err := tx.AddProviderTraits(ctx, traits); err != nil {
		return fmt.Errorf("traits: %w", err)
	}
	aggs := make([]store.ProviderAggregate, len(b.aggregates))
	for k, a := range b.aggregates {
		aggs[k] = store.ProviderAggregate{ProviderID: id(a.rp), Aggregate: a.agg}
	}
	if err := tx.AddProviderAggregates(ctx, aggs); err != nil {
		return fmt.Errorf("aggregates: %w", err)
	}
	cs := make([]store.NewConsumer, len(b.consumers))
	for k, c := range b.consumers {
		cs[k] = store.NewConsumer{UUID: c.uuid, ProjectID: "bench", UserID: "bench", ConsumerType: "INSTANCE", Generation: 1}
	}
	ids, err := tx.CreateConsumers(ctx, cs)
	if err != nil {
		if model.IsKind(err, model.KindConflict) {
			return model.Conflict("a consumer of this load already exists: load with another --prefix, or into an empty store")
		}
		return fmt.Errorf("consumers: %w", err)
	}
	var allocs []store.AllocationRow
	for _, c := range b.consumers {
		for _, a := range c.allocs {
			allocs = append(allocs, store.AllocationRow{ProviderID: id(a.rp), ConsumerID: ids[c.uuid], ClassID: w.classes[a.class], Used: a.amount})
		}
	}
	if err := tx.InsertAllocations(ctx, allocs); err != nil {
		return fmt.Errorf("allocations: %w", err)
	}
	return nil
}

// providerError explains a provider that exists already.
func providerError(err error) error {
	if model.IsKind(err, model.KindConflict) {
		e := model.Conflict("a provider of this load already exists: load with another --prefix, or into an empty store")
		e.Err = err
		return e
	}
	return fmt.Errorf("providers: %w", err)
}

// consumersOn is the number of consumers placed on host i: Allocations
// spread round-robin.
func (s Spec) consumersOn(i int) int {
	n := s.Allocations / s.Hosts
	if i < s.Allocations%s.Hosts {
		n++
	}
	return n
}

func (s Spec) poolName(j int) string { return fmt.Sprintf("%s-pool-%05d", s.Prefix, j+1) }
