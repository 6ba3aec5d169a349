package baremetalapi_test

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	"allot/internal/testserver"
)

// summaryOf is GET /allot/v1/summary's answer as "field=value" -> count
// ("nodes.total", "nodes.provision_state=available", ...).
func summaryOf(t *testing.T, doc map[string]any) map[string]int {
	t.Helper()
	out := map[string]int{}
	add := func(prefix string, part map[string]any) {
		for k, v := range part {
			switch v := v.(type) {
			case float64:
				out[prefix+"."+k] += int(v)
			case []any:
				for _, c := range v {
					c := c.(map[string]any)
					out[fmt.Sprintf("%s.%s=%v", prefix, k, c["value"])] += int(c["count"].(float64))
				}
			default:
				t.Fatalf("%s.%s: unexpected %T %v", prefix, k, v, v)
			}
		}
	}
	add("nodes", doc["nodes"].(map[string]any))
	if a, ok := doc["allocations"].(map[string]any); ok {
		add("allocations", a)
	}
	return out
}

// countLists computes, from the standard lists a caller gets (GET
// /v1/nodes and /v1/allocations, every page), what the summary should say.
func countLists(t *testing.T, get func(path string) map[string]any, allocations bool) map[string]int {
	t.Helper()
	out := map[string]int{}
	nodes := get("/v1/nodes?fields=uuid,provision_state,power_state,maintenance,resource_class,allocation_uuid&limit=2")
	for {
		list := nodes["nodes"].([]any)
		for _, n := range list {
			n := n.(map[string]any)
			out["nodes.total"]++
			out[fmt.Sprintf("nodes.provision_state=%v", n["provision_state"])]++
			out[fmt.Sprintf("nodes.power_state=%v", n["power_state"])]++
			out[fmt.Sprintf("nodes.maintenance=%v", n["maintenance"])]++
			out[fmt.Sprintf("nodes.resource_class=%v", n["resource_class"])]++
			if n["allocation_uuid"] != nil {
				out["nodes.allocated"]++
			}
		}
		if len(list) == 0 || nodes["next"] == nil {
			break
		}
		last := list[len(list)-1].(map[string]any)["uuid"]
		nodes = get(fmt.Sprintf("/v1/nodes?fields=uuid,provision_state,power_state,maintenance,resource_class,allocation_uuid&limit=2&marker=%v", last))
	}
	if allocations {
		for _, a := range get("/v1/allocations?fields=state")["allocations"].([]any) {
			out["allocations.total"]++
			out[fmt.Sprintf("allocations.state=%v", a.(map[string]any)["state"])]++
		}
	}
	// The totals are always there, the breakdowns list only what was counted.
	for _, k := range []string{"nodes.total", "nodes.allocated"} {
		out[k] += 0
	}
	if allocations {
		out["allocations.total"] += 0
	}
	return out
}

// TestConsoleSummary: the bare-metal page's counts equal what the node
// and allocation lists hold, on both stores, as nodes and allocations
// change.
func TestConsoleSummary(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		get := func(path string) map[string]any { return b.Must(200, "GET", path, v, nil).JSON() }
		check := func(step string) {
			t.Helper()
			got := summaryOf(t, get("/allot/v1/summary"))
			if want := countLists(t, get, true); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: summary\n got %v\nwant %v", step, got, want)
			}
		}
		check("no nodes")
		enroll(t, b, "a1", "gold", "available", false)
		enroll(t, b, "a2", "gold", "available", false)
		m := enroll(t, b, "m1", "gold", "manageable", true)
		enroll(t, b, "e1", "silver", "enroll", true)
		b.Must(202, "PUT", "/v1/nodes/"+m+"/maintenance", v, map[string]any{"reason": "disk"})
		check("nodes in four states")
		ok := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold"}).JSON()
		bad := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "bronze"}).JSON()
		if a := waitDone(t, b, ok["uuid"].(string)); a["state"] != "active" {
			t.Fatalf("allocation: %v", a)
		}
		if a := waitDone(t, b, bad["uuid"].(string)); a["state"] != "error" {
			t.Fatalf("allocation of a class no node has: %v", a)
		}
		check("an active and a failed allocation")

		// The order is fixed: most first, then by value.
		doc := get("/allot/v1/summary")["nodes"].(map[string]any)
		var states []string
		for _, c := range doc["provision_state"].([]any) {
			states = append(states, fmt.Sprint(c.(map[string]any)["value"]))
		}
		if want := []string{"available", "enroll", "manageable"}; !reflect.DeepEqual(states, want) {
			t.Errorf("provision states in the order %v, want %v", states, want)
		}

		for _, path := range []string{"/allot/v1/summary?x=1", "/allot/v1/permissions?x=1"} {
			r := b.Must(400, "GET", path, v, nil)
			if r.Fault() == "" {
				t.Errorf("GET %s: no fault in %s", path, r.Body)
			}
		}
	})
}

// TestConsoleSummaryAccess: with policy, the summary counts what the
// caller's own lists hold (a project's nodes and allocations), and the
// permissions say what the policy lets the caller do: a rule said to pass
// is one whose operation the API then performs for it.
func TestConsoleSummaryAccess(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		n1 := a.node("owned-1", projOwner, "")
		a.node("owned-2", projOwner, projLessee)
		a.node("other", projOther, "")
		a.allocate(n1)
		for _, c := range callers {
			get := func(path string) map[string]any {
				r := a.as(c, "GET", path, nil)
				if r.Status != 200 {
					t.Fatalf("%s: GET %s: %d %s", c.name, path, r.Status, r.Body)
				}
				return r.JSON()
			}
			rules := get("/allot/v1/permissions")["rules"].(map[string]any)
			listsAllocations := a.as(c, "GET", "/v1/allocations", nil).Status == 200
			if rules["baremetal:allocation:list"] != listsAllocations {
				t.Errorf("%s: permissions say allocation:list %v; GET /v1/allocations passes: %v", c.name, rules["baremetal:allocation:list"], listsAllocations)
			}
			dry := a.as(c, "POST", "/allot/v1/allocations/dry-run", map[string]any{"resource_class": "rc-acl"})
			if rules["baremetal:allocation:create"] != (dry.Status == 200) {
				t.Errorf("%s: permissions say allocation:create %v; a dry run answers %d %s", c.name, rules["baremetal:allocation:create"], dry.Status, dry.Body)
			}
			doc := get("/allot/v1/summary")
			if (doc["allocations"] != nil) != listsAllocations {
				t.Errorf("%s: allocations counted: %v; may list them: %v", c.name, doc["allocations"], listsAllocations)
			}
			got, want := summaryOf(t, doc), countLists(t, get, listsAllocations)
			if !reflect.DeepEqual(got, want) {
				keys := func(m map[string]int) []string {
					var ks []string
					for k, n := range m {
						ks = append(ks, fmt.Sprintf("%s:%d", k, n))
					}
					sort.Strings(ks)
					return ks
				}
				t.Errorf("%s: summary\n got %v\nwant %v", c.name, keys(got), keys(want))
			}
		}
	})
}
