package baremetalapi_test

import (
	"fmt"
	"strings"
	"testing"

	"allot/internal/testserver"
)

// SPEC C.7: the node API allocations rely on.
func TestNodeAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		r := b.Must(201, "POST", "/v1/nodes", v, map[string]any{"driver": "fake-hardware", "name": "n1", "resource_class": "rc-1",
			"properties": map[string]any{"cpus": 8}, "extra": map[string]any{"rack": "r1"}, "owner": "p1"})
		n := r.JSON()
		id := n["uuid"].(string)
		if !strings.HasSuffix(r.Header.Get("Location"), "/v1/nodes/"+id) || n["provision_state"] != "enroll" || n["power_state"] != nil ||
			n["owner"] != "p1" || fmt.Sprint(n["properties"]) != "map[cpus:8]" || n["maintenance"] != false {
			t.Errorf("created node: %v %v", r.Header, n)
		}
		bad := []struct {
			body  map[string]any
			fault string
		}{
			{map[string]any{"driver": "ipmi"}, `The driver "ipmi" is not supported`},
			{map[string]any{"name": "no-driver"}, "'driver' is a required property"},
			{map[string]any{"driver": "fake-hardware", "name": "bad name"}, "bad name"},
			{map[string]any{"driver": "fake-hardware", "name": "n1"}, "n1"},
			{map[string]any{"driver": "fake-hardware", "provision_state": "active"}, "provision_state"},
		}
		for _, c := range bad {
			if r := b.Do("POST", "/v1/nodes", v, c.body); r.Status/100 != 4 || !strings.Contains(r.Fault(), c.fault) {
				t.Errorf("POST node %v: %d %q", c.body, r.Status, r.Fault())
			}
		}

		// Provision verbs complete at once; wrong verbs are 400 in Ironic's words.
		if r := b.Do("PUT", "/v1/nodes/"+id+"/states/provision", v, map[string]any{"target": "provide"}); r.Status != 400 ||
			r.Fault() != fmt.Sprintf(`The requested action "provide" can not be performed on node "%s" while it is in state "enroll".`, id) {
			t.Errorf("provide from enroll: %d %s", r.Status, r.Fault())
		}
		for _, step := range []struct{ verb, state string }{{"manage", "manageable"}, {"provide", "available"}, {"active", "active"}, {"deleted", "available"}} {
			if r := b.Must(202, "PUT", "/v1/nodes/n1/states/provision", v, map[string]any{"target": step.verb}); len(r.Body) != 0 {
				t.Errorf("%s body %q", step.verb, r.Body)
			}
			n = b.Must(200, "GET", "/v1/nodes/"+id, v, nil).JSON()
			if n["provision_state"] != step.state || n["target_provision_state"] != nil {
				t.Errorf("after %s: %v / %v", step.verb, n["provision_state"], n["target_provision_state"])
			}
		}
		if r := b.Do("PUT", "/v1/nodes/n1/states/provision", v, map[string]any{"target": "fly"}); r.Status != 400 {
			t.Errorf("unknown verb: %d", r.Status)
		}
		if n["power_state"] != nil {
			t.Errorf("fake power state set without a power action: %v", n["power_state"])
		}
		for _, p := range []struct{ target, state string }{{"power on", "power on"}, {"power off", "power off"}, {"rebooting", "power on"}, {"soft power off", "power off"}} {
			b.Must(202, "PUT", "/v1/nodes/"+id+"/states/power", v, map[string]any{"target": p.target})
			if n = b.Must(200, "GET", "/v1/nodes/"+id, v, nil).JSON(); n["power_state"] != p.state || n["target_power_state"] != nil {
				t.Errorf("after %s: %v", p.target, n["power_state"])
			}
		}
		if r := b.Do("PUT", "/v1/nodes/"+id+"/states/power", v, map[string]any{"target": "explode"}); r.Status != 400 {
			t.Errorf("bad power target: %d", r.Status)
		}
		states := b.Must(200, "GET", "/v1/nodes/"+id+"/states", v, nil).JSON()
		if states["provision_state"] != "available" || states["power_state"] != "power off" {
			t.Errorf("states: %v", states)
		}

		// Traits: replace, add one, remove one, remove all.
		b.Must(204, "PUT", "/v1/nodes/"+id+"/traits", v, map[string]any{"traits": []string{"CUSTOM_B", "CUSTOM_A"}})
		b.Must(204, "PUT", "/v1/nodes/"+id+"/traits/CUSTOM_C", v, nil)
		b.Must(204, "DELETE", "/v1/nodes/"+id+"/traits/CUSTOM_B", v, nil)
		if got := b.Must(200, "GET", "/v1/nodes/"+id+"/traits", v, nil).JSON(); fmt.Sprint(got["traits"]) != "[CUSTOM_A CUSTOM_C]" {
			t.Errorf("traits: %v", got)
		}
		if got := b.Must(200, "GET", "/v1/nodes/"+id, v, nil).JSON(); fmt.Sprint(got["traits"]) != "[CUSTOM_A CUSTOM_C]" {
			t.Errorf("node.traits: %v", got["traits"])
		}
		if r := b.Do("DELETE", "/v1/nodes/"+id+"/traits/CUSTOM_B", v, nil); r.Status != 404 {
			t.Errorf("remove absent trait: %d", r.Status)
		}
		if r := b.Do("PUT", "/v1/nodes/"+id+"/traits/lower_case", v, nil); r.Status != 400 {
			t.Errorf("invalid trait: %d", r.Status)
		}
		// The provider mirrors the node's class and traits.
		pt := b.Placement.Must(200, "GET", "/resource_providers/"+id+"/traits", "1.39", nil).JSON()
		if fmt.Sprint(pt["traits"]) != "[CUSTOM_A CUSTOM_C]" {
			t.Errorf("provider traits: %v", pt)
		}
		inv := b.Placement.Must(200, "GET", "/resource_providers/"+id+"/inventories", "1.39", nil).JSON()
		if inv["inventories"].(map[string]any)["CUSTOM_RC_1"] == nil {
			t.Errorf("provider inventory: %v", inv)
		}
		b.Must(204, "DELETE", "/v1/nodes/"+id+"/traits", v, nil)
		if got := b.Must(200, "GET", "/v1/nodes/"+id+"/traits", v, nil).JSON(); fmt.Sprint(got["traits"]) != "[]" {
			t.Errorf("traits after clear: %v", got)
		}

		// Maintenance.
		b.Must(202, "PUT", "/v1/nodes/"+id+"/maintenance", v, map[string]any{"reason": "disk"})
		if n = b.Must(200, "GET", "/v1/nodes/"+id, v, nil).JSON(); n["maintenance"] != true || n["maintenance_reason"] != "disk" {
			t.Errorf("maintenance on: %v %v", n["maintenance"], n["maintenance_reason"])
		}
		b.Must(202, "DELETE", "/v1/nodes/"+id+"/maintenance", v, nil)
		if n = b.Must(200, "GET", "/v1/nodes/"+id, v, nil).JSON(); n["maintenance"] != false || n["maintenance_reason"] != nil {
			t.Errorf("maintenance off: %v %v", n["maintenance"], n["maintenance_reason"])
		}

		// Fields, list, detail, filters, pagination.
		if got := b.Must(200, "GET", "/v1/nodes/"+id+"?fields=uuid,allocation_uuid", v, nil).JSON(); sortedKeys(got) != "allocation_uuid links uuid" {
			t.Errorf("node fields: %v", got)
		}
		enroll(t, b, "n2", "rc-2", "manageable", false)
		enroll(t, b, "n3", "rc-2", "available", false)
		names := func(path string) string {
			t.Helper()
			var out []string
			for _, n := range b.Must(200, "GET", path, v, nil).JSON()["nodes"].([]any) {
				out = append(out, fmt.Sprint(n.(map[string]any)["name"]))
			}
			return fmt.Sprint(out)
		}
		for _, c := range []struct{ path, want string }{
			{"/v1/nodes", "[n1 n2 n3]"},
			{"/v1/nodes?resource_class=rc-2", "[n2 n3]"},
			{"/v1/nodes?provision_state=available", "[n1 n3]"},
			{"/v1/nodes?maintenance=false&resource_class=rc-1", "[n1]"},
			{"/v1/nodes?associated=false&limit=2", "[n1 n2]"},
			{"/v1/nodes?owner=p1", "[n1]"},
			{"/v1/nodes?driver=fake-hardware&limit=2", "[n1 n2]"},
			{"/v1/nodes?driver=ipmi", "[]"},
			{"/v1/nodes?sort_key=name&sort_dir=desc", "[n3 n2 n1]"},
			{"/v1/nodes/detail?resource_class=rc-1", "[n1]"},
			{"/v1/nodes/?resource_class=rc-1", "[n1]"}, // python-ironicclient's form
		} {
			if got := names(c.path); got != c.want {
				t.Errorf("GET %s = %s, want %s", c.path, got, c.want)
			}
		}
		list := b.Must(200, "GET", "/v1/nodes?fields=uuid,name,allocation_uuid", v, nil).JSON()
		if first := list["nodes"].([]any)[0].(map[string]any); sortedKeys(first) != "allocation_uuid links name uuid" {
			t.Errorf("list fields=allocation_uuid (a 500 in Ironic): %v", first)
		}
		detail := b.Must(200, "GET", "/v1/nodes/detail", v, nil).JSON()["nodes"].([]any)[0].(map[string]any)
		if _, ok := detail["allocation_uuid"]; !ok || detail["driver"] != "fake-hardware" {
			t.Errorf("detail: %v", detail)
		}
		if r := b.Do("GET", "/v1/nodes/nope", v, nil); r.Status != 404 || r.Fault() != "Node nope could not be found." {
			t.Errorf("unknown node: %d %s", r.Status, r.Fault())
		}

		// PATCH and DELETE.
		got := b.Must(200, "PATCH", "/v1/nodes/n2", v, []op{{"op": "replace", "path": "/resource_class", "value": "rc-3"}, {"op": "add", "path": "/extra/k", "value": "v"}}).JSON()
		if got["resource_class"] != "rc-3" || fmt.Sprint(got["extra"]) != "map[k:v]" {
			t.Errorf("patched node: %v", got)
		}
		if r := b.Do("PATCH", "/v1/nodes/n2", v, []op{{"op": "replace", "path": "/provision_state", "value": "active"}}); r.Status != 400 {
			t.Errorf("patch provision_state: %d %s", r.Status, r.Fault())
		}
		b.Must(204, "DELETE", "/v1/nodes/n2", v, nil)
		b.Must(404, "GET", "/v1/nodes/n2", v, nil)
		b.Placement.Must(404, "GET", "/resource_providers/"+got["uuid"].(string), "1.39", nil)
		inst := newUUID()
		b.Must(200, "PATCH", "/v1/nodes/n3", v, []op{{"op": "add", "path": "/instance_uuid", "value": inst}})
		// The filter applies before the page limit: n3 is the first match.
		if got := names("/v1/nodes?instance_uuid=" + inst + "&limit=1"); got != "[n3]" {
			t.Errorf("?instance_uuid= gives %s", got)
		}
		if r := b.Do("DELETE", "/v1/nodes/n3", v, nil); r.Status != 409 {
			t.Errorf("delete node with instance: %d %s", r.Status, r.Fault())
		}
		b.Must(200, "PATCH", "/v1/nodes/n3", v, []op{{"op": "remove", "path": "/instance_uuid"}})
		b.Must(204, "DELETE", "/v1/nodes/n3", v, nil)
	})
}

// SPEC C.8.7.
func TestNodeAllocationEffects(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		allocate := func(name string) (string, string) {
			t.Helper()
			n := enroll(t, b, name, "rc-"+name, "available", false)
			a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-" + name}).JSON()
			if done := waitDone(t, b, a["uuid"].(string)); done["node_uuid"] != n {
				t.Fatalf("allocate %s: %v", name, done)
			}
			return n, a["uuid"].(string)
		}

		// allocation_uuid from 1.52.
		n, a := allocate("v1")
		if got := b.Must(200, "GET", "/v1/nodes/"+n, "1.52", nil).JSON(); got["allocation_uuid"] != a {
			t.Errorf("allocation_uuid at 1.52: %v", got["allocation_uuid"])
		}
		if _, ok := b.Must(200, "GET", "/v1/nodes/"+n, "1.51", nil).JSON()["allocation_uuid"]; ok {
			t.Error("allocation_uuid shown at 1.51")
		}
		if r := b.Do("GET", "/v1/nodes/"+n+"?fields=allocation_uuid", "1.51", nil); r.Status != 406 {
			t.Errorf("fields=allocation_uuid at 1.51: %d", r.Status)
		}

		// Deploy keeps the allocation; undeploy deletes it and clears instance_info.
		b.Must(202, "PUT", "/v1/nodes/"+n+"/states/provision", v, map[string]any{"target": "active"})
		b.Must(200, "GET", "/v1/allocations/"+a, v, nil)
		b.Must(202, "PUT", "/v1/nodes/"+n+"/states/provision", v, map[string]any{"target": "deleted"})
		b.Must(404, "GET", "/v1/allocations/"+a, v, nil)
		if got := b.Must(200, "GET", "/v1/nodes/"+n, v, nil).JSON(); got["instance_uuid"] != nil || fmt.Sprint(got["instance_info"]) != "map[]" {
			t.Errorf("after undeploy: %v %v", got["instance_uuid"], got["instance_info"])
		}
		if doc := b.Placement.Must(200, "GET", "/allocations/"+a, "1.39", nil).JSON(); len(doc["allocations"].(map[string]any)) != 0 {
			t.Errorf("claim left after undeploy: %v", doc)
		}

		// Removing instance_uuid: deletes the allocation on an available node, 409 on an active one.
		n, a = allocate("v2")
		b.Must(200, "PATCH", "/v1/nodes/"+n, v, []op{{"op": "remove", "path": "/instance_uuid"}})
		b.Must(404, "GET", "/v1/allocations/"+a, v, nil)
		n, a = allocate("v3")
		b.Must(202, "PUT", "/v1/nodes/"+n+"/states/provision", v, map[string]any{"target": "active"})
		if r := b.Do("PATCH", "/v1/nodes/"+n, v, []op{{"op": "remove", "path": "/instance_uuid"}}); r.Status != 409 ||
			!strings.HasPrefix(r.Fault(), fmt.Sprintf("Node %s with an allocation can not have instance_uuid removed unless it is in one of allowed", n)) {
			t.Errorf("remove instance_uuid on active node: %d %s", r.Status, r.Fault())
		}
		if r := b.Do("PATCH", "/v1/nodes/"+n, v, []op{{"op": "replace", "path": "/instance_uuid", "value": newUUID()}}); r.Status != 409 ||
			r.Fault() != fmt.Sprintf("Node %s is associated with instance %s.", n, a) {
			t.Errorf("replace instance_uuid: %d %s", r.Status, r.Fault())
		}

		// Changing the class of an allocated node: the allocation keeps its class.
		n, a = allocate("v4")
		b.Must(200, "PATCH", "/v1/nodes/"+n, v, []op{{"op": "replace", "path": "/resource_class", "value": "rc-new"}})
		if got := b.Must(200, "GET", "/v1/allocations/"+a, v, nil).JSON(); got["resource_class"] != "rc-v4" || got["node_uuid"] != n {
			t.Errorf("allocation after class change: %v", got)
		}
		// The Placement claim moved to the new class, so usages stay truthful.
		if u := b.Placement.Must(200, "GET", "/resource_providers/"+n+"/usages", "1.39", nil).JSON(); fmt.Sprint(u["usages"]) != "map[CUSTOM_RC_NEW:1]" {
			t.Errorf("usages after class change: %v", u)
		}

		// Deleting an allocated node: 409, unless in maintenance (then the allocation goes too).
		if r := b.Do("DELETE", "/v1/nodes/"+n, v, nil); r.Status != 409 || !strings.HasPrefix(r.Fault(), fmt.Sprintf("Node %s is associated with instance %s. To delete the node, delete its allocation first", n, a)) {
			t.Errorf("delete allocated node: %d %s", r.Status, r.Fault())
		}
		b.Must(202, "PUT", "/v1/nodes/"+n+"/maintenance", v, map[string]any{"reason": "retire"})
		b.Must(204, "DELETE", "/v1/nodes/"+n, v, nil)
		b.Must(404, "GET", "/v1/allocations/"+a, v, nil)
		if r := b.Do("GET", "/v1/allocations?node="+n, v, nil); r.Status != 400 {
			t.Errorf("?node=<deleted>: %d", r.Status)
		}
		enrolled := b.Must(201, "POST", "/v1/nodes", v, map[string]any{"driver": "fake-hardware"}).JSON()
		b.Must(204, "DELETE", "/v1/nodes/"+enrolled["uuid"].(string), v, nil)
	})
}

// SPEC C.8.7 versions and the root documents.
func TestBaremetalVersions(t *testing.T) {
	b := testserver.StartBaremetal(t, testserver.OpenStore(t, testserver.Backends[0]))
	cases := []struct {
		method, path, version string
		status                int
		fault                 string
	}{
		{"GET", "/v1/allocations", "1.51", 404, "The API version does not allow allocations"},
		{"POST", "/v1/allocations", "1.51", 405, "The API version does not allow allocations"},
		{"PATCH", "/v1/allocations/x", "1.51", 405, "The API version does not allow allocations"},
		{"DELETE", "/v1/allocations/x", "1.51", 405, "The API version does not allow allocations"},
		{"GET", "/v1/allocations", "", 404, "The API version does not allow allocations"},
		{"GET", "/v1/allocations", "1.52", 200, ""},
		{"GET", "/v1/allocations", "1.80", 406, "Version 1.80 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.79]."},
		{"GET", "/v1/allocations", "2.0", 406, "Mutually exclusive versions requested. Version 2.0 requested but not supported by this service. The supported version range is: [1.1, 1.79]."},
		{"GET", "/v1/allocations", "abc", 406, "Invalid value for X-OpenStack-Ironic-API-Version header"},
	}
	for _, c := range cases {
		r := b.Do(c.method, c.path, c.version, nil)
		if r.Status != c.status || !strings.Contains(r.Fault(), c.fault) {
			t.Errorf("%s %s at %q: %d %q, want %d %q", c.method, c.path, c.version, r.Status, r.Fault(), c.status, c.fault)
		}
	}
	r := b.Must(200, "GET", "/v1/allocations", "latest", nil)
	if r.Header.Get("X-OpenStack-Ironic-API-Version") != "1.79" || r.Header.Get("X-OpenStack-Ironic-API-Minimum-Version") != "1.1" ||
		r.Header.Get("X-OpenStack-Ironic-API-Maximum-Version") != "1.79" {
		t.Errorf("latest headers: %v", r.Header)
	}
	root := b.Must(200, "GET", "/", "", nil).JSON()
	if def := root["default_version"].(map[string]any); def["version"] != "1.79" || def["min_version"] != "1.1" {
		t.Errorf("root: %v", root)
	}
	// Ironic's routing ignores a trailing slash (python-ironicclient lists with /v1/nodes/?...).
	for _, path := range []string{"/v1/", "/v1/nodes/?limit=1", "/v1/allocations/?state=active"} {
		b.Must(200, "GET", path, v, nil)
	}
	b.Must(201, "POST", "/v1/allocations/", v, map[string]any{"resource_class": "x"})
	v1 := b.Must(200, "GET", "/v1", v, nil).JSON()
	if v1["id"] != "v1" || v1["nodes"] == nil || v1["allocations"] == nil {
		t.Errorf("/v1: %v", v1)
	}
	// A non-JSON body is a 400, not Ironic's 500.
	if r := b.Do("POST", "/v1/nodes", v, "{oops"); r.Status != 400 {
		t.Errorf("non-JSON body: %d %s", r.Status, r.Body)
	}
}
