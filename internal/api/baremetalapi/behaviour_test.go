package baremetalapi_test

import (
	"fmt"
	"strings"
	"testing"

	"allot/internal/baremetal"
	"allot/internal/testserver"
)

// The tests below follow the behaviour tables of SPEC.md C.7-C.8, on SQLite
// and PostgreSQL, through real HTTP.

func TestAllocationCreate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		gold := enroll(t, b, "gold-1", "baremetal-gold", "available", false)
		gpu := enroll(t, b, "gpu-1", "baremetal-gpu", "available", false)
		b.Must(204, "PUT", "/v1/nodes/"+gpu+"/traits", v, map[string]any{"traits": []string{"CUSTOM_GPU"}})

		// Plain: 201 allocating, then active on the only node; the node gets instance and allocation.
		r := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "baremetal-gold"})
		a := r.JSON()
		if a["state"] != "allocating" || a["node_uuid"] != nil || a["updated_at"] != nil || a["name"] != nil ||
			fmt.Sprint(a["traits"]) != "[]" || fmt.Sprint(a["candidate_nodes"]) != "[]" || fmt.Sprint(a["extra"]) != "map[]" {
			t.Fatalf("new allocation: %v", a)
		}
		if !strings.HasSuffix(r.Header.Get("Location"), "/v1/allocations/"+a["uuid"].(string)) {
			t.Errorf("Location = %q", r.Header.Get("Location"))
		}
		if id := r.Header.Get("Openstack-Request-Id"); !strings.HasPrefix(id, "req-") || r.Header.Get("X-Openstack-Request-Id") != id {
			t.Errorf("request id headers: %v", r.Header)
		}
		done := waitDone(t, b, a["uuid"].(string))
		if done["state"] != "active" || done["node_uuid"] != gold {
			t.Fatalf("allocation after processing: %v", done)
		}
		node := b.Must(200, "GET", "/v1/nodes/"+gold, v, nil).JSON()
		if node["instance_uuid"] != a["uuid"] || node["allocation_uuid"] != a["uuid"] || node["provision_state"] != "available" {
			t.Errorf("allocated node: %v", node)
		}
		if fmt.Sprint(node["instance_info"].(map[string]any)["traits"]) != "[]" {
			t.Errorf("instance_info.traits = %v", node["instance_info"])
		}
		// The claim is visible in Placement.
		claim := b.Placement.Must(200, "GET", "/allocations/"+a["uuid"].(string), "1.39", nil).JSON()
		if res := claim["allocations"].(map[string]any)[gold]; res == nil || claim["consumer_type"] != "BAREMETAL" {
			t.Errorf("placement claim: %v", claim)
		}
		usages := b.Placement.Must(200, "GET", "/usages?project_id="+baremetal.DefaultProject, "1.9", nil).JSON()
		if fmt.Sprint(usages["usages"]) != "map[CUSTOM_BAREMETAL_GOLD:1]" {
			t.Errorf("placement usages: %v", usages)
		}

		// Traits: goes to the node that has them.
		a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "baremetal-gpu", "traits": []string{"CUSTOM_GPU"}}).JSON()
		if done := waitDone(t, b, a["uuid"].(string)); done["node_uuid"] != gpu || fmt.Sprint(done["traits"]) != "[CUSTOM_GPU]" {
			t.Errorf("traits allocation: %v", done)
		}
		// Traits no free node has: error with Ironic's sentence.
		enroll(t, b, "plain-1", "baremetal-plain", "available", false)
		a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "baremetal-plain", "traits": []string{"CUSTOM_GPU"}}).JSON()
		done = waitDone(t, b, a["uuid"].(string))
		if done["state"] != "error" || done["node_uuid"] != nil ||
			!hasPrefix(done["last_error"].(string), "Failed to process allocation "+a["uuid"].(string)+": no suitable nodes have the requested traits CUSTOM_GPU") {
			t.Errorf("impossible traits: %v", done)
		}
		// No node of that class / all allocated.
		for _, rc := range []string{"baremetal-none", "baremetal-gold"} {
			a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": rc}).JSON()
			done = waitDone(t, b, a["uuid"].(string))
			if done["state"] != "error" || !hasPrefix(done["last_error"].(string), "Failed to process allocation "+a["uuid"].(string)+": no available nodes match the resource class "+rc) {
				t.Errorf("class %s: %v", rc, done)
			}
		}
		// Candidates by name; all of them taken.
		silver := enroll(t, b, "silver-1", "baremetal-silver", "available", false)
		a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "baremetal-silver", "candidate_nodes": []string{"silver-1"}}).JSON()
		if fmt.Sprint(a["candidate_nodes"]) != "["+silver+"]" {
			t.Errorf("candidate_nodes not converted to UUIDs: %v", a["candidate_nodes"])
		}
		if done := waitDone(t, b, a["uuid"].(string)); done["node_uuid"] != silver {
			t.Errorf("candidate allocation: %v", done)
		}
		a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "baremetal-silver", "candidate_nodes": []string{silver}}).JSON()
		done = waitDone(t, b, a["uuid"].(string))
		if !hasPrefix(fmt.Sprint(done["last_error"]), "Failed to process allocation "+a["uuid"].(string)+": none of the requested nodes are available and match the resource class baremetal-silver") {
			t.Errorf("taken candidates: %v", done)
		}

		// Validation errors.
		cases := []struct {
			body   any
			status int
			fault  string
		}{
			{map[string]any{"resource_class": "x", "candidate_nodes": []string{"no-such-node"}}, 400, "Nodes cannot be found: no-such-node"},
			{map[string]any{"resource_class": "x", "candidate_nodes": "n1"}, 400, "Schema error for allocation: 'n1' is not of type 'array', 'null'"},
			{map[string]any{"resource_class": "x", "name": "bad name"}, 400, "Cannot create allocation with invalid name 'bad name'"},
			{map[string]any{"resource_class": "x", "uuid": "not-a-uuid"}, 400, "Expected UUID for uuid: not-a-uuid"},
			{map[string]any{"resource_class": "x", "traits": "CUSTOM_A"}, 400, "Schema error for allocation: 'CUSTOM_A' is not of type 'array', 'null'"},
			{map[string]any{"resource_class": "x", "traits": []string{"CUSTOM_lower"}}, 400, "CUSTOM_lower"},
			{map[string]any{"resource_class": "x", "traits": []string{"NOT_A_STANDARD_TRAIT"}}, 400, "NOT_A_STANDARD_TRAIT"},
			{map[string]any{"resource_class": strings.Repeat("r", 81)}, 400, "is too long"},
			{map[string]any{}, 400, "The resource_class field is mandatory when not backfilling"},
			{map[string]any{"resource_class": ""}, 400, "The resource_class field is mandatory when not backfilling"},
			{map[string]any{"resource_class": nil}, 400, "The resource_class field is mandatory when not backfilling"},
			{map[string]any{"resource_class": "x", "bogus": 1}, 400, "Schema error for allocation: Additional properties are not allowed ('bogus' was unexpected)"},
			{map[string]any{"resource_class": "x", "state": "active"}, 400, "('state' was unexpected)"},
			{map[string]any{"resource_class": "x", "extra": "str"}, 400, "Schema error for allocation: 'str' is not of type 'object', 'null'"},
			{[]string{"resource_class"}, 400, "Schema error for allocation: ['resource_class'] is not of type 'object'"},
			{"{not json", 400, "not valid JSON"},
		}
		for _, c := range cases {
			r := b.Do("POST", "/v1/allocations", v, c.body)
			if r.Status != c.status || !strings.Contains(r.Fault(), c.fault) {
				t.Errorf("POST %v: %d %q, want %d containing %q", c.body, r.Status, r.Fault(), c.status, c.fault)
			}
		}
		// Duplicates.
		id := newUUID()
		b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "x", "name": "my-alloc", "uuid": id, "extra": map[string]any{"k": "v"}})
		if r := b.Do("POST", "/v1/allocations", v, map[string]any{"resource_class": "x", "name": "my-alloc"}); r.Status != 409 || r.Fault() != "An allocation with name my-alloc already exists." {
			t.Errorf("duplicate name: %d %s", r.Status, r.Fault())
		}
		if r := b.Do("POST", "/v1/allocations", v, map[string]any{"resource_class": "x", "uuid": id}); r.Status != 409 || r.Fault() != "An allocation with UUID "+id+" already exists." {
			t.Errorf("duplicate uuid: %d %s", r.Status, r.Fault())
		}
		// Accepted quirks: empty name, standard trait; owner only from 1.60.
		b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "x", "name": "", "traits": []string{"HW_CPU_X86_AVX2"}})
		if r := b.Do("POST", "/v1/allocations", "1.59", map[string]any{"resource_class": "x", "owner": "p1"}); r.Status != 406 {
			t.Errorf("owner at 1.59: %d %s", r.Status, r.Body)
		}
		own := b.Must(201, "POST", "/v1/allocations", "1.60", map[string]any{"resource_class": "x", "owner": "p1"}).JSON()
		if own["owner"] != "p1" {
			t.Errorf("owner not echoed: %v", own)
		}
		if _, shown := b.Must(200, "GET", "/v1/allocations/"+own["uuid"].(string), "1.59", nil).JSON()["owner"]; shown {
			t.Error("owner shown at 1.59")
		}
	})
}

func TestAllocationNotAllocatableNodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		// Every kind of unsuitable node: the allocation fails and says why.
		enroll(t, b, "n-manageable", "rc-x", "manageable", false)
		enroll(t, b, "n-nopower", "rc-x", "available", true)
		maint := enroll(t, b, "n-maint", "rc-x", "available", false)
		b.Must(202, "PUT", "/v1/nodes/"+maint+"/maintenance", v, map[string]any{"reason": "broken fan"})
		inst := enroll(t, b, "n-instance", "rc-x", "available", false)
		b.Must(200, "PATCH", "/v1/nodes/"+inst, v, []map[string]any{{"op": "add", "path": "/instance_uuid", "value": newUUID()}})
		enroll(t, b, "n-active", "rc-x", "active", false)
		a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-x"}).JSON()
		done := waitDone(t, b, a["uuid"].(string))
		msg := fmt.Sprint(done["last_error"])
		for _, want := range []string{"no available nodes match the resource class rc-x", "5 nodes of that class",
			"1 in provision state manageable", "1 in provision state active", "1 in maintenance", "1 with no known power state", "1 associated with an instance"} {
			if !strings.Contains(msg, want) {
				t.Errorf("last_error %q lacks %q", msg, want)
			}
		}
		// None of them is offered by Placement either.
		c := b.Placement.Must(200, "GET", "/allocation_candidates?resources=CUSTOM_RC_X:1", "1.39", nil).JSON()
		if n := len(c["allocation_requests"].([]any)); n != 0 {
			t.Errorf("placement offers %d unallocatable nodes", n)
		}
		// A node named like the allocation is preferred.
		for i := 0; i < 3; i++ {
			enroll(t, b, fmt.Sprintf("pick-%d", i), "rc-pick", "available", false)
		}
		a = b.Must(201, "POST", "/v1/allocations", "1.58", map[string]any{"resource_class": "rc-pick", "name": "pick-2"}).JSON()
		done = waitDone(t, b, a["uuid"].(string))
		node := b.Must(200, "GET", "/v1/nodes/pick-2", v, nil).JSON()
		if done["node_uuid"] != node["uuid"] {
			t.Errorf("name match not preferred: %v", done)
		}
	})
}
