package baremetalapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

const v = "1.79"

func eachBackend(t *testing.T, fn func(t *testing.T, b *testserver.Baremetal)) {
	for _, be := range testserver.Backends {
		t.Run(be, func(t *testing.T) {
			fn(t, testserver.StartBaremetal(t, testserver.OpenStore(t, be)))
		})
	}
}

// enroll creates a node and takes it to state (enroll, manageable,
// available or active), powered on unless noPower.
func enroll(t *testing.T, b *testserver.Baremetal, name, rc, state string, noPower bool) string {
	t.Helper()
	n := b.Must(201, "POST", "/v1/nodes", v, map[string]any{"driver": "fake-hardware", "name": name, "resource_class": rc}).JSON()
	id := n["uuid"].(string)
	if n["provision_state"] != "enroll" || n["power_state"] != nil {
		t.Fatalf("new node: %v", n)
	}
	steps := map[string][]string{"enroll": nil, "manageable": {"manage"}, "available": {"manage", "provide"}, "active": {"manage", "provide", "active"}}
	for _, verb := range steps[state] {
		b.Must(202, "PUT", "/v1/nodes/"+id+"/states/provision", v, map[string]any{"target": verb})
	}
	if !noPower {
		b.Must(202, "PUT", "/v1/nodes/"+id+"/states/power", v, map[string]any{"target": "power on"})
	}
	return id
}

// waitDone polls an allocation until it leaves state allocating.
func waitDone(t testing.TB, b *testserver.Baremetal, ident string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := b.Must(200, "GET", "/v1/allocations/"+ident, v, nil).JSON()
		if a["state"] != "allocating" {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("allocation %s still allocating: %v", ident, a)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }

func newUUID() string { return uuid.NewString() }
