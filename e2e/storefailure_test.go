package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/store"
	"allot/internal/store/storetest"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

// storeFailureAPIs serves both APIs over st and, once fail() made its
// writes fail (fail is nil when they already do), checks that a read
// answers 200 and a write 503 in the API's own envelope, with want in the
// client's message; after fix(), the first write of each API succeeds on
// the same running server, and the database passes its integrity check.
func storeFailureAPIs(t *testing.T, st *store.Store, want string, fail, fix func()) {
	bm := testserver.StartBaremetal(t, st)
	p := bm.Placement
	if fail != nil {
		fail()
	}
	p.Must(http.StatusOK, "GET", "/resource_providers", "1.14", nil)
	bm.Must(http.StatusOK, "GET", "/v1/nodes", "1.79", nil)

	r := p.Do("POST", "/resource_providers", "1.20", map[string]any{"name": "during", "uuid": uuid.NewString()})
	errs, _ := r.JSON()["errors"].([]any)
	if r.Status != http.StatusServiceUnavailable || len(errs) != 1 {
		t.Fatalf("Placement write: %d %s, want 503 with Placement's errors envelope", r.Status, r.Body)
	}
	if e, _ := errs[0].(map[string]any); !strings.Contains(fmt.Sprint(e["detail"]), want) || e["status"] != float64(503) {
		t.Fatalf("Placement's 503 %s does not say %q", r.Body, want)
	}
	r = bm.Do("POST", "/v1/nodes", "1.79", map[string]any{"driver": "fake-hardware", "name": "during", "resource_class": "rc"})
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Fault(), want) || r.ErrorDoc()["faultcode"] != "Server" {
		t.Fatalf("Bare Metal write: %d %s, want 503 with Ironic's error_message saying %q", r.Status, r.Body, want)
	}

	fix()
	p.Must(http.StatusOK, "POST", "/resource_providers", "1.20", map[string]any{"name": "after", "uuid": uuid.NewString()})
	bm.Must(http.StatusCreated, "POST", "/v1/nodes", "1.79", map[string]any{"driver": "fake-hardware", "name": "after", "resource_class": "rc"})
	storetest.CheckIntegrity(t, st)
}

// TestStoreDiskFull fills the file system of a running server's SQLite
// store (a 4 MiB tmpfs; needs root, as CI runs): both APIs answer 503
// "the store's disk is full", reads keep working, and writes succeed as
// soon as space is freed, without a restart.
func TestStoreDiskFull(t *testing.T) {
	dir := storetest.Tmpfs(t, "4m")
	st := testserver.OpenDSN(t, "sqlite:"+filepath.Join(dir, "allot.db"))
	var free func()
	storeFailureAPIs(t, st, "disk is full", func() { free = storetest.FillDisk(t, dir) }, func() { free() })
}

// TestStoreReadOnly starts a server on a read-only store (SQLite: a
// read-only mount of the database file, as a file left unwritable to
// allot; PostgreSQL: default_transaction_read_only, as a standby or a
// managed database short of storage): it serves reads, answers writes 503
// "the store is read-only", and writes succeed once the store is writable
// again, without a restart.
func TestStoreReadOnly(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.RequireRoot(t)
		db := &storetest.SQLiteReadOnly{Path: filepath.Join(t.TempDir(), "allot.db"), Options: store.Options{Logger: testserver.Quiet}}
		db.Open(t).Close()
		db.SetReadOnly(t, true)
		storeFailureAPIs(t, db.Open(t), "read-only", nil, func() { db.SetReadOnly(t, false) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testpg.DSN(t)
		testserver.OpenDSN(t, dsn).Close()
		storetest.SetPostgresReadOnly(t, dsn, true)
		storeFailureAPIs(t, testserver.OpenDSN(t, dsn), "read-only", nil, func() { storetest.SetPostgresReadOnly(t, dsn, false) })
	})
}
