package placementapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/testserver"
)

// getAs sends a GET with the given noauth2 headers (no microversion).
func getAs(t *testing.T, p *testserver.Placement, path string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// GET /allot/v1/capacity: the sums equal what the standard endpoints say
// of every provider; the fullest and emptiest trees; its bad queries and
// its policy.
func TestCapacityEndpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		host1 := createProvider(t, p, "host1", "")
		numa := createProvider(t, p, "host1-numa0", host1)
		setInventory(t, p, host1, 0, map[string]any{"MEMORY_MB": map[string]any{"total": 4096, "reserved": 512}})
		setInventory(t, p, numa, 0, map[string]any{"VCPU": map[string]any{"total": 8, "allocation_ratio": 2.0}})
		host2 := createProvider(t, p, "host2", "")
		setInventory(t, p, host2, 0, map[string]any{"VCPU": map[string]any{"total": 4}})
		host3 := createProvider(t, p, "host3", "")
		setInventory(t, p, host3, 0, map[string]any{"VCPU": map[string]any{"total": 16, "reserved": 2}})
		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(numa, map[string]int{"VCPU": 12}, nil))
		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(host2, map[string]int{"VCPU": 1}, nil))
		p.Must(204, "PUT", "/allocations/"+uuid.NewString(), "1.39", claim(host1, map[string]int{"MEMORY_MB": 1024}, nil))

		// The expected sums, from the standard endpoints.
		type sums struct{ total, reserved, capacity, used, providers int64 }
		want := map[string]*sums{}
		var providers []any
		providers, _ = p.Must(200, "GET", "/resource_providers", "1.39", nil).JSON()["resource_providers"].([]any)
		for _, rp := range providers {
			id := rp.(map[string]any)["uuid"].(string)
			invs := p.Must(200, "GET", "/resource_providers/"+id+"/inventories", "1.39", nil).JSON()["inventories"].(map[string]any)
			usages := p.Must(200, "GET", "/resource_providers/"+id+"/usages", "1.39", nil).JSON()["usages"].(map[string]any)
			for class, v := range invs {
				inv := v.(map[string]any)
				s := want[class]
				if s == nil {
					s = &sums{}
					want[class] = s
				}
				total, reserved := int64(inv["total"].(float64)), int64(inv["reserved"].(float64))
				s.total += total
				s.reserved += reserved
				s.capacity += int64(float64(total-reserved) * inv["allocation_ratio"].(float64))
				s.used += int64(usages[class].(float64))
				s.providers++
			}
		}
		r := p.Must(200, "GET", "/allot/v1/capacity", "", nil)
		var got model.Capacity
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("%s: %v", r.Body, err)
		}
		if got.Providers != len(providers) || got.Roots != 3 || len(got.Classes) != len(want) {
			t.Fatalf("capacity %s", r.Body)
		}
		for _, c := range got.Classes {
			w := want[c.ResourceClass]
			if w == nil || c.Total != w.total || c.Reserved != w.reserved || c.Capacity != w.capacity || c.Used != w.used ||
				int64(c.Providers) != w.providers || c.Free != c.Capacity-c.Used {
				t.Errorf("%s: %+v, want %+v", c.ResourceClass, c, w)
			}
		}
		// VCPU: host1's tree 12/16, host2 1/4, host3 0/14.
		names := func(rs []model.RootCapacity) (out []string) {
			for _, r := range rs {
				out = append(out, r.Name)
			}
			return out
		}
		if f, e := names(got.Fullest["VCPU"]), names(got.Emptiest["VCPU"]); len(f) != 3 || f[0] != "host1" || f[2] != "host3" || len(e) != 3 || e[0] != "host3" || e[2] != "host1" {
			t.Errorf("VCPU fullest %v, emptiest %v", f, e)
		}
		if f := got.Fullest["VCPU"][0]; f.UUID != host1 || f.Capacity != 16 || f.Used != 12 || f.Free != 4 {
			t.Errorf("fullest VCPU tree %+v", f)
		}
		// Every consumer is in project p1: the cloud's usage per consumer
		// type is p1's, as GET /usages groups it.
		var p1 struct {
			Usages map[string]struct {
				Consumers int64 `json:"consumer_count"`
			} `json:"usages"`
		}
		if err := json.Unmarshal(p.Must(200, "GET", "/usages?project_id=p1", "1.38", nil).Body, &p1); err != nil {
			t.Fatal(err)
		}
		var p1Raw struct {
			Usages map[string]map[string]any `json:"usages"`
		}
		json.Unmarshal(p.Must(200, "GET", "/usages?project_id=p1", "1.38", nil).Body, &p1Raw)
		if len(got.ConsumerTypes) != len(p1.Usages) || len(got.ConsumerTypes) == 0 {
			t.Errorf("consumer types %+v, GET /usages %+v", got.ConsumerTypes, p1Raw)
		}
		for typ, u := range p1Raw.Usages {
			ct := got.ConsumerTypes[typ]
			if ct.Consumers != p1.Usages[typ].Consumers {
				t.Errorf("%s: %d consumers, GET /usages says %d", typ, ct.Consumers, p1.Usages[typ].Consumers)
			}
			for class, v := range u {
				if class != "consumer_count" && ct.Used[class] != int64(v.(float64)) {
					t.Errorf("%s %s: %d used, GET /usages says %v", typ, class, ct.Used[class], v)
				}
			}
		}

		r = p.Must(200, "GET", "/allot/v1/capacity?roots=1", "", nil)
		if err := json.Unmarshal(r.Body, &got); err != nil || len(got.Fullest["VCPU"]) != 1 || len(got.Emptiest["VCPU"]) != 1 {
			t.Errorf("roots=1: %s", r.Body)
		}

		for _, q := range []string{"roots=0", "roots=101", "roots=x", "roots=1&roots=2", "limit=3", "roots=%zz"} {
			r := p.Must(400, "GET", "/allot/v1/capacity?"+q, "", nil)
			if r.ErrorCode() == "" && len(r.JSON()["errors"].([]any)) == 0 {
				t.Errorf("%s: %s", q, r.Body)
			}
		}
		if status, body := getAs(t, p, "/allot/v1/capacity", map[string]string{"X-Auth-Token": "user"}); status != http.StatusForbidden {
			t.Errorf("a non-admin got %d %s, want 403", status, body)
		}
	})
}

// GET /allot/v1/revision moves with every write, on both stores.
func TestRevisionEndpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		rev := func() float64 {
			t.Helper()
			v, ok := p.Must(200, "GET", "/allot/v1/revision", "", nil).JSON()["revision"].(float64)
			if !ok {
				t.Fatal("no revision")
			}
			return v
		}
		before := rev()
		if again := rev(); again != before {
			t.Errorf("a read moved the revision from %v to %v", before, again)
		}
		createProvider(t, p, "rev", "")
		if after := rev(); after <= before {
			t.Errorf("a write left the revision at %v (was %v)", after, before)
		}
		p.Must(400, "GET", "/allot/v1/revision?x=1", "", nil)
		if status, _ := getAs(t, p, "/allot/v1/revision", map[string]string{"X-Auth-Token": "user"}); status != http.StatusForbidden {
			t.Errorf("a caller who cannot list providers got %d, want 403", status)
		}
	})
}

// GET /allot/v1/permissions: every rule of the route table, decided by the
// enforcer for the caller.
func TestPermissionsEndpoint(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	decode := func(body []byte) (ans struct {
		Rules    map[string]bool `json:"rules"`
		Identity struct {
			UserID string   `json:"user_id"`
			Roles  []string `json:"roles"`
		} `json:"identity"`
	}) {
		t.Helper()
		if err := json.Unmarshal(body, &ans); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return ans
	}
	admin := decode(p.Must(200, "GET", "/allot/v1/permissions", "", nil).Body)
	if len(admin.Rules) < 30 || admin.Identity.UserID != "admin" {
		t.Fatalf("admin: %+v", admin)
	}
	for rule, ok := range admin.Rules {
		if !ok {
			t.Errorf("the admin may not %s", rule)
		}
	}
	// A system reader (Placement's default rules) reads, and writes nothing.
	status, body := getAs(t, p, "/allot/v1/permissions", map[string]string{"X-Auth-Token": "ro", "X-Roles": "reader", "Openstack-System-Scope": "all"})
	if status != 200 {
		t.Fatalf("reader: %d %s", status, body)
	}
	reader := decode(body)
	for rule, want := range map[string]bool{
		"placement:resource_providers:list":             true,
		"placement:allocation_candidates:list":          true,
		"placement:resource_providers:create":           false,
		"placement:allocations:update":                  false,
		"placement:resource_providers:traits:update":    false,
		"placement:resource_providers:usages":           true,
		"placement:resource_providers:inventories:list": true,
	} {
		if got, ok := reader.Rules[rule]; !ok || got != want {
			t.Errorf("reader %s: %v (present %v), want %v", rule, got, ok, want)
		}
	}
	if status, _ := getAs(t, p, "/allot/v1/permissions", map[string]string{"X-Auth-Token": "user"}); status != http.StatusForbidden {
		t.Errorf("a caller who cannot list providers got %d, want 403", status)
	}
	if r := p.Must(400, "GET", "/allot/v1/permissions?x=1", "", nil); r.ErrorCode() == "" && len(r.Body) == 0 {
		t.Errorf("a query: %s", r.Body)
	}
}

// FuzzConsoleQueries sends arbitrary query strings to the console's reads:
// never a 5xx; a 200 from /allot/v1/capacity names at most 100 trees per
// class, and any other answer is a 400 in Placement's format.
func FuzzConsoleQueries(f *testing.F) {
	h := fuzzServer(f)
	for _, q := range []string{"", "roots=1", "roots=100", "roots=101", "roots=0", "roots=-1", "roots=1e3", "roots=%zz", "roots=1&roots=1",
		"roots", "roots=", "x=1", "%ff=1", "roots=99999999999999999999", "roots=+5", "roots= 5"} {
		f.Add(false, q)
		f.Add(true, q)
	}
	f.Fuzz(func(t *testing.T, permissions bool, q string) {
		path := "/allot/v1/capacity"
		if permissions {
			path = "/allot/v1/permissions"
			if len(q)%2 == 1 {
				path = "/allot/v1/revision" // the same rule: no parameters
			}
		}
		req := httptest.NewRequest("GET", path, nil)
		req.URL.RawQuery = q
		req.Header.Set("X-Auth-Token", "admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if permissions {
				return
			}
			var c model.Capacity
			if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
				t.Fatalf("?%s: %v in %s", q, err, rec.Body)
			}
			for class, roots := range c.Fullest {
				if len(roots) > 100 || len(c.Emptiest[class]) > 100 {
					t.Fatalf("?%s: %d trees for %s", q, len(roots), class)
				}
			}
		case http.StatusBadRequest:
			var doc struct {
				Errors []struct{ Detail string } `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0].Detail == "" {
				t.Fatalf("?%s: 400 not in Placement's format: %s", q, rec.Body)
			}
		default:
			t.Fatalf("?%s: %d %s", q, rec.Code, rec.Body)
		}
	})
}
