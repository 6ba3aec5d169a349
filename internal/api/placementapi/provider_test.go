package placementapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

func eachBackend(t *testing.T, fn func(t *testing.T, p *testserver.Placement)) {
	for _, b := range testserver.Backends {
		t.Run(b, func(t *testing.T) {
			fn(t, testserver.StartPlacement(t, testserver.OpenStore(t, b)))
		})
	}
}

func createProvider(t *testing.T, p *testserver.Placement, name, parent string) string {
	t.Helper()
	id := uuid.NewString()
	body := map[string]any{"name": name, "uuid": id}
	if parent != "" {
		body["parent_provider_uuid"] = parent
	}
	p.Must(200, "POST", "/resource_providers", "1.20", body)
	return id
}

func TestProviderTrees(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		root := createProvider(t, p, "root", "")
		child := createProvider(t, p, "child", root)
		grand := createProvider(t, p, "grand", child)
		other := createProvider(t, p, "other", "")

		got := p.Must(200, "GET", "/resource_providers/"+grand, "1.14", nil).JSON()
		if got["root_provider_uuid"] != root || got["parent_provider_uuid"] != child {
			t.Fatalf("grand = %v", got)
		}
		// Before 1.37 a parent cannot change.
		r := p.Must(400, "PUT", "/resource_providers/"+child, "1.36", map[string]any{"name": "child", "parent_provider_uuid": other})
		if !contains(r.Body, "re-parenting a provider is not currently allowed") {
			t.Errorf("re-parent before 1.37: %s", r.Body)
		}
		p.Must(400, "PUT", "/resource_providers/"+child, "1.36", map[string]any{"name": "child", "parent_provider_uuid": nil})
		// A loop is refused.
		p.Must(400, "PUT", "/resource_providers/"+root, "1.37", map[string]any{"name": "root", "parent_provider_uuid": grand})
		// From 1.37 the subtree moves with its new root.
		p.Must(200, "PUT", "/resource_providers/"+child, "1.37", map[string]any{"name": "child", "parent_provider_uuid": other})
		got = p.Must(200, "GET", "/resource_providers/"+grand, "1.37", nil).JSON()
		if got["root_provider_uuid"] != other {
			t.Errorf("after re-parenting, grand's root = %v, want %s", got["root_provider_uuid"], other)
		}
		list := p.Must(200, "GET", "/resource_providers?in_tree="+grand, "1.37", nil).JSON()["resource_providers"].([]any)
		if len(list) != 3 {
			t.Errorf("in_tree of grand has %d providers, want 3 (other, child, grand)", len(list))
		}
		// Un-parent: child becomes a root with grand below it.
		p.Must(200, "PUT", "/resource_providers/"+child, "1.37", map[string]any{"name": "child", "parent_provider_uuid": nil})
		got = p.Must(200, "GET", "/resource_providers/"+grand, "1.37", nil).JSON()
		if got["root_provider_uuid"] != child {
			t.Errorf("after un-parenting, grand's root = %v", got["root_provider_uuid"])
		}
		// A parent cannot be deleted; a leaf can.
		r = p.Must(409, "DELETE", "/resource_providers/"+child, "1.37", nil)
		if r.ErrorCode() != "placement.resource_provider.cannot_delete_parent" {
			t.Errorf("delete parent: %s", r.Body)
		}
		p.Must(204, "DELETE", "/resource_providers/"+grand, "1.37", nil)
		p.Must(404, "GET", "/resource_providers/"+grand, "1.37", nil)
	})
}

func TestProviderListFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		agg1, agg2 := uuid.NewString(), uuid.NewString()
		ids := make([]string, 4)
		for i := range ids {
			ids[i] = createProvider(t, p, fmt.Sprintf("cn%d", i), "")
			p.Must(200, "PUT", "/resource_providers/"+ids[i]+"/inventories", "1.39", map[string]any{
				"resource_provider_generation": 0,
				"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4 * (i + 1)}},
			})
		}
		p.Must(200, "PUT", "/resource_providers/"+ids[0]+"/aggregates", "1.39", map[string]any{"aggregates": []string{agg1}, "resource_provider_generation": 1})
		p.Must(200, "PUT", "/resource_providers/"+ids[1]+"/aggregates", "1.39", map[string]any{"aggregates": []string{agg1, agg2}, "resource_provider_generation": 1})
		p.Must(200, "PUT", "/resource_providers/"+ids[2]+"/traits", "1.39", map[string]any{"traits": []string{"HW_CPU_X86_AVX2"}, "resource_provider_generation": 1})
		p.Must(200, "PUT", "/resource_providers/"+ids[3]+"/traits", "1.39", map[string]any{"traits": []string{"HW_CPU_X86_SSE"}, "resource_provider_generation": 1})
		cases := []struct {
			query string
			want  []int
		}{
			{"", []int{0, 1, 2, 3}},
			{"name=cn2", []int{2}},
			{"uuid=" + ids[3], []int{3}},
			{"member_of=" + agg1, []int{0, 1}},
			{"member_of=in:" + agg2 + "," + uuid.NewString(), []int{1}},
			{"member_of=" + agg1 + "&member_of=" + agg2, []int{1}},
			{"member_of=!" + agg1, []int{2, 3}},
			{"member_of=!in:" + agg1 + "," + agg2, []int{2, 3}},
			{"member_of=" + uuid.NewString(), nil},
			{"resources=VCPU:9", []int{2, 3}},
			{"resources=VCPU:9&required=!HW_CPU_X86_SSE", []int{2}},
			{"required=HW_CPU_X86_AVX2", []int{2}},
			{"required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE", []int{2, 3}},
			{"required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE&required=!HW_CPU_X86_AVX2", []int{3}},
			{"in_tree=" + ids[1], []int{1}},
			{"in_tree=" + uuid.NewString(), nil},
		}
		for _, tc := range cases {
			list := p.Must(200, "GET", "/resource_providers?"+tc.query, "1.39", nil).JSON()["resource_providers"].([]any)
			var got []string
			for _, item := range list {
				got = append(got, item.(map[string]any)["uuid"].(string))
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("?%s = %v, want %v", tc.query, got, want)
			}
		}
		for _, bad := range []string{"resources=VCPU:0", "resources=NOPE:1", "required=CUSTOM_NOPE", "member_of=not-a-uuid",
			"required=in:HW_CPU_X86_AVX2,!HW_CPU_X86_SSE", "in_tree=x"} {
			p.Must(400, "GET", "/resource_providers?"+bad, "1.39", nil)
		}
		// Before 1.39, in: is refused; before 1.22, forbidden traits are.
		p.Must(400, "GET", "/resource_providers?required=in:HW_CPU_X86_AVX2", "1.38", nil)
		p.Must(400, "GET", "/resource_providers?required=!HW_CPU_X86_AVX2", "1.21", nil)
	})
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
