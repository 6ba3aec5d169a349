package baremetalapi_test

import (
	"fmt"
	"strings"
	"testing"

	"allot/internal/testserver"
)

type op = map[string]any

// SPEC C.8.4.
func TestAllocationPatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		enroll(t, b, "n1", "rc-p", "available", false)
		a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-p", "name": "p-alloc", "extra": map[string]any{"k": "v"}}).JSON()
		id := a["uuid"].(string)
		waitDone(t, b, id)
		b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-none", "name": "a-alloc"})

		if r := b.Do("PATCH", "/v1/allocations/"+id, "1.56", []op{{"op": "replace", "path": "/name", "value": "x"}}); r.Status != 405 ||
			r.Fault() != "The API version does not allow updating allocations" {
			t.Errorf("patch at 1.56: %d %s", r.Status, r.Fault())
		}
		got := b.Must(200, "PATCH", "/v1/allocations/p-alloc", "1.57", []op{{"op": "replace", "path": "/name", "value": "q-alloc"}}).JSON()
		if got["name"] != "q-alloc" || got["state"] != "active" || got["updated_at"] == nil {
			t.Errorf("rename: %v", got)
		}
		if r := b.Do("GET", "/v1/allocations/p-alloc", v, nil); r.Status != 404 {
			t.Errorf("old name still answers: %d", r.Status)
		}
		b.Must(200, "GET", "/v1/allocations/q-alloc", v, nil)

		steps := []struct {
			ops   []op
			extra string
			name  any
		}{
			{[]op{{"op": "add", "path": "/extra/foo", "value": "bar"}}, "map[foo:bar k:v]", "q-alloc"},
			{[]op{{"op": "remove", "path": "/extra/foo"}}, "map[k:v]", "q-alloc"},
			{[]op{{"op": "replace", "path": "/extra", "value": map[string]any{"z": 1}}}, "map[z:1]", "q-alloc"},
			{[]op{{"op": "replace", "path": "/extra", "value": nil}}, "map[]", "q-alloc"},
			{[]op{}, "map[]", "q-alloc"},
			{[]op{{"op": "remove", "path": "/name"}}, "map[]", nil},
			{[]op{{"op": "add", "path": "/name", "value": "r-alloc"}, {"op": "replace", "path": "/name", "value": nil}}, "map[]", nil},
			{[]op{{"op": "add", "path": "/extra/k", "value": "v"}, {"op": "add", "path": "/name", "value": "q-alloc"}}, "map[k:v]", "q-alloc"},
		}
		for _, s := range steps {
			got := b.Must(200, "PATCH", "/v1/allocations/"+id, v, s.ops).JSON()
			stored := b.Must(200, "GET", "/v1/allocations/"+id, v, nil).JSON()
			for _, doc := range []map[string]any{got, stored} {
				if fmt.Sprint(doc["extra"]) != s.extra || doc["name"] != s.name {
					t.Errorf("after %v: extra %v name %v, want %s %v", s.ops, doc["extra"], doc["name"], s.extra, s.name)
				}
			}
		}

		errs := []struct {
			ident  string
			body   any
			status int
			fault  string
		}{
			{id, []op{{"op": "remove", "path": "/extra/missing"}}, 400, "Reason: can't remove a non-existent object 'missing'"},
			{id, []op{{"op": "replace", "path": "/extra/a/b", "value": 1}}, 400, "Reason: member 'a' not found in /extra"},
			{id, []op{{"op": "replace", "path": "/name", "value": "a-alloc"}}, 409, "An allocation with name a-alloc already exists."},
			{id, []op{{"op": "replace", "path": "/name", "value": "bad name"}}, 400, "Cannot update allocation with invalid name 'bad name'"},
			{id, []op{{"op": "move", "from": "/name", "path": "/extra/n"}}, 400, "Schema error for patch: Additional properties are not allowed ('from' was unexpected)"},
			{id, []op{{"op": "test", "path": "/name", "value": "x"}}, 400, "Schema error for patch: 'test' is not one of ['add', 'replace', 'remove']"},
			{id, []op{{"op": "bogus", "path": "/name", "value": "x"}}, 400, "Schema error for patch: 'bogus' is not one of ['add', 'replace', 'remove']"},
			{id, map[string]any{"name": "x"}, 400, "Schema error for patch: {'name': 'x'} is not of type 'array'"},
			{"nonexist", []op{}, 404, "Allocation nonexist could not be found."},
		}
		for _, field := range []string{"resource_class", "traits", "state", "uuid", "node_uuid", "owner", "candidate_nodes", "last_error"} {
			errs = append(errs, struct {
				ident  string
				body   any
				status int
				fault  string
			}{id, []op{{"op": "replace", "path": "/" + field, "value": "x"}}, 400, "Cannot patch /" + field + ". Only the following can be updated: name, extra"})
		}
		for _, c := range errs {
			r := b.Do("PATCH", "/v1/allocations/"+c.ident, v, c.body)
			if r.Status != c.status || !strings.Contains(r.Fault(), c.fault) {
				t.Errorf("PATCH %v: %d %q, want %d %q", c.body, r.Status, r.Fault(), c.status, c.fault)
			}
		}
		// A failed patch changes nothing, even when an earlier op was fine.
		b.Do("PATCH", "/v1/allocations/"+id, v, []op{{"op": "add", "path": "/extra/new", "value": 1}, {"op": "remove", "path": "/extra/missing"}})
		if doc := b.Must(200, "GET", "/v1/allocations/"+id, v, nil).JSON(); fmt.Sprint(doc["extra"]) != "map[k:v]" {
			t.Errorf("half-applied patch: %v", doc["extra"])
		}
	})
}

// SPEC C.8.5 and C.8.6.
func TestAllocationDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		alloc := func(node string) (string, string) {
			t.Helper()
			n := enroll(t, b, node, "rc-"+node, "available", false)
			a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-" + node, "name": "a-" + node}).JSON()
			if done := waitDone(t, b, a["uuid"].(string)); done["node_uuid"] != n {
				t.Fatalf("allocation for %s: %v", node, done)
			}
			return n, a["uuid"].(string)
		}
		freed := func(n, rc string) {
			t.Helper()
			node := b.Must(200, "GET", "/v1/nodes/"+n, v, nil).JSON()
			if node["instance_uuid"] != nil || node["allocation_uuid"] != nil {
				t.Errorf("node not freed: %v", node)
			}
			a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": rc}).JSON()
			if done := waitDone(t, b, a["uuid"].(string)); done["node_uuid"] != n {
				t.Errorf("freed node not allocatable again: %v", done)
			}
		}

		// By uuid and by name, on available nodes.
		n, id := alloc("d1")
		if r := b.Must(204, "DELETE", "/v1/allocations/"+id, v, nil); len(r.Body) != 0 {
			t.Errorf("DELETE body %q", r.Body)
		}
		b.Must(404, "GET", "/v1/allocations/"+id, v, nil)
		node := b.Must(200, "GET", "/v1/nodes/"+n, v, nil).JSON()
		if fmt.Sprint(node["instance_info"].(map[string]any)["traits"]) != "[]" {
			t.Errorf("instance_info.traits not left behind like Ironic: %v", node["instance_info"])
		}
		freed(n, "rc-d1")
		n, _ = alloc("d2")
		b.Must(204, "DELETE", "/v1/allocations/a-d2", v, nil)
		freed(n, "rc-d2")
		// Its Placement claim is gone too.
		if doc := b.Placement.Must(200, "GET", "/allocations/"+id, "1.39", nil).JSON(); len(doc["allocations"].(map[string]any)) != 0 {
			t.Errorf("claim left after delete: %v", doc)
		}

		// Error allocation.
		e := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-none"}).JSON()
		waitDone(t, b, e["uuid"].(string))
		b.Must(204, "DELETE", "/v1/allocations/"+e["uuid"].(string), v, nil)

		// Active node: 409 unless in maintenance.
		n, id = alloc("d3")
		b.Must(202, "PUT", "/v1/nodes/"+n+"/states/provision", v, map[string]any{"target": "active"})
		want := fmt.Sprintf("Cannot remove allocation %s for node %s, because the node is active (and maintenance mode is off)", id, n)
		for _, path := range []string{"/v1/allocations/" + id, "/v1/nodes/" + n + "/allocation"} {
			if r := b.Do("DELETE", path, v, nil); r.Status != 409 || r.Fault() != want {
				t.Errorf("DELETE %s on active node: %d %s", path, r.Status, r.Fault())
			}
		}
		b.Must(202, "PUT", "/v1/nodes/"+n+"/maintenance", v, map[string]any{"reason": "x"})
		b.Must(204, "DELETE", "/v1/allocations/"+id, v, nil)
		node = b.Must(200, "GET", "/v1/nodes/"+n, v, nil).JSON()
		if node["instance_uuid"] != nil || node["provision_state"] != "active" {
			t.Errorf("active node after delete in maintenance: %v", node)
		}

		// While allocating: immediately after POST.
		enroll(t, b, "d4", "rc-d4", "available", false)
		a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-d4"}).JSON()
		b.Must(204, "DELETE", "/v1/allocations/"+a["uuid"].(string), v, nil)
		b.Must(404, "GET", "/v1/allocations/"+a["uuid"].(string), v, nil)
		freed(b.Must(200, "GET", "/v1/nodes/d4", v, nil).JSON()["uuid"].(string), "rc-d4")

		b.Must(404, "DELETE", "/v1/allocations/"+newUUID(), v, nil)
		if r := b.Do("DELETE", "/v1/allocations/"+id, "1.51", nil); r.Status != 405 ||
			!strings.HasPrefix(fmt.Sprint(r.ErrorDoc()["description"]), "The API version does not allow allocations. DELETE /v1/allocations/{allocation} needs API microversion 1.52") || r.ErrorDoc()["code"] != float64(405) {
			t.Errorf("DELETE at 1.51: %d %s", r.Status, r.Body)
		}

		// Node sub-resource.
		n, id = alloc("e1")
		for _, ident := range []string{n, "e1"} {
			got := b.Must(200, "GET", "/v1/nodes/"+ident+"/allocation", v, nil).JSON()
			if got["uuid"] != id || got["node_uuid"] != n {
				t.Errorf("node allocation: %v", got)
			}
		}
		if got := b.Must(200, "GET", "/v1/nodes/e1/allocation?fields=uuid", v, nil).JSON(); sortedKeys(got) != "links uuid" {
			t.Errorf("node allocation fields: %v", got)
		}
		enroll(t, b, "node-e", "rc-e", "available", false)
		if r := b.Do("GET", "/v1/nodes/node-e/allocation", v, nil); r.Status != 404 || r.Fault() != "Allocation for node node-e was not found" {
			t.Errorf("no allocation: %d %s", r.Status, r.Fault())
		}
		b.Must(404, "DELETE", "/v1/nodes/node-e/allocation", v, nil)
		if r := b.Do("GET", "/v1/nodes/no-such-node/allocation", v, nil); r.Status != 400 || r.Fault() != "Node no-such-node could not be found." {
			t.Errorf("unknown node: %d %s", r.Status, r.Fault())
		}
		for _, m := range []string{"GET", "DELETE"} {
			if r := b.Do(m, "/v1/nodes/e1/allocation", "1.51", nil); r.Status != 404 || !strings.HasPrefix(fmt.Sprint(r.ErrorDoc()["description"]), m+" /v1/nodes/{node}/allocation needs API microversion 1.52") {
				t.Errorf("%s node allocation at 1.51: %d %s", m, r.Status, r.Body)
			}
		}
		b.Must(204, "DELETE", "/v1/nodes/e1/allocation", v, nil)
		b.Must(404, "GET", "/v1/allocations/"+id, v, nil)
		freed(n, "rc-e1")
	})
}
