package baremetalapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"allot/internal/testserver"
)

const dryRunPath = "/allot/v1/allocations/dry-run"

// TestDryRun checks the answer of POST /allot/v1/allocations/dry-run on
// both stores: a verdict per node, the pick, and nothing created.
func TestDryRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		gpu := enroll(t, b, "gpu-1", "gold", "available", false)
		b.Must(204, "PUT", "/v1/nodes/"+gpu+"/traits", v, map[string]any{"traits": []string{"CUSTOM_GPU"}})
		plain := enroll(t, b, "plain", "gold", "available", false)
		fresh := enroll(t, b, "fresh", "gold", "manageable", true)
		silver := enroll(t, b, "silver", "silver", "available", false)

		for _, tc := range []struct {
			name    string
			version string
			body    map[string]any
			nodes   []any
			pick    []any
		}{{
			name: "class and traits", version: v,
			body: map[string]any{"resource_class": "gold", "traits": []string{"CUSTOM_GPU"}},
			nodes: []any{
				map[string]any{"uuid": gpu, "name": "gpu-1", "fits": true, "reasons": []any{}},
				map[string]any{"uuid": plain, "name": "plain", "fits": false, "reasons": []any{"lacking traits CUSTOM_GPU"}},
				map[string]any{"uuid": fresh, "name": "fresh", "fits": false, "reasons": []any{
					"in provision state manageable", "with no known power state (no power action yet)", "lacking traits CUSTOM_GPU"}},
			},
			pick: []any{gpu},
		}, {
			name: "candidates, no version named (the latest)", version: "",
			body: map[string]any{"resource_class": "gold", "candidate_nodes": []string{"silver", plain}, "name": "plain", "owner": nil},
			nodes: []any{
				map[string]any{"uuid": silver, "name": "silver", "fits": false, "reasons": []any{"of resource class silver"}},
				map[string]any{"uuid": plain, "name": "plain", "fits": true, "reasons": []any{}},
			},
			pick: []any{plain},
		}, {
			name: "nothing of the class", version: "1.52",
			body:  map[string]any{"resource_class": "bronze"},
			nodes: []any{}, pick: []any{},
		}} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.Must(200, "POST", dryRunPath, tc.version, tc.body)
				if want := map[string]string{"": "1.79"}[tc.version]; want != "" && r.Header.Get("X-OpenStack-Ironic-API-Version") != want {
					t.Errorf("answered at version %q, want %s", r.Header.Get("X-OpenStack-Ironic-API-Version"), want)
				}
				got := r.JSON()
				if !reflect.DeepEqual(got["nodes"], tc.nodes) {
					t.Errorf("nodes:\n got %v\nwant %v", got["nodes"], tc.nodes)
				}
				if !reflect.DeepEqual(got["would_pick"], tc.pick) {
					t.Errorf("would_pick: got %v, want %v", got["would_pick"], tc.pick)
				}
			})
		}
		if allocs := b.Must(200, "GET", "/v1/allocations", v, nil).JSON()["allocations"].([]any); len(allocs) != 0 {
			t.Errorf("dry runs left allocations behind: %v", allocs)
		}
	})
}

// TestDryRunErrors checks that a dry run refuses what POST
// /v1/allocations refuses, in Ironic's error format, and a backfill.
func TestDryRunErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		enroll(t, b, "n1", "gold", "available", false)
		for _, tc := range []struct {
			name    string
			version string
			body    any
			status  int
			want    string
		}{
			{"no class", v, map[string]any{}, 400, "resource_class field is mandatory"},
			{"unknown member", v, map[string]any{"resource_class": "gold", "size": 3}, 400, "size"},
			{"bad trait", v, map[string]any{"resource_class": "gold", "traits": []string{"gpu"}}, 400, "gpu"},
			{"unknown candidate", v, map[string]any{"resource_class": "gold", "candidate_nodes": []string{"ghost"}}, 400, "Nodes cannot be found: ghost"},
			{"not JSON", v, "{", 400, ""},
			{"backfill", v, map[string]any{"node": "n1"}, 400, "leave node out"},
			{"backfill before 1.58", "1.57", map[string]any{"node": "n1"}, 400, "Cannot set node"},
			{"owner before 1.60", "1.59", map[string]any{"resource_class": "gold", "owner": "p"}, 406, ""},
			{"before allocations", "1.51", map[string]any{"resource_class": "gold"}, 400, "1.52 or later"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.Do("POST", dryRunPath, tc.version, tc.body)
				if r.Status != tc.status || !strings.Contains(r.Fault(), tc.want) {
					t.Errorf("%d %q, want %d containing %q (%s)", r.Status, r.Fault(), tc.status, tc.want, r.Body)
				}
			})
		}
		// The version may be named in OpenStack-API-Version too.
		h := http.Header{"Openstack-Api-Version": {"baremetal 1.51"}}
		if r := b.DoAs(h, "POST", dryRunPath, "", map[string]any{"resource_class": "gold"}); r.Status != 400 || !strings.Contains(r.Fault(), "1.52 or later") {
			t.Errorf("OpenStack-API-Version: baremetal 1.51: %d %s, want 400", r.Status, r.Body)
		}
	})
}

// TestDryRunAccess checks the dry run's policy: baremetal:allocation:create
// (a reader is refused), and a project caller sees verdicts only on the
// nodes its project owns or leases.
func TestDryRunAccess(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		mine := a.must(201, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "name": "mine", "resource_class": "gold", "owner": projOwner}).JSON()["uuid"].(string)
		a.must(201, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "name": "theirs", "resource_class": "gold", "owner": projOther})
		body := map[string]any{"resource_class": "gold"}
		if r := a.as(ownerReader, "POST", dryRunPath, body); r.Status != 403 {
			t.Errorf("a reader's dry run: %d, want 403: %s", r.Status, r.Body)
		}
		if r := a.as(sysAdmin, "POST", dryRunPath, body); r.Status != 200 || len(r.JSON()["nodes"].([]any)) != 2 {
			t.Errorf("the system admin's dry run: %d %s, want both nodes", r.Status, r.Body)
		}
		r := a.as(ownerMember, "POST", dryRunPath, body)
		if !a.newDefaults {
			return // the legacy rules refuse a project member's allocation
		}
		nodes, _ := r.JSON()["nodes"].([]any)
		if r.Status != 200 || len(nodes) != 1 || nodes[0].(map[string]any)["uuid"] != mine {
			t.Errorf("the owner member's dry run: %d %s, want node %s only", r.Status, r.Body, mine)
		}
		if r := a.as(ownerMember, "POST", dryRunPath, map[string]any{"resource_class": "gold", "candidate_nodes": []string{"theirs"}}); r.Status != 400 {
			t.Errorf("the owner member's dry run naming another project's node: %d, want 400: %s", r.Status, r.Body)
		}
	})
}
