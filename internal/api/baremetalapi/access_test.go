package baremetalapi_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"allot/internal/api/baremetalapi"
	"allot/internal/auth"
	"allot/internal/policy"
	"allot/internal/testserver"
)

// The acceptance tests of Ironic's access rules (issue 13, item 3): for
// every node and allocation operation, a table of callers against the
// status Ironic 21.4's default rules give them, on both stores, with the
// switches as Ironic 21.4 leaves them (oslo.policy's defaults: neither
// scope nor the new defaults enforced) and with both switches on.

const (
	projOwner  = "owner-project"
	projLessee = "lessee-project"
	projOther  = "other-project"
)

// caller is an identity, as auth.NoAuth2Credentials reads it.
type caller struct {
	name string
	h    http.Header
}

func newCaller(name, roles, project string, system bool) caller {
	h := http.Header{}
	h.Set("X-Auth-Token", name)
	h.Set("X-Roles", roles)
	if project != "" {
		h.Set("X-Project-Id", project)
	}
	if system {
		h.Set("OpenStack-System-Scope", "all")
	}
	return caller{name, h}
}

// The callers of the tables, in the order of a want array.
var (
	sysAdmin     = newCaller("system-admin", "admin,member,reader", "", true)
	sysReader    = newCaller("system-reader", "reader", "", true)
	ownerMember  = newCaller("owner-member", "member,reader", projOwner, false)
	ownerReader  = newCaller("owner-reader", "reader", projOwner, false)
	otherMember  = newCaller("other-member", "member,reader", projOther, false)
	lesseeMember = newCaller("lessee-member", "member,reader", projLessee, false)
	callers      = []caller{sysAdmin, sysReader, ownerMember, ownerReader, otherMember, lesseeMember}

	// Not in the tables: a project admin, and a system member without
	// the admin role.
	ownerAdmin   = newCaller("owner-admin", "admin,member,reader", projOwner, false)
	systemMember = newCaller("system-member", "member,reader", "", true)
)

// accessModes are the [oslo_policy] switches the tables run with.
var accessModes = []struct {
	name string
	opts policy.Options
}{
	{"ironic-21.4-defaults", policy.Options{}},
	{"scope-and-new-defaults", policy.Options{EnforceScope: true, EnforceNewDefaults: true}},
}

// acl is one access test's server, with policy enforced.
type acl struct {
	t           *testing.T
	b           *testserver.Baremetal
	newDefaults bool
}

// eachAccess runs fn on each store in each mode, the four at once.
func eachAccess(t *testing.T, fn func(t *testing.T, a *acl)) {
	for _, be := range testserver.Backends {
		for _, m := range accessModes {
			t.Run(be+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				enf, err := policy.New(baremetalapi.PolicyDefaults(), m.opts)
				if err != nil {
					t.Fatal(err)
				}
				b := testserver.StartBaremetalAPI(t, testserver.OpenStore(t, be),
					baremetalapi.Options{Auth: auth.NoAuth2Credentials, Policy: enf})
				fn(t, &acl{t: t, b: b, newDefaults: m.opts.EnforceNewDefaults})
			})
		}
	}
}

// as sends a request as c at the newest version.
func (a *acl) as(c caller, method, path string, body any) testserver.Response {
	a.t.Helper()
	return a.b.DoAs(c.h, method, path, v, body)
}

// must sends a request as the system admin and fails unless it answers want.
func (a *acl) must(want int, method, path string, body any) testserver.Response {
	a.t.Helper()
	r := a.as(sysAdmin, method, path, body)
	if r.Status != want {
		a.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, sysAdmin.name, r.Status, want, r.Body)
	}
	return r
}

// node enrolls an available, powered-on node of class rc-acl with the
// given owner and lessee ("" for none) and returns its UUID.
func (a *acl) node(name, owner, lessee string) string {
	a.t.Helper()
	body := map[string]any{"driver": "fake-hardware", "name": name, "resource_class": "rc-acl",
		"driver_info": map[string]any{"address": "10.0.0.1"}}
	if owner != "" {
		body["owner"] = owner
	}
	if lessee != "" {
		body["lessee"] = lessee
	}
	id := a.must(201, "POST", "/v1/nodes", body).JSON()["uuid"].(string)
	for _, verb := range []string{"manage", "provide"} {
		a.must(202, "PUT", "/v1/nodes/"+id+"/states/provision", map[string]any{"target": verb})
	}
	a.must(202, "PUT", "/v1/nodes/"+id+"/states/power", map[string]any{"target": "power on"})
	return id
}

// allocate gives node id an allocation created by the owner project's
// member (so owned by it) and waits until it is bound.
func (a *acl) allocate(id string) string {
	a.t.Helper()
	r := a.as(ownerMember, "POST", "/v1/allocations", map[string]any{"resource_class": "rc-acl", "candidate_nodes": []string{id}})
	if r.Status != 201 {
		a.t.Fatalf("allocate %s: %d %s", id, r.Status, r.Body)
	}
	alloc := r.JSON()["uuid"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := a.must(200, "GET", "/v1/allocations/"+alloc, nil).JSON()
		if got["state"] == "active" {
			return alloc
		}
		if got["state"] == "error" || time.Now().After(deadline) {
			a.t.Fatalf("allocation %s: %v", alloc, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// check compares an answer with the status wanted; a 403 must name rule,
// a 404 must say the object could not be found.
func check(t *testing.T, what string, c caller, r testserver.Response, want int, rule string) {
	t.Helper()
	switch {
	case r.Status != want:
		t.Errorf("%s as %s: %d, want %d: %s", what, c.name, r.Status, want, r.Body)
	case want == 403 && !namesRule(r.Fault(), rule):
		t.Errorf("%s as %s: the 403 does not name %s: %s", what, c.name, rule, r.Fault())
	case want == 404 && !strings.Contains(r.Fault(), "could not be found"):
		t.Errorf("%s as %s: 404 %s", what, c.name, r.Fault())
	}
}

// namesRule reports whether a message names rule (and not merely a rule
// whose name starts with it).
func namesRule(msg, rule string) bool {
	for rest := msg; ; {
		i := strings.Index(rest, rule)
		if i < 0 {
			return false
		}
		rest = rest[i+len(rule):]
		if rest == "" || !strings.ContainsAny(rest[:1], "abcdefghijklmnopqrstuvwxyz_:") {
			return true
		}
	}
}

// The node a row acts on.
type nodePrep int

const (
	plainNode     nodePrep = iota // owned by the owner project, leased to the lessee project
	tracedNode                    // the same, with trait CUSTOM_A
	allocatedNode                 // the same, bound to an allocation of the owner project
)

func TestNodeAccess(t *testing.T) {
	// Statuses per caller: system admin, system reader, owner member,
	// owner reader, member of another project, lessee member. A node a
	// caller may not see is a 404; an operation it may not do on a node
	// it sees is a 403 naming the rule. These do not depend on the mode.
	rows := []struct {
		what         string
		method, path string // path has %s for the node
		body         any
		prep         nodePrep
		mutates      bool
		want         [6]int
		rule         string
	}{
		{"show", "GET", "/v1/nodes/%s", nil, plainNode, false, [6]int{200, 200, 200, 200, 404, 200}, ""},
		{"states", "GET", "/v1/nodes/%s/states", nil, plainNode, false, [6]int{200, 200, 200, 200, 404, 200}, ""},
		{"list traits", "GET", "/v1/nodes/%s/traits", nil, tracedNode, false, [6]int{200, 200, 200, 200, 404, 200}, ""},
		{"enroll", "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware"}, plainNode, true,
			[6]int{201, 403, 403, 403, 403, 403}, "baremetal:node:create"},
		{"patch extra", "PATCH", "/v1/nodes/%s", []op{{"op": "add", "path": "/extra/k", "value": "v"}}, plainNode, true,
			[6]int{200, 403, 200, 403, 404, 200}, "baremetal:node:update_extra"},
		{"patch instance_info", "PATCH", "/v1/nodes/%s", []op{{"op": "add", "path": "/instance_info/k", "value": "v"}}, plainNode, true,
			[6]int{200, 403, 200, 403, 404, 403}, "baremetal:node:update_instance_info"},
		{"patch owner", "PATCH", "/v1/nodes/%s", []op{{"op": "replace", "path": "/owner", "value": "p9"}}, plainNode, true,
			[6]int{200, 403, 403, 403, 404, 403}, "baremetal:node:update:owner"},
		{"patch lessee", "PATCH", "/v1/nodes/%s", []op{{"op": "replace", "path": "/lessee", "value": "p9"}}, plainNode, true,
			[6]int{200, 403, 200, 403, 404, 403}, "baremetal:node:update:lessee"},
		{"patch name", "PATCH", "/v1/nodes/%s", []op{{"op": "remove", "path": "/name"}}, plainNode, true,
			[6]int{200, 403, 200, 403, 404, 403}, "baremetal:node:update:name"},
		{"patch an interface", "PATCH", "/v1/nodes/%s", []op{{"op": "replace", "path": "/boot_interface", "value": "fake"}}, plainNode, true,
			[6]int{200, 403, 403, 403, 404, 403}, "baremetal:node:update:driver_interfaces"},
		{"patch description", "PATCH", "/v1/nodes/%s", []op{{"op": "add", "path": "/description", "value": "d"}}, plainNode, true,
			[6]int{200, 403, 200, 403, 404, 200}, "baremetal:node:update"},
		{"delete", "DELETE", "/v1/nodes/%s", nil, plainNode, true,
			[6]int{204, 403, 403, 403, 404, 403}, "baremetal:node:delete:self_owned_node"},
		{"provision", "PUT", "/v1/nodes/%s/states/provision", map[string]any{"target": "manage"}, plainNode, true,
			[6]int{202, 403, 202, 403, 404, 403}, "baremetal:node:set_provision_state"},
		{"power", "PUT", "/v1/nodes/%s/states/power", map[string]any{"target": "power off"}, plainNode, true,
			[6]int{202, 403, 202, 403, 404, 202}, "baremetal:node:set_power_state"},
		{"maintenance on", "PUT", "/v1/nodes/%s/maintenance", map[string]any{"reason": "r"}, plainNode, true,
			[6]int{202, 403, 202, 403, 404, 403}, "baremetal:node:set_maintenance"},
		{"maintenance off", "DELETE", "/v1/nodes/%s/maintenance", nil, plainNode, true,
			[6]int{202, 403, 202, 403, 404, 403}, "baremetal:node:clear_maintenance"},
		{"set traits", "PUT", "/v1/nodes/%s/traits", map[string]any{"traits": []string{"CUSTOM_B"}}, plainNode, true,
			[6]int{204, 403, 403, 403, 404, 403}, "baremetal:node:traits:set"},
		{"add a trait", "PUT", "/v1/nodes/%s/traits/CUSTOM_B", nil, plainNode, true,
			[6]int{204, 403, 403, 403, 404, 403}, "baremetal:node:traits:set"},
		{"clear traits", "DELETE", "/v1/nodes/%s/traits", nil, tracedNode, true,
			[6]int{204, 403, 403, 403, 404, 403}, "baremetal:node:traits:delete"},
		{"remove a trait", "DELETE", "/v1/nodes/%s/traits/CUSTOM_A", nil, tracedNode, true,
			[6]int{204, 403, 403, 403, 404, 403}, "baremetal:node:traits:delete"},
		// The node's allocation belongs to the owner project: the lessee
		// sees the node but not the allocation.
		{"show its allocation", "GET", "/v1/nodes/%s/allocation", nil, allocatedNode, false,
			[6]int{200, 200, 200, 200, 404, 403}, "baremetal:allocation:get"},
		{"delete its allocation", "DELETE", "/v1/nodes/%s/allocation", nil, allocatedNode, true,
			[6]int{204, 403, 204, 403, 404, 403}, "baremetal:allocation:delete"},
	}
	// While the legacy rules are in force some answers differ:
	// update_instance_info falls back to baremetal:node:update, which the
	// lessee's member passes.
	legacy := map[string][6]int{"patch instance_info": {200, 403, 200, 403, 404, 200}}
	eachAccess(t, func(t *testing.T, a *acl) {
		n := 0
		prepare := func(p nodePrep) string {
			n++
			id := a.node(fmt.Sprintf("n%d", n), projOwner, projLessee)
			switch p {
			case tracedNode:
				a.must(204, "PUT", "/v1/nodes/"+id+"/traits", map[string]any{"traits": []string{"CUSTOM_A"}})
			case allocatedNode:
				a.allocate(id)
			}
			return id
		}
		shared := map[nodePrep]string{}
		for _, row := range rows {
			for i, c := range callers {
				var id string
				if row.mutates {
					id = prepare(row.prep)
				} else if id = shared[row.prep]; id == "" {
					id = prepare(row.prep)
					shared[row.prep] = id
				}
				path := row.path
				if strings.Contains(path, "%s") {
					path = fmt.Sprintf(path, id)
				}
				want := row.want
				if l, ok := legacy[row.what]; ok && !a.newDefaults {
					want = l
				}
				check(t, row.what, c, a.as(c, row.method, path, row.body), want[i], row.rule)
			}
		}
	})
}

// TestNodeListNarrowed: without baremetal:node:list_all a project-scoped
// caller lists the nodes its project owns or leases; asking for another
// project's is a 403 naming list_all.
func TestNodeListNarrowed(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		nodes := map[string]string{
			a.node("leased", projOwner, projLessee): "leased",
			a.node("owned", projOwner, ""):          "owned",
			a.node("others", projOther, ""):         "others",
			a.node("unowned", "", ""):               "unowned",
		}
		names := func(r testserver.Response) string {
			var out []string
			list, _ := r.JSON()["nodes"].([]any)
			for _, x := range list {
				out = append(out, nodes[x.(map[string]any)["uuid"].(string)])
			}
			sort.Strings(out)
			return strings.Join(out, ",")
		}
		all := "leased,others,owned,unowned"
		want := map[string]string{sysAdmin.name: all, sysReader.name: all, ownerMember.name: "leased,owned",
			ownerReader.name: "leased,owned", otherMember.name: "others", lesseeMember.name: "leased"}
		for _, c := range callers {
			for _, path := range []string{"/v1/nodes", "/v1/nodes/detail", "/v1/nodes?fields=uuid,owner", "/v1/nodes?limit=1&sort_key=name"} {
				r := a.as(c, "GET", path, nil)
				w := want[c.name]
				if strings.Contains(path, "limit=1") {
					w = strings.SplitN(w, ",", 2)[0]
				}
				if r.Status != 200 || names(r) != w {
					t.Errorf("GET %s as %s: %d %s, want %s", path, c.name, r.Status, names(r), w)
				}
			}
		}
		for _, q := range []struct {
			c     caller
			query string
			want  string
		}{
			{ownerMember, "?project=" + projOwner, "leased,owned"},
			{sysAdmin, "?project=" + projOwner, "leased,owned"},
			{sysReader, "?project=" + projLessee, "leased"},
			{ownerMember, "?owner=" + projOther, ""},
			{lesseeMember, "?lessee=" + projLessee, "leased"},
		} {
			if r := a.as(q.c, "GET", "/v1/nodes"+q.query, nil); r.Status != 200 || names(r) != q.want {
				t.Errorf("GET /v1/nodes%s as %s: %d %s, want %s", q.query, q.c.name, r.Status, names(r), q.want)
			}
		}
		check(t, "list another project's nodes", otherMember, a.as(otherMember, "GET", "/v1/nodes?project="+projOwner, nil), 403, "baremetal:node:list_all")
		check(t, "list another project's nodes", ownerReader, a.as(ownerReader, "GET", "/v1/nodes/detail?project="+projOther, nil), 403, "baremetal:node:list_all")
		noRoles := newCaller("no-roles", "", projOwner, false)
		check(t, "list without a role", noRoles, a.as(noRoles, "GET", "/v1/nodes", nil), 403, "baremetal:node:list")
	})
}

// TestNodeFieldsMasked: a caller below baremetal:node:get:filter_threshold
// sees driver_info, driver_internal_info and reservation only on nodes its
// project owns.
func TestNodeFieldsMasked(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		id := a.node("masked", projOwner, projLessee)
		for _, c := range []caller{sysAdmin, sysReader, ownerReader, lesseeMember} {
			masked := c.name == lesseeMember.name
			for _, path := range []string{"/v1/nodes/" + id, "/v1/nodes/detail"} {
				r := a.as(c, "GET", path, nil)
				doc := r.JSON()
				if list, ok := doc["nodes"].([]any); ok && len(list) == 1 {
					doc = list[0].(map[string]any)
				}
				info := fmt.Sprint(doc["driver_info"])
				if masked != strings.Contains(info, "Redacted - requires baremetal:node:get:driver_info") ||
					!masked && info != "map[address:10.0.0.1]" {
					t.Errorf("GET %s as %s: driver_info %s", path, c.name, info)
				}
				if masked != strings.Contains(fmt.Sprint(doc["reservation"]), "Redacted") ||
					masked != strings.Contains(fmt.Sprint(doc["driver_internal_info"]), "Redacted") {
					t.Errorf("GET %s as %s: reservation %v, driver_internal_info %v", path, c.name, doc["reservation"], doc["driver_internal_info"])
				}
			}
			if r := a.as(c, "GET", "/v1/nodes/"+id+"?fields=uuid,name", nil); r.Status != 200 || len(r.JSON()) != 3 {
				t.Errorf("fields=uuid,name as %s: %s", c.name, r.Body)
			}
		}
	})
}

// TestNodeCreateAndDeleteByProjectAdmin: a project admin enrolls nodes its
// project owns (naming another owner is a 400) and deletes them.
func TestNodeCreateAndDeleteByProjectAdmin(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		r := a.as(ownerAdmin, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "name": "mine"})
		if r.Status != 201 || r.JSON()["owner"] != projOwner {
			t.Fatalf("enroll as a project admin: %d %s", r.Status, r.Body)
		}
		r = a.as(ownerAdmin, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "owner": projOwner})
		if r.Status != 201 || r.JSON()["owner"] != projOwner {
			t.Errorf("enroll naming its own project: %d %s", r.Status, r.Body)
		}
		r = a.as(ownerAdmin, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "owner": projOther})
		if r.Status != 400 || !strings.Contains(r.Fault(), "owner other than your own project") {
			t.Errorf("enroll for another project: %d %s", r.Status, r.Body)
		}
		if r := a.as(sysAdmin, "POST", "/v1/nodes", map[string]any{"driver": "fake-hardware", "owner": projOther}); r.Status != 201 ||
			r.JSON()["owner"] != projOther {
			t.Errorf("the system admin enrolls for any project: %d %s", r.Status, r.Body)
		}
		// Under the legacy rules, which stay in force until
		// enforce_new_defaults, the admin role of any project is the
		// cloud's admin (admin_api): it sees and deletes every node.
		others := a.node("theirs", projOther, "")
		want := 204
		if a.newDefaults {
			want = 404
		}
		check(t, "delete another project's node", ownerAdmin, a.as(ownerAdmin, "DELETE", "/v1/nodes/"+others, nil), want, "")
		check(t, "delete its project's node", ownerAdmin, a.as(ownerAdmin, "DELETE", "/v1/nodes/mine", nil), 204, "")
	})
}

// TestNodeOwnerOfActiveNode: changing the owner of an active node needs
// baremetal:node:update_owner_provisioned (the system admin), else 409.
func TestNodeOwnerOfActiveNode(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		id := a.node("busy", projOwner, "")
		a.must(202, "PUT", "/v1/nodes/"+id+"/states/provision", map[string]any{"target": "active"})
		patch := []op{{"op": "replace", "path": "/owner", "value": projOther}}
		if r := a.as(systemMember, "PATCH", "/v1/nodes/"+id, patch); r.Status != 409 || !strings.Contains(r.Fault(), `while it is in state "active"`) {
			t.Errorf("a system member changes an active node's owner: %d %s", r.Status, r.Body)
		}
		if r := a.as(systemMember, "PATCH", "/v1/nodes/"+id, []op{{"op": "replace", "path": "/lessee", "value": projOther}}); r.Status != 200 {
			t.Errorf("a system member changes an active node's lessee: %d %s", r.Status, r.Body)
		}
		if r := a.as(sysAdmin, "PATCH", "/v1/nodes/"+id, patch); r.Status != 200 || r.JSON()["owner"] != projOther {
			t.Errorf("the system admin changes an active node's owner: %d %s", r.Status, r.Body)
		}
	})
}

// allocationAs creates an allocation of a class no node has (it ends in
// state error, which is enough to see, change and delete it) as c.
func (a *acl) allocationAs(c caller, body map[string]any) testserver.Response {
	a.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["resource_class"]; !ok {
		body["resource_class"] = "rc-none"
	}
	return a.as(c, "POST", "/v1/allocations", body)
}

func TestAllocationAccess(t *testing.T) {
	// Callers as in TestNodeAccess; the allocation is the owner project's
	// (its member created it).
	rows := []struct {
		what         string
		method, path string
		body         any
		mutates      bool
		want         [6]int
		rule         string
	}{
		{"show", "GET", "/v1/allocations/%s", nil, false, [6]int{200, 200, 200, 200, 404, 404}, ""},
		{"show some fields", "GET", "/v1/allocations/%s?fields=uuid,owner", nil, false, [6]int{200, 200, 200, 200, 404, 404}, ""},
		{"patch", "PATCH", "/v1/allocations/%s", []op{{"op": "add", "path": "/extra/k", "value": "v"}}, true,
			[6]int{200, 403, 200, 403, 404, 404}, "baremetal:allocation:update"},
		{"delete", "DELETE", "/v1/allocations/%s", nil, true, [6]int{204, 403, 204, 403, 404, 404}, "baremetal:allocation:delete"},
	}
	eachAccess(t, func(t *testing.T, a *acl) {
		create := func() string {
			r := a.allocationAs(ownerMember, nil)
			if r.Status != 201 || r.JSON()["owner"] != projOwner {
				t.Fatalf("create as the owner's member: %d %s", r.Status, r.Body)
			}
			return r.JSON()["uuid"].(string)
		}
		shared := create()
		for _, row := range rows {
			for i, c := range callers {
				id := shared
				if row.mutates {
					id = create()
				}
				check(t, row.what, c, a.as(c, row.method, fmt.Sprintf(row.path, id), row.body), row.want[i], row.rule)
			}
		}
	})
}

// TestAllocationCreateOwner: who may create an allocation, and the owner
// it gets. A project-scoped caller's allocation is its project's; naming
// another owner needs create_restricted under the new defaults, while
// Ironic 21.4's legacy defaults let any member name any owner
// (create_restricted falls back to the create rule) but require
// create_pre_rbac of a reader naming one.
func TestAllocationCreateOwner(t *testing.T) {
	type want struct {
		status int
		owner  any    // of a 201
		rule   string // of a 403
	}
	created := func(owner any) want { return want{201, owner, ""} }
	refused := func(rule string) want { return want{403, nil, rule} }
	eachAccess(t, func(t *testing.T, a *acl) {
		noOwner := [6]want{created(nil), refused("baremetal:allocation:create_restricted"), created(projOwner),
			refused("baremetal:allocation:create_restricted"), created(projOther), created(projLessee)}
		var ownerGiven [6]want
		if a.newDefaults {
			ownerGiven = [6]want{created(projOwner), refused("baremetal:allocation:create_restricted"), created(projOwner),
				refused("baremetal:allocation:create_restricted"), refused("baremetal:allocation:create_restricted"),
				refused("baremetal:allocation:create_restricted")}
		} else {
			ownerGiven = [6]want{created(projOwner), refused("baremetal:allocation:create_pre_rbac"), created(projOwner),
				refused("baremetal:allocation:create_pre_rbac"), created(projOwner), created(projOwner)}
		}
		for _, tc := range []struct {
			body map[string]any
			want [6]want
		}{
			{nil, noOwner},
			{map[string]any{"owner": projOwner}, ownerGiven},
		} {
			for i, c := range callers {
				body := map[string]any{}
				for k, val := range tc.body {
					body[k] = val
				}
				r := a.allocationAs(c, body)
				w := tc.want[i]
				check(t, fmt.Sprintf("create %v", tc.body), c, r, w.status, w.rule)
				if r.Status == 201 && r.JSON()["owner"] != w.owner {
					t.Errorf("create %v as %s: owner %v, want %v", tc.body, c.name, r.JSON()["owner"], w.owner)
				}
			}
		}
		// Another reader naming another project is refused by the create
		// rule itself.
		check(t, "create for another project", ownerReader, a.allocationAs(ownerReader, map[string]any{"owner": projOther}), 403,
			"baremetal:allocation:create")
		// The forced owner is kept below 1.60, where it is not shown.
		r := a.b.DoAs(ownerMember.h, "POST", "/v1/allocations", "1.59", map[string]any{"resource_class": "rc-none", "name": "old-client"})
		if r.Status != 201 || r.JSON()["owner"] != nil {
			t.Fatalf("create at 1.59: %d %s", r.Status, r.Body)
		}
		if got := a.as(ownerMember, "GET", "/v1/allocations/old-client", nil).JSON(); got["owner"] != projOwner {
			t.Errorf("created at 1.59: owner %v", got["owner"])
		}
		if r := a.as(otherMember, "DELETE", "/v1/allocations/old-client", nil); r.Status != 404 {
			t.Errorf("another project deletes it: %d %s", r.Status, r.Body)
		}
	})
}

// TestAllocationCandidatesVisible: under the new defaults a caller without
// create_restricted names candidate nodes (and backfills nodes) only among
// those its project owns or leases; the others are unknown.
func TestAllocationCandidatesVisible(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		mine := a.node("mine", projOwner, "")
		leased := a.node("leased-to-me", projOther, projOwner)
		theirs := a.node("theirs", projOther, "")
		for _, cands := range [][]string{{mine}, {"leased-to-me"}, {mine, leased}} {
			if r := a.allocationAs(ownerMember, map[string]any{"candidate_nodes": cands}); r.Status != 201 {
				t.Errorf("candidates %v: %d %s", cands, r.Status, r.Body)
			}
		}
		for _, cands := range [][]string{{theirs}, {"theirs"}, {mine, theirs}} {
			r := a.allocationAs(ownerMember, map[string]any{"candidate_nodes": cands})
			if a.newDefaults && (r.Status != 400 || !strings.Contains(r.Fault(), "Nodes cannot be found: "+cands[len(cands)-1])) ||
				!a.newDefaults && r.Status != 201 {
				t.Errorf("candidates %v: %d %s", cands, r.Status, r.Body)
			}
			if r := a.allocationAs(sysAdmin, map[string]any{"candidate_nodes": cands}); r.Status != 201 {
				t.Errorf("candidates %v as the system admin: %d %s", cands, r.Status, r.Body)
			}
		}
		// Backfilling a node the caller does not see: it does not exist.
		a.must(202, "PUT", "/v1/nodes/"+theirs+"/states/provision", map[string]any{"target": "active"})
		r := a.as(ownerMember, "POST", "/v1/allocations", map[string]any{"node": theirs})
		if r.Status != 400 || r.Fault() != "Node "+theirs+" could not be found." {
			t.Errorf("backfill another project's node: %d %s", r.Status, r.Body)
		}
		if r := a.as(otherMember, "POST", "/v1/allocations", map[string]any{"node": theirs}); r.Status != 201 || r.JSON()["owner"] != projOther {
			t.Errorf("backfill its own node: %d %s", r.Status, r.Body)
		}
	})
}

// TestAllocationListNarrowed: without list_all a project-scoped caller
// lists its project's allocations; asking for another owner's is a 403
// naming list_all, and filtering by a node it does not see is a 404.
func TestAllocationListNarrowed(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		owners := map[string]any{}
		for _, c := range []caller{ownerMember, otherMember, sysAdmin} {
			r := a.allocationAs(c, nil)
			owners[r.JSON()["uuid"].(string)] = r.JSON()["owner"]
		}
		list := func(c caller, query string) (int, string) {
			r := a.as(c, "GET", "/v1/allocations"+query, nil)
			var out []string
			items, _ := r.JSON()["allocations"].([]any)
			for _, x := range items {
				out = append(out, fmt.Sprint(owners[x.(map[string]any)["uuid"].(string)]))
			}
			sort.Strings(out)
			return r.Status, strings.Join(out, ",")
		}
		all := "<nil>," + projOther + "," + projOwner
		want := map[string]string{sysAdmin.name: all, sysReader.name: all, ownerMember.name: projOwner,
			ownerReader.name: projOwner, otherMember.name: projOther, lesseeMember.name: ""}
		for _, c := range callers {
			if status, got := list(c, ""); status != 200 || got != want[c.name] {
				t.Errorf("list as %s: %d %s, want %s", c.name, status, got, want[c.name])
			}
		}
		if status, got := list(ownerReader, "?owner="+projOwner); status != 200 || got != projOwner {
			t.Errorf("list its own as a reader: %d %s", status, got)
		}
		if status, got := list(sysReader, "?owner="+projOther); status != 200 || got != projOther {
			t.Errorf("list another project's as the system reader: %d %s", status, got)
		}
		check(t, "list another owner's", otherMember, a.as(otherMember, "GET", "/v1/allocations?owner="+projOwner, nil), 403,
			"baremetal:allocation:list_all")
		theirs := a.node("theirs", projOther, "")
		if r := a.as(ownerMember, "GET", "/v1/allocations?node="+theirs, nil); r.Status != 404 {
			t.Errorf("filter by a node it does not see: %d %s", r.Status, r.Body)
		}
		if r := a.as(otherMember, "GET", "/v1/allocations?node="+theirs, nil); r.Status != 200 {
			t.Errorf("filter by its own node: %d %s", r.Status, r.Body)
		}
	})
}

// TestNoAuthTrustsEveryone: without an authenticator (Ironic's noauth)
// identity headers mean nothing: no rule applies, nothing is narrowed and
// no owner is forced.
func TestNoAuthTrustsEveryone(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		id := b.Must(201, "POST", "/v1/nodes", v, map[string]any{"driver": "fake-hardware", "owner": projOther}).JSON()["uuid"].(string)
		reader := ownerReader.h
		for _, req := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", "/v1/nodes/" + id, nil, 200},
			{"PATCH", "/v1/nodes/" + id, []op{{"op": "replace", "path": "/owner", "value": projOther}}, 200},
			{"PUT", "/v1/nodes/" + id + "/traits/CUSTOM_X", nil, 204},
			{"POST", "/v1/nodes", map[string]any{"driver": "fake-hardware"}, 201},
		} {
			if r := b.DoAs(reader, req.method, req.path, v, req.body); r.Status != req.want {
				t.Errorf("%s %s with a reader's headers: %d %s", req.method, req.path, r.Status, r.Body)
			}
		}
		if r := b.DoAs(reader, "GET", "/v1/nodes", v, nil); len(r.JSON()["nodes"].([]any)) != 2 {
			t.Errorf("list narrowed under noauth: %s", r.Body)
		}
		r := b.DoAs(ownerMember.h, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-none"})
		if r.Status != 201 || r.JSON()["owner"] != nil {
			t.Errorf("owner forced under noauth: %d %s", r.Status, r.Body)
		}
		r = b.DoAs(ownerReader.h, "POST", "/v1/allocations", v, map[string]any{"resource_class": "rc-none", "owner": projOther,
			"candidate_nodes": []string{id}})
		if r.Status != 201 || r.JSON()["owner"] != projOther {
			t.Errorf("another owner under noauth: %d %s", r.Status, r.Body)
		}
	})
}
