package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/cli"
	"allot/internal/testpg"
	"allot/internal/testserver"
)

// TestPostgresDumpRestore runs the PostgreSQL backup that
// docs/operations.md gives ("Backup and restore"): pg_dump -Fc of a store
// that a replica serves, pg_restore into an empty database, then allot db
// check on it; the restored store holds the claim and the bare-metal
// allocation, and allot db backup refuses PostgreSQL saying what to use.
func TestPostgresDumpRestore(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (Debian package postgresql-client)")
		}
	}
	src := testpg.DSN(t)
	st := testserver.OpenDSN(t, src)
	bm := testserver.StartBaremetal(t, st)
	p := bm.Placement
	rp := uuid.NewString()
	p.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": "cn1", "uuid": rp})
	p.Must(200, "PUT", "/resource_providers/"+rp+"/inventories", "1.39", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}}})
	consumer := uuid.NewString()
	p.Must(204, "PUT", "/allocations/"+consumer, "1.39", map[string]any{
		"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 2}}},
		"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
	node := bm.Must(201, "POST", "/v1/nodes", "1.79", map[string]any{"driver": "fake-hardware", "name": "n1", "resource_class": "gold"}).JSON()["uuid"].(string)
	for _, verb := range []string{"manage", "provide"} {
		bm.Must(202, "PUT", "/v1/nodes/"+node+"/states/provision", "1.79", map[string]any{"target": verb})
	}
	bm.Must(202, "PUT", "/v1/nodes/"+node+"/states/power", "1.79", map[string]any{"target": "power on"})

	dump := filepath.Join(t.TempDir(), "allot.dump")
	dst := testpg.DSN(t)
	for _, cmd := range [][]string{
		{"pg_dump", "-Fc", "-f", dump, src},
		{"pg_restore", "-d", dst, dump},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd[:len(cmd)-1], " "), err, out)
		}
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := cli.Execute(args, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("db", "check", "--db", dst); code != 0 {
		t.Fatalf("allot db check on the restored database: exit %d\n%s", code, out)
	}
	restored := testserver.StartPlacement(t, testserver.OpenDSN(t, dst))
	got := restored.Must(200, "GET", "/allocations/"+consumer, "1.39", nil).JSON()["allocations"].(map[string]any)
	if _, ok := got[rp]; !ok {
		t.Fatalf("the restored store lost the claim: %v", got)
	}
	restored.Must(200, "GET", "/resource_providers/"+node, "1.39", nil)
	if code, out := run("db", "backup", filepath.Join(t.TempDir(), "x.db"), "--db", src); code != 2 || !strings.Contains(out, "pg_dump") {
		t.Fatalf("allot db backup of PostgreSQL: exit %d %s, want 2 naming pg_dump", code, out)
	}
}
