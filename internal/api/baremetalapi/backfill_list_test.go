package baremetalapi_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"allot/internal/testserver"
)

// SPEC C.8.2. Where Ironic answers 500 and stores a failed allocation, allot
// answers 409 with every mismatch named and stores nothing (SPEC C.9.2).
func TestAllocationBackfill(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		deployed := enroll(t, b, "deployed", "rc-deployed", "active", false)
		b.Must(204, "PUT", "/v1/nodes/"+deployed+"/traits", v, map[string]any{"traits": []string{"CUSTOM_X"}})

		if r := b.Do("POST", "/v1/allocations", "1.57", map[string]any{"node": deployed}); r.Status != 400 ||
			r.Fault() != "Cannot set node when creating an allocation in this API version" {
			t.Errorf("backfill at 1.57: %d %s", r.Status, r.Fault())
		}
		// Refusals first, while the node is free: nothing is stored.
		avail := enroll(t, b, "avail", "rc-deployed", "available", false)
		refusals := []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"node": deployed, "resource_class": "rc-other", "name": "bf-rc"}, "Resource class rc-deployed does not match the requested resource class rc-other"},
			{map[string]any{"node": deployed, "traits": []string{"CUSTOM_Y"}, "name": "bf-traits"}, "lack the requested traits [CUSTOM_Y]"},
			{map[string]any{"node": deployed, "candidate_nodes": []string{avail}, "name": "bf-cands"}, "Candidate nodes must be empty or contain the target node, but got [" + avail + "]"},
			{map[string]any{"node": avail, "name": "bf-avail"}, `Node must be in the "active" state, but the current state is "available"`},
		}
		for _, c := range refusals {
			r := b.Do("POST", "/v1/allocations", v, c.body)
			if r.Status != 409 || !strings.Contains(r.Fault(), "Cannot backfill an allocation for node ") || !strings.Contains(r.Fault(), c.want) {
				t.Errorf("refused backfill %v: %d %q", c.body, r.Status, r.Fault())
			}
			if r := b.Do("GET", "/v1/allocations/"+c.body["name"].(string), v, nil); r.Status != 404 {
				t.Errorf("refused backfill %v was stored: %d", c.body, r.Status)
			}
		}
		if r := b.Do("POST", "/v1/allocations", v, map[string]any{"node": "no-such-node"}); r.Status != 400 || r.Fault() != "Node no-such-node could not be found." {
			t.Errorf("unknown node: %d %s", r.Status, r.Fault())
		}
		if n := b.Must(200, "GET", "/v1/nodes/"+deployed, v, nil).JSON(); n["instance_uuid"] != nil || n["allocation_uuid"] != nil {
			t.Errorf("refusals touched the node: %v", n)
		}

		// Success is synchronous: active at once, class copied, no "node" key.
		a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"node": "deployed", "traits": []string{"CUSTOM_X"}}).JSON()
		if a["state"] != "active" || a["node_uuid"] != deployed || a["updated_at"] == nil || a["resource_class"] != "rc-deployed" {
			t.Errorf("backfill: %v", a)
		}
		if _, ok := a["node"]; ok {
			t.Errorf("backfill answer has a node key: %v", a)
		}
		if n := b.Must(200, "GET", "/v1/nodes/"+deployed, v, nil).JSON(); n["allocation_uuid"] != a["uuid"] || n["instance_uuid"] != a["uuid"] {
			t.Errorf("backfilled node: %v", n)
		}
		// Again: the uuid defaults to the node's instance_uuid, which exists.
		if r := b.Do("POST", "/v1/allocations", v, map[string]any{"node": deployed}); r.Status != 409 ||
			r.Fault() != fmt.Sprintf("An allocation with UUID %s already exists.", a["uuid"]) {
			t.Errorf("second backfill: %d %s", r.Status, r.Fault())
		}

		// A node deployed with a preset instance_uuid: the allocation takes that uuid.
		preset := enroll(t, b, "preset", "rc-deployed", "active", false)
		inst := newUUID()
		b.Must(200, "PATCH", "/v1/nodes/"+preset, v, []map[string]any{{"op": "add", "path": "/instance_uuid", "value": inst}})
		other := newUUID()
		if r := b.Do("POST", "/v1/allocations", v, map[string]any{"node": preset, "uuid": other}); r.Status != 409 ||
			r.Fault() != fmt.Sprintf("Node %s is associated with instance %s.", preset, inst) {
			t.Errorf("backfill with another uuid: %d %s", r.Status, r.Fault())
		}
		if r := b.Do("GET", "/v1/allocations/"+other, v, nil); r.Status != 404 {
			t.Errorf("refused backfill stored: %d", r.Status)
		}
		a = b.Must(201, "POST", "/v1/allocations", v, map[string]any{"node": preset}).JSON()
		if a["uuid"] != inst || a["state"] != "active" {
			t.Errorf("preset backfill: %v", a)
		}
		// The backfilled claim is in Placement under the allocation's uuid.
		claim := b.Placement.Must(200, "GET", "/allocations/"+inst, "1.39", nil).JSON()
		if claim["allocations"].(map[string]any)[preset] == nil {
			t.Errorf("backfill claim missing: %v", claim)
		}
	})
}

// SPEC C.8.3.
func TestAllocationShowList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		n1 := enroll(t, b, "node-1", "rc-a", "available", false)
		var ids []string
		for _, body := range []map[string]any{
			{"resource_class": "rc-a", "name": "c-alloc"},
			{"resource_class": "rc-b", "name": "a-alloc"},
			{"resource_class": "rc-b", "name": "b-alloc", "owner": "p2"},
		} {
			a := b.Must(201, "POST", "/v1/allocations", v, body).JSON()
			waitDone(t, b, a["uuid"].(string))
			ids = append(ids, a["uuid"].(string))
		}
		byUUID := b.Must(200, "GET", "/v1/allocations/"+ids[0], v, nil).Body
		byName := b.Must(200, "GET", "/v1/allocations/c-alloc", v, nil).Body
		if string(byUUID) != string(byName) {
			t.Errorf("by uuid %s != by name %s", byUUID, byName)
		}
		a0 := b.Must(200, "GET", "/v1/allocations/c-alloc", v, nil).JSON()
		if a0["node_uuid"] != n1 || a0["state"] != "active" {
			t.Errorf("c-alloc: %v", a0)
		}
		keys := "candidate_nodes created_at extra last_error links name node_uuid owner resource_class state traits updated_at uuid"
		if got := sortedKeys(a0); got != keys {
			t.Errorf("allocation keys %q, want %q", got, keys)
		}
		if got := sortedKeys(b.Must(200, "GET", "/v1/allocations/c-alloc", "1.59", nil).JSON()); got != strings.Replace(keys, "owner ", "", 1) {
			t.Errorf("keys at 1.59: %q", got)
		}

		unknown := newUUID()
		errs := []struct {
			path   string
			ver    string
			status int
			fault  string
		}{
			{"/v1/allocations/nope", v, 404, "Allocation nope could not be found."},
			{"/v1/allocations/bad%20name", v, 400, "Expected UUID or name for allocation_ident: bad name"},
			{"/v1/allocations/c-alloc?fields=bogus", v, 400, `Field(s) "bogus" are not valid`},
			{"/v1/allocations/c-alloc?fields=owner", "1.59", 406, "Request not acceptable."},
			{"/v1/allocations?node=no-such", v, 400, "Node no-such could not be found."},
			{"/v1/allocations?node=bad%20name", v, 400, "Expected UUID or name for node: bad name"},
			{"/v1/allocations?marker=c-alloc", v, 400, "Expected UUID for marker: c-alloc"},
			{"/v1/allocations?marker=" + unknown, v, 404, "Allocation " + unknown + " could not be found."},
			{"/v1/allocations?sort_key=traits", v, 400, "The sort_key value traits is an invalid field for sorting"},
			{"/v1/allocations?sort_key=extra", v, 400, "The sort_key value extra is an invalid field for sorting"},
			{"/v1/allocations?sort_key=candidate_nodes", v, 400, "The sort_key value candidate_nodes is an invalid field for sorting"},
			{"/v1/allocations?sort_key=bogus", v, 400, `The sort_key value "bogus" is an invalid field for sorting`},
			{"/v1/allocations?sort_dir=up", v, 400, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"},
			{"/v1/allocations?limit=0", v, 400, "Limit must be positive"},
			{"/v1/allocations?limit=-1", v, 400, "Limit must be positive"},
			{"/v1/allocations?limit=abc", v, 400, "Expected an integer for limit: abc"},
			{"/v1/allocations/detail", v, 404, "Allocation detail could not be found."},
			{"/v1/allocations?detail=True", v, 400, "Unexpected arguments: detail"},
		}
		for _, c := range errs {
			r := b.Do("GET", c.path, c.ver, nil)
			if r.Status != c.status || !strings.Contains(r.Fault(), c.fault) {
				t.Errorf("GET %s at %s: %d %q, want %d %q", c.path, c.ver, r.Status, r.Fault(), c.status, c.fault)
			}
		}

		fields := b.Must(200, "GET", "/v1/allocations/c-alloc?fields=uuid,name,node_uuid", v, nil).JSON()
		if got := sortedKeys(fields); got != "links name node_uuid uuid" {
			t.Errorf("fields: %q", got)
		}

		list := func(q string) []string {
			t.Helper()
			doc := b.Must(200, "GET", "/v1/allocations"+q, v, nil).JSON()
			var names []string
			for _, a := range doc["allocations"].([]any) {
				names = append(names, fmt.Sprint(a.(map[string]any)["name"]))
			}
			return names
		}
		cases := []struct {
			query string
			want  string
		}{
			{"", "[c-alloc a-alloc b-alloc]"},
			{"?resource_class=rc-b", "[a-alloc b-alloc]"},
			{"?state=active", "[c-alloc]"},
			{"?state=error", "[a-alloc b-alloc]"},
			{"?state=bogus", "[]"},
			{"?node=node-1", "[c-alloc]"},
			{"?node=" + n1, "[c-alloc]"},
			{"?owner=p2", "[b-alloc]"},
			{"?sort_key=name", "[a-alloc b-alloc c-alloc]"},
			{"?sort_key=name&sort_dir=desc", "[c-alloc b-alloc a-alloc]"},
			{"?sort_key=created_at", "[c-alloc a-alloc b-alloc]"},
			{"?sort_key=resource_class&sort_dir=desc&limit=1", "[b-alloc]"}, // ties broken by id in the same direction
			{"?limit=5000", "[c-alloc a-alloc b-alloc]"},
			{"?limit=2&marker=" + ids[0], "[a-alloc b-alloc]"},
		}
		for _, c := range cases {
			if got := fmt.Sprint(list(c.query)); got != c.want {
				t.Errorf("list %q = %s, want %s", c.query, got, c.want)
			}
		}
		for _, key := range []string{"updated_at", "state", "uuid", "node_id"} {
			b.Must(200, "GET", "/v1/allocations?sort_key="+key, v, nil)
		}

		// Pagination: next keeps the filters and is present on full pages only.
		doc := b.Must(200, "GET", "/v1/allocations?resource_class=rc-b&limit=1&fields=uuid,name", v, nil).JSON()
		next, _ := doc["next"].(string)
		u, err := url.Parse(next)
		if err != nil || u.Query().Get("resource_class") != "rc-b" || u.Query().Get("marker") != ids[1] ||
			u.Query().Get("limit") != "1" || u.Query().Get("fields") != "uuid,name" {
			t.Fatalf("next = %q", next)
		}
		page2 := b.Must(200, "GET", u.RequestURI(), v, nil).JSON()
		if items := page2["allocations"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "b-alloc" {
			t.Errorf("page 2: %v", page2)
		}
		if _, ok := b.Must(200, "GET", "/v1/allocations?limit=5", v, nil).JSON()["next"]; ok {
			t.Error("next on a short page")
		}
	})
}

func sortedKeys(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}
