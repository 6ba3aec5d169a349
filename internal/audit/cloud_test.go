package audit_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/store"
	"allot/internal/testserver"
)

// Microversions the tests speak.
const (
	placementVersion = "1.39"
	ironicVersion    = "1.79"
)

// cloud is a store served by both APIs, filled through them.
type cloud struct {
	t  *testing.T
	st *store.Store
	bm *testserver.Baremetal
	p  *testserver.Placement
}

func newCloud(t *testing.T, backend string) *cloud {
	t.Helper()
	st := testserver.OpenStore(t, backend)
	bm := testserver.StartBaremetal(t, st)
	return &cloud{t: t, st: st, bm: bm, p: bm.Placement}
}

// provider creates a provider with inventories (class -> total).
func (c *cloud) provider(name string, totals map[string]int) string {
	c.t.Helper()
	id := uuid.NewString()
	c.p.Must(200, "POST", "/resource_providers", placementVersion, map[string]any{"name": name, "uuid": id})
	c.setInventory(id, totals)
	return id
}

// setInventory replaces a provider's inventories, answering the status.
func (c *cloud) setInventory(id string, totals map[string]int) int {
	c.t.Helper()
	gen := c.p.Must(200, "GET", "/resource_providers/"+id, placementVersion, nil).JSON()["generation"]
	invs := map[string]any{}
	for rc, total := range totals {
		invs[rc] = map[string]any{"total": total}
	}
	r := c.p.Do("PUT", "/resource_providers/"+id+"/inventories", placementVersion,
		map[string]any{"resource_provider_generation": gen, "inventories": invs})
	if r.Status >= 500 {
		c.t.Fatalf("PUT inventories: %d %s", r.Status, r.Body)
	}
	return r.Status
}

// allocate writes a consumer's allocations (provider -> class -> amount),
// answering the status.
func (c *cloud) allocate(consumer string, allocs map[string]map[string]int) int {
	c.t.Helper()
	var gen any
	if r := c.p.Do("GET", "/allocations/"+consumer, placementVersion, nil); r.Status == 200 {
		gen = r.JSON()["consumer_generation"]
	}
	body := map[string]any{}
	for rp, res := range allocs {
		body[rp] = map[string]any{"resources": res}
	}
	r := c.p.Do("PUT", "/allocations/"+consumer, placementVersion, map[string]any{
		"allocations": body, "project_id": "p1", "user_id": "u1", "consumer_generation": gen, "consumer_type": "INSTANCE"})
	if r.Status >= 500 {
		c.t.Fatalf("PUT allocations: %d %s", r.Status, r.Body)
	}
	return r.Status
}

// node enrolls an available, powered node of class rc.
func (c *cloud) node(name, rc string) string {
	c.t.Helper()
	id := c.bm.Must(201, "POST", "/v1/nodes", ironicVersion, map[string]any{"driver": "fake-hardware", "name": name, "resource_class": rc}).JSON()["uuid"].(string)
	for _, verb := range []string{"manage", "provide"} {
		c.bm.Must(202, "PUT", "/v1/nodes/"+id+"/states/provision", ironicVersion, map[string]any{"target": verb})
	}
	c.bm.Must(202, "PUT", "/v1/nodes/"+id+"/states/power", ironicVersion, map[string]any{"target": "power on"})
	return id
}

// nodeAllocation allocates node (by name or uuid) and waits until the
// allocation is active (or in error: ok false).
func (c *cloud) nodeAllocation(name, rc, node string) (id string, ok bool) {
	c.t.Helper()
	r := c.bm.Do("POST", "/v1/allocations", ironicVersion, map[string]any{"name": name, "resource_class": rc, "candidate_nodes": []string{node}})
	if r.Status >= 500 {
		c.t.Fatalf("POST allocation: %d %s", r.Status, r.Body)
	}
	if r.Status != 201 {
		return "", false
	}
	id = r.JSON()["uuid"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := c.bm.Must(200, "GET", "/v1/allocations/"+id, ironicVersion, nil).JSON()
		switch got["state"] {
		case "active":
			return id, true
		case "error":
			return id, false
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("allocation %s still %v after 20s", name, got["state"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawDB opens the store's database behind the store's back, to corrupt
// it on purpose.
func rawDB(t *testing.T, st *store.Store) *sql.DB {
	t.Helper()
	dsn := st.DSN()
	var db *sql.DB
	var err error
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs raw statements, failing the test on an error.
func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
