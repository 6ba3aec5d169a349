// Package audit checks a store's invariants (allot db check): the facts
// that the services maintain on every write and that nothing but a bug, a
// crash of the database's own guarantees or a hand edit can break. Each
// violation says what is wrong, in numbers, and what to do; the repairs
// that are safe (the store itself holds the truth to repair from) are made
// by Fix, each in one store transaction that checks again under the locks
// the writers take and records the change feed, so that running replicas
// see it.
package audit

import (
	"context"
	"fmt"
	"strings"

	"allot/internal/store"
)

// Kind names one invariant.
type Kind string

// The invariants allot db check verifies.
const (
	// KindUsageCounter: an inventory's usage counter equals the sum of
	// the allocations held against it.
	KindUsageCounter Kind = "usage-counter"
	// KindOverCapacity: the allocations against an inventory fit its
	// capacity, except where Placement allows them not to (a notice).
	KindOverCapacity Kind = "over-capacity"
	// KindNoInventory: every allocation is held against an inventory.
	KindNoInventory Kind = "allocation-without-inventory"
	// KindOrphanConsumer: every consumer holds an allocation.
	KindOrphanConsumer Kind = "orphan-consumer"
	// KindNodeProvider: every bare-metal node has the resource provider
	// its state calls for.
	KindNodeProvider Kind = "node-provider"
	// KindNodeAllocation: every active bare-metal allocation holds its
	// node (the node records it) and the node's claim in Placement, and
	// every node records only an active allocation of its own.
	KindNodeAllocation Kind = "node-allocation"
	// KindOrphanClaim: every Placement claim of the bare-metal consumer
	// type belongs to an active bare-metal allocation.
	KindOrphanClaim Kind = "orphan-claim"
)

// Kinds lists every kind, in the order a report lists them.
func Kinds() []Kind {
	return []Kind{KindUsageCounter, KindOverCapacity, KindNoInventory, KindOrphanConsumer, KindNodeProvider, KindNodeAllocation, KindOrphanClaim}
}

// Severity tells a violation from a notice.
type Severity string

const (
	// Violation: an invariant is broken.
	Violation Severity = "violation"
	// Notice: a state worth knowing that Placement allows (an inventory
	// over capacity after its capacity was lowered under allocations).
	Notice Severity = "notice"
)

// Object is a thing a finding is about.
type Object struct {
	Type string `json:"type"` // provider, consumer, node, allocation
	UUID string `json:"uuid"`
	Name string `json:"name,omitempty"`
}

func (o Object) String() string {
	if o.Name != "" && o.Name != o.UUID {
		return fmt.Sprintf("%s %s (%s)", o.Type, o.Name, o.UUID)
	}
	return o.Type + " " + o.UUID
}

// Finding is one broken invariant (or one notice).
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Objects  []Object `json:"objects"`
	// Problem says what is wrong, in numbers.
	Problem string `json:"problem"`
	// Action says what to do about it.
	Action string `json:"action"`
	// Fixable: Fix repairs it.
	Fixable bool `json:"fixable"`
	// repair makes the repair inside a write transaction, checking again
	// under locks; it returns what it changed ("" when the violation had
	// gone by then).
	repair func(ctx context.Context, tx *store.Tx) (string, error)
}

// String is the finding on one line: severity, kind, objects, problem and
// action.
func (f Finding) String() string {
	objs := make([]string, len(f.Objects))
	for i, o := range f.Objects {
		objs[i] = o.String()
	}
	return fmt.Sprintf("%s %s: %s: %s; %s", f.Severity, f.Kind, strings.Join(objs, ", "), f.Problem, f.Action)
}

// Report is the outcome of Check.
type Report struct {
	// Revision is the store revision of the snapshot checked.
	Revision int64     `json:"revision"`
	Findings []Finding `json:"findings"`
}

// Violations counts the findings that are violations.
func (r Report) Violations() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Violation {
			n++
		}
	}
	return n
}

// Fixable counts the violations Fix repairs.
func (r Report) Fixable() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Violation && f.Fixable {
			n++
		}
	}
	return n
}

// Check reads one consistent snapshot of st and returns every finding. It
// only reads: it may run against a store that allot serve is writing.
func Check(ctx context.Context, st *store.Store) (Report, error) {
	var snap snapshot
	if err := st.Read(ctx, func(tx *store.Tx) error { return snap.load(ctx, tx) }); err != nil {
		return Report{}, fmt.Errorf("read the store: %w", err)
	}
	return Report{Revision: snap.revision, Findings: snap.findings()}, nil
}

// Repair is what Fix did about one finding.
type Repair struct {
	Finding Finding
	// Changed says what the repair changed; "" when the violation had
	// gone when the repair looked again.
	Changed string
	Err     error
}

// Fix repairs the fixable violations of r, each in its own write
// transaction (a failed repair does not stop the others), and calls done
// after each.
func Fix(ctx context.Context, st *store.Store, r Report, done func(Repair)) []Repair {
	var out []Repair
	for _, f := range r.Findings {
		if f.Severity != Violation || !f.Fixable || f.repair == nil {
			continue
		}
		var changed string
		err := st.Write(ctx, func(tx *store.Tx) error {
			var err error
			changed, err = f.repair(ctx, tx)
			return err
		})
		rep := Repair{Finding: f, Changed: changed, Err: err}
		if err != nil {
			rep.Changed = ""
		}
		out = append(out, rep)
		if done != nil {
			done(rep)
		}
	}
	return out
}
