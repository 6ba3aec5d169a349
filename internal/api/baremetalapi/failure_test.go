package baremetalapi_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"allot/internal/testserver"
)

// TestAllocationFailure checks GET /allot/v1/allocations/{allocation}/failure
// on both stores: the verdicts a failed allocation keeps, and the 404s.
func TestAllocationFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		n1 := enroll(t, b, "n1", "gold", "available", false)
		n2 := enroll(t, b, "n2", "gold", "manageable", false)
		b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold", "name": "f", "traits": []string{"CUSTOM_GPU"}})
		if a := waitDone(t, b, "f"); a["state"] != "error" {
			t.Fatalf("allocation f: %v, want state error", a)
		}
		b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold", "name": "ok"})
		if a := waitDone(t, b, "ok"); a["state"] != "active" {
			t.Fatalf("allocation ok: %v, want state active", a)
		}
		got := b.Must(200, "GET", "/allot/v1/allocations/f/failure", "", nil).JSON()
		want := map[string]any{"considered": float64(2), "nodes": []any{
			map[string]any{"uuid": n1, "name": "n1", "fits": false, "reasons": []any{"lacking traits CUSTOM_GPU"}},
			map[string]any{"uuid": n2, "name": "n2", "fits": false, "reasons": []any{"in provision state manageable", "lacking traits CUSTOM_GPU"}},
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("failure:\n got %v\nwant %v", got, want)
		}
		for _, tc := range []struct {
			name, path, version string
			status              int
			want                string
		}{
			{"not failed", "/allot/v1/allocations/ok/failure", v, 404, "has not failed (its state is active)"},
			{"unknown", "/allot/v1/allocations/ghost/failure", v, 404, "Allocation ghost could not be found"},
			{"before allocations", "/allot/v1/allocations/f/failure", "1.51", 400, "1.52 or later"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.Do("GET", tc.path, tc.version, nil)
				if r.Status != tc.status || !strings.Contains(r.Fault(), tc.want) {
					t.Errorf("%d %q, want %d containing %q", r.Status, r.Fault(), tc.status, tc.want)
				}
			})
		}
	})
}

// TestAllocationFailureAccess checks the failure's policy: an allocation
// the caller may not see is a 404, as for GET /v1/allocations/{allocation}.
func TestAllocationFailureAccess(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		a.must(201, "POST", "/v1/allocations", map[string]any{"resource_class": "gold", "name": "f", "owner": projOwner})
		deadline := time.Now().Add(10 * time.Second)
		for a.must(200, "GET", "/v1/allocations/f", nil).JSON()["state"] == "allocating" {
			if time.Now().After(deadline) {
				t.Fatal("allocation f still allocating")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r := a.as(sysAdmin, "GET", "/allot/v1/allocations/f/failure", nil); r.Status != 200 {
			t.Errorf("the system admin: %d, want 200: %s", r.Status, r.Body)
		}
		if r := a.as(otherMember, "GET", "/allot/v1/allocations/f/failure", nil); r.Status != 404 {
			t.Errorf("another project's member: %d, want 404: %s", r.Status, r.Body)
		}
	})
}
