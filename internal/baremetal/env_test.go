package baremetal

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/store"
)

// The tests of this package call the Service directly over a real SQLite
// store in a temporary directory, and read the Placement side through the
// placement.Service beside it.

var quiet = slog.New(slog.DiscardHandler)

// env is one test's service, its placement service and a context.
type env struct {
	t   *testing.T
	ctx context.Context
	svc *Service
	pl  *placement.Service
}

// newEnv opens a fresh store; its workers do not run (Workers < 0): tests
// process pending allocations with env.process, or start workers themselves.
func newEnv(t *testing.T) *env {
	return newEnvWith(t, Options{Workers: -1})
}

// newEnvWith is newEnv with the service options given (logging is quiet).
func newEnvWith(t *testing.T, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "allot.db"), store.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	pl := placement.New(st, placement.Options{Logger: quiet})
	opts.Logger = quiet
	return &env{t: t, ctx: ctx, svc: New(pl, opts), pl: pl}
}

// nodeSpec is a node to enroll and the state to bring it to.
type nodeSpec struct {
	name, uuid, rc string
	traits         []string
	owner, lessee  string
	// state is the provision state: "available" (the default),
	// "enroll", "manageable" or "active" (deployed without an allocation).
	state       string
	noPower     bool // no power action: power state unknown
	maintenance bool
	instance    string // instance_uuid set by a patch
}

// node enrolls a node as spec says and returns it as stored.
func (e *env) node(spec nodeSpec) model.Node {
	e.t.Helper()
	in := NodeCreate{Driver: FakeDriver, UUID: spec.uuid, Name: &spec.name}
	if spec.rc != "" {
		in.ResourceClass = &spec.rc
	}
	if spec.owner != "" {
		in.Owner = &spec.owner
	}
	if spec.lessee != "" {
		in.Lessee = &spec.lessee
	}
	n, err := e.svc.CreateNode(e.ctx, in)
	e.must(err, "create node "+spec.name)
	var verbs []string
	switch spec.state {
	case "", model.StateAvailable:
		verbs = []string{"manage", "provide"}
	case "manageable":
		verbs = []string{"manage"}
	case model.StateActive:
		verbs = []string{"manage", "provide", "deploy"}
	case model.StateEnroll:
	default:
		e.t.Fatalf("nodeSpec: unknown state %q", spec.state)
	}
	for _, v := range verbs {
		e.must(e.svc.SetProvisionState(e.ctx, n.UUID, v), v+" "+spec.name)
	}
	if !spec.noPower {
		e.must(e.svc.SetPowerState(e.ctx, n.UUID, "power on"), "power on "+spec.name)
	}
	if len(spec.traits) > 0 {
		e.must(e.svc.SetNodeTraits(e.ctx, n.UUID, "set", spec.traits), "traits of "+spec.name)
	}
	if spec.maintenance {
		reason := "broken fan"
		e.must(e.svc.SetMaintenance(e.ctx, n.UUID, true, &reason), "maintenance of "+spec.name)
	}
	if spec.instance != "" {
		e.patchNode(n.UUID, `[{"op": "add", "path": "/instance_uuid", "value": "`+spec.instance+`"}]`)
	}
	return e.getNode(n.UUID)
}

// getNode returns a node, failing the test if it cannot.
func (e *env) getNode(ident string) model.Node {
	e.t.Helper()
	n, err := e.svc.GetNode(e.ctx, ident)
	e.must(err, "get node "+ident)
	return n
}

// patchNode applies a JSON patch to a node, failing the test if it cannot.
func (e *env) patchNode(ident, patch string) model.Node {
	e.t.Helper()
	n, err := e.tryPatchNode(ident, patch)
	e.must(err, "patch node "+ident)
	return n
}

// tryPatchNode applies a JSON patch to a node as the API hands it over.
func (e *env) tryPatchNode(ident, patch string) (model.Node, error) {
	e.t.Helper()
	var ops []PatchOp
	if err := json.Unmarshal([]byte(patch), &ops); err != nil {
		e.t.Fatalf("bad test patch %s: %v", patch, err)
	}
	return e.svc.PatchNode(e.ctx, ident, ops, []byte(patch))
}

// process runs the allocation worker's step until nothing is pending.
func (e *env) process() {
	e.t.Helper()
	for i := 0; i < 1000; i++ {
		worked, err := e.svc.processOne(e.ctx, "test-worker")
		e.must(err, "process an allocation")
		if !worked {
			return
		}
	}
	e.t.Fatal("allocations still pending after 1000 steps")
}

// allocate creates an allocation, processes it and returns it.
func (e *env) allocate(in AllocationCreate) model.NodeAllocation {
	e.t.Helper()
	a, err := e.svc.CreateAllocation(e.ctx, in)
	e.must(err, "create allocation")
	e.process()
	return e.getAllocation(a.UUID)
}

// getAllocation returns an allocation, failing the test if it cannot.
func (e *env) getAllocation(ident string) model.NodeAllocation {
	e.t.Helper()
	a, err := e.svc.GetAllocation(e.ctx, ident)
	e.must(err, "get allocation "+ident)
	return a
}

// claims returns what a consumer holds in Placement: provider UUID ->
// resource class -> amount (empty when the consumer holds nothing).
func (e *env) claims(consumer string) map[string]map[string]int64 {
	e.t.Helper()
	v, err := e.pl.GetConsumerAllocations(e.ctx, consumer)
	e.must(err, "placement allocations of "+consumer)
	out := map[string]map[string]int64{}
	for _, a := range v.Allocations {
		if out[a.ProviderUUID] == nil {
			out[a.ProviderUUID] = map[string]int64{}
		}
		out[a.ProviderUUID][a.ResourceClass] += a.Used
	}
	return out
}

// wantClaim fails the test unless consumer holds exactly one unit of class
// on provider (or nothing, when provider is "").
func (e *env) wantClaim(consumer, provider, class string) {
	e.t.Helper()
	got := e.claims(consumer)
	if provider == "" {
		if len(got) != 0 {
			e.t.Errorf("consumer %s still holds %v in Placement", consumer, got)
		}
		return
	}
	if len(got) != 1 || len(got[provider]) != 1 || got[provider][class] != 1 {
		e.t.Errorf("consumer %s holds %v in Placement, want 1 %s on %s", consumer, got, class, provider)
	}
}

// inventory returns a node provider's inventory of class (ok false when
// the provider has none).
func (e *env) inventory(provider, class string) (inv model.Inventory, ok bool) {
	e.t.Helper()
	invs, err := e.pl.GetInventories(e.ctx, provider)
	e.must(err, "inventories of "+provider)
	for _, inv := range invs.Inventories {
		if inv.ResourceClass == class {
			return inv, true
		}
	}
	return model.Inventory{}, false
}

// wantUnit fails the test unless the provider offers one unit of class,
// reserved and used as given.
func (e *env) wantUnit(provider, class string, reserved, used int64) {
	e.t.Helper()
	inv, ok := e.inventory(provider, class)
	if !ok || inv.Total != 1 || inv.Reserved != reserved || inv.Used != used {
		e.t.Errorf("provider %s inventory of %s: %+v (found %v), want total 1, reserved %d, used %d", provider, class, inv, ok, reserved, used)
	}
}

func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails the test unless err is a model error of kind whose message
// contains want (no error at all when kind is KindInternal and want "").
func wantErr(t *testing.T, err error, kind model.Kind, want string) {
	t.Helper()
	if kind == model.KindInternal && want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v %q", kind, want)
	}
	if got := model.KindOf(err); got != kind || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v %q, want %v containing %q", got, err, kind, want)
	}
}

func ptr(s string) *string { return &s }
