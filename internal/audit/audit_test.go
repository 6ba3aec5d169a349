package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"allot/internal/audit"
	"allot/internal/store"
	"allot/internal/testserver"
)

// healthy fills a cloud through both APIs: two compute nodes with
// consumers, and two bare-metal nodes of which n1 is allocated (a1).
func healthy(t *testing.T, backend string) *cloud {
	c := newCloud(t, backend)
	cn1 := c.provider("cn1", map[string]int{"VCPU": 8, "MEMORY_MB": 4096})
	cn2 := c.provider("cn2", map[string]int{"VCPU": 4, "DISK_GB": 100})
	if s := c.allocate("11111111-1111-4111-8111-111111111111", map[string]map[string]int{cn1: {"VCPU": 2, "MEMORY_MB": 1024}}); s != 204 {
		t.Fatalf("allocate c1: %d", s)
	}
	if s := c.allocate("22222222-2222-4222-8222-222222222222", map[string]map[string]int{cn2: {"VCPU": 1, "DISK_GB": 10}}); s != 204 {
		t.Fatalf("allocate c2: %d", s)
	}
	c.node("n1", "gold")
	c.node("n2", "gold")
	if _, ok := c.nodeAllocation("a1", "gold", "n1"); !ok {
		t.Fatal("allocation a1 of n1 failed")
	}
	return c
}

// kinds returns the kinds of a report's violations, sorted and unique.
func kinds(r audit.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == audit.Violation {
			out = append(out, string(f.Kind))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func check(t *testing.T, st *store.Store) audit.Report {
	t.Helper()
	r, err := audit.Check(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func describe(r audit.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintln(&b, f.String())
	}
	return b.String()
}

// Subqueries naming the objects healthy made.
const (
	cn1     = `(SELECT id FROM resource_providers WHERE name = 'cn1')`
	cn2     = `(SELECT id FROM resource_providers WHERE name = 'cn2')`
	n1Prov  = `(SELECT id FROM resource_providers WHERE uuid = (SELECT uuid FROM nodes WHERE name = 'n1'))`
	n2Prov  = `(SELECT id FROM resource_providers WHERE uuid = (SELECT uuid FROM nodes WHERE name = 'n2'))`
	a1Cons  = `(SELECT id FROM consumers WHERE uuid = (SELECT uuid FROM node_allocations WHERE name = 'a1'))`
	c1Cons  = `(SELECT id FROM consumers WHERE uuid = '11111111-1111-4111-8111-111111111111')`
	vcpu    = `(SELECT id FROM resource_classes WHERE name = 'VCPU')`
	diskGB  = `(SELECT id FROM resource_classes WHERE name = 'DISK_GB')`
	aTrait  = `(SELECT id FROM traits WHERE name = 'HW_CPU_X86_AVX')`
	project = `(SELECT id FROM projects WHERE external_id = 'p1')`
	user    = `(SELECT id FROM users WHERE external_id = 'u1')`
)

// TestCheckFindsEachViolation corrupts a healthy store (built through both
// APIs) in one way per case, with raw SQL, on both stores: db check finds
// exactly the violations of that corruption, and when every one is
// repairable, Fix repairs them and the store checks clean again.
func TestCheckFindsEachViolation(t *testing.T) {
	cases := []struct {
		name    string
		corrupt []string
		want    []audit.Kind
		fixable bool
		// sameProviders: the repair changes no provider, so it needs no
		// change feed (the candidate index holds providers only).
		sameProviders bool
	}{
		{"usage counter off", []string{
			`UPDATE inventories SET used = used + 3 WHERE provider_id = ` + cn1 + ` AND resource_class_id = ` + vcpu,
		}, []audit.Kind{audit.KindUsageCounter}, true, false},
		{"over capacity of an inventory never changed", []string{
			`UPDATE allocations SET used = 20 WHERE consumer_id = ` + c1Cons + ` AND resource_class_id = ` + vcpu,
			`UPDATE inventories SET used = 20 WHERE provider_id = ` + cn1 + ` AND resource_class_id = ` + vcpu,
		}, []audit.Kind{audit.KindOverCapacity}, false, false},
		{"allocation without inventory", []string{
			`DELETE FROM inventories WHERE provider_id = ` + cn2 + ` AND resource_class_id = ` + diskGB,
		}, []audit.Kind{audit.KindNoInventory}, false, false},
		{"consumer without allocations", []string{
			`INSERT INTO consumers (uuid, project_id, user_id, generation, created_at) VALUES ('33333333-3333-4333-8333-333333333333', ` + project + `, ` + user + `, 1, 0)`,
		}, []audit.Kind{audit.KindOrphanConsumer}, true, true},
		{"node provider reserved wrongly", []string{
			`UPDATE inventories SET reserved = 1 WHERE provider_id = ` + n2Prov,
		}, []audit.Kind{audit.KindNodeProvider}, true, false},
		{"node provider with a trait the node lacks", []string{
			`INSERT INTO provider_traits (provider_id, trait_id) VALUES (` + n2Prov + `, ` + aTrait + `)`,
		}, []audit.Kind{audit.KindNodeProvider}, true, false},
		{"node without provider", []string{
			`DELETE FROM inventories WHERE provider_id = ` + n2Prov,
			`DELETE FROM provider_traits WHERE provider_id = ` + n2Prov,
			`DELETE FROM resource_providers WHERE id = ` + n2Prov,
		}, []audit.Kind{audit.KindNodeProvider}, true, false},
		{"active allocation without its claim", []string{
			`DELETE FROM allocations WHERE consumer_id = ` + a1Cons,
			`DELETE FROM consumers WHERE id = ` + a1Cons,
			`UPDATE inventories SET used = 0 WHERE provider_id = ` + n1Prov,
		}, []audit.Kind{audit.KindNodeAllocation}, true, false},
		{"node forgets its allocation", []string{
			`UPDATE nodes SET allocation_id = NULL WHERE name = 'n1'`,
		}, []audit.Kind{audit.KindNodeAllocation, audit.KindNodeProvider}, false, false},
		{"node records a missing allocation", []string{
			`UPDATE nodes SET allocation_id = 999999 WHERE name = 'n2'`,
		}, []audit.Kind{audit.KindNodeAllocation}, true, true},
		{"claim without allocation", []string{
			`UPDATE nodes SET allocation_id = NULL, instance_uuid = NULL WHERE name = 'n1'`,
			`DELETE FROM node_allocations WHERE name = 'a1'`,
		}, []audit.Kind{audit.KindOrphanClaim}, true, false},
	}
	covered := map[audit.Kind]bool{}
	for _, tc := range cases {
		for _, k := range tc.want {
			covered[k] = true
		}
	}
	for _, k := range audit.Kinds() {
		if !covered[k] {
			t.Errorf("no case corrupts the store into a %s violation", k)
		}
	}
	for _, backend := range testserver.Backends {
		for _, tc := range cases {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				c := healthy(t, backend)
				if r := check(t, c.st); len(r.Findings) != 0 {
					t.Fatalf("the healthy store has findings:\n%s", describe(r))
				}
				exec(t, rawDB(t, c.st), tc.corrupt...)
				r := check(t, c.st)
				var want []string
				for _, k := range tc.want {
					want = append(want, string(k))
				}
				slices.Sort(want)
				if got := kinds(r); !slices.Equal(got, want) {
					t.Fatalf("violations of kinds %v, want %v:\n%s", got, want, describe(r))
				}
				for _, f := range r.Findings {
					if len(f.Objects) == 0 || f.Problem == "" || f.Action == "" {
						t.Errorf("finding without objects, problem or action: %+v", f)
					}
				}
				if got := r.Fixable() == r.Violations(); got != tc.fixable {
					t.Fatalf("every violation repairable: %t, want %t:\n%s", got, tc.fixable, describe(r))
				}
				if !tc.fixable {
					return
				}
				before := r.Revision
				for _, rep := range audit.Fix(context.Background(), c.st, r, nil) {
					if rep.Err != nil || rep.Changed == "" {
						t.Fatalf("repair of %s: changed %q, error %v", rep.Finding, rep.Changed, rep.Err)
					}
				}
				after := check(t, c.st)
				if after.Violations() != 0 {
					t.Fatalf("violations left after the repairs:\n%s", describe(after))
				}
				if !tc.sameProviders && after.Revision <= before {
					t.Errorf("the repairs wrote no change feed: revision %d before, %d after", before, after.Revision)
				}
			})
		}
	}
}

// TestCapacityCutIsANotice: an inventory lowered under its allocations is
// over capacity the way Placement allows, so db check notes it and finds
// no violation.
func TestCapacityCutIsANotice(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			c := newCloud(t, backend)
			rp := c.provider("cn1", map[string]int{"VCPU": 8})
			if s := c.allocate("11111111-1111-4111-8111-111111111111", map[string]map[string]int{rp: {"VCPU": 6}}); s != 204 {
				t.Fatalf("allocate: %d", s)
			}
			if s := c.setInventory(rp, map[string]int{"VCPU": 4}); s != 200 {
				t.Fatalf("lowering the inventory under its allocations: %d, want 200 (Placement allows it)", s)
			}
			r := check(t, c.st)
			if r.Violations() != 0 || len(r.Findings) != 1 || r.Findings[0].Kind != audit.KindOverCapacity || r.Findings[0].Severity != audit.Notice {
				t.Fatalf("want one over-capacity notice:\n%s", describe(r))
			}
			if !strings.Contains(r.Findings[0].Problem, "allocations use 6, over the capacity of 4") {
				t.Errorf("the notice does not give the numbers: %s", r.Findings[0].Problem)
			}
		})
	}
}
