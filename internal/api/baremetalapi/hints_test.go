package baremetalapi_test

import (
	"strings"
	"testing"

	"allot/internal/testserver"
)

// TestErrorHints checks what the Bare Metal API's errors add for a person
// after Ironic's own wording, with the same status: the API version (and
// header) allocations need, a sentence (not a schema's regular expression)
// with the trait meant for a mistyped trait, and what to do to delete a
// node an allocation holds.
func TestErrorHints(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		n := enroll(t, b, "node-1", "gold", "available", false)
		a := b.Must(201, "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold", "name": "alloc-1"}).JSON()
		if got := waitDone(t, b, a["uuid"].(string)); got["state"] != "active" {
			t.Fatalf("allocation: %v", got)
		}
		cases := []struct {
			name          string
			method, path  string
			version       string
			body          any
			status        int
			wording, hint string
		}{
			{"no version for allocations", "GET", "/v1/allocations", "", nil, 404,
				"The API version does not allow allocations.",
				`GET /v1/allocations needs API microversion 1.52 or later (this server serves up to 1.79): send the header "X-OpenStack-Ironic-API-Version: 1.52".`},
			{"too low to create one", "POST", "/v1/allocations", "1.51", map[string]any{"resource_class": "gold"}, 405,
				"The API version does not allow allocations.", `send the header "X-OpenStack-Ironic-API-Version: 1.52"`},
			{"a node's allocation", "GET", "/v1/nodes/node-1/allocation", "1.51", nil, 404,
				"", `GET /v1/nodes/{node}/allocation needs API microversion 1.52 or later`},
			{"lower-case trait", "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold", "traits": []string{"custom_gpu"}}, 400,
				`Invalid trait "custom_gpu": a trait must be a standard trait or match ^CUSTOM_[A-Z0-9_]+$`, "Traits are upper case: did you mean CUSTOM_GPU?"},
			{"mistyped standard trait", "POST", "/v1/allocations", v, map[string]any{"resource_class": "gold", "traits": []string{"HW_CPU_X86_AVX22"}}, 400,
				`Invalid trait "HW_CPU_X86_AVX22"`, "Did you mean HW_CPU_X86_AVX2"},
			{"mistyped node trait", "PUT", "/v1/nodes/node-1/traits/hw_cpu_x86_avx2", v, nil, 400,
				`Invalid trait "hw_cpu_x86_avx2"`, "Traits are upper case: did you mean HW_CPU_X86_AVX2?"},
			{"delete an allocated node", "DELETE", "/v1/nodes/" + n, v, nil, 409,
				"Node " + n + " is associated with instance " + a["uuid"].(string) + ".",
				"To delete the node, delete its allocation first (allot baremetal allocation delete " + a["uuid"].(string) +
					", or DELETE /v1/nodes/" + n + "/allocation), or set maintenance mode (allot baremetal node maintenance set " + n + ")"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := b.Must(c.status, c.method, c.path, c.version, c.body)
				fault := r.Fault()
				at := strings.Index(fault, c.wording)
				if at < 0 || !strings.Contains(fault[at+len(c.wording):], c.hint) {
					t.Errorf("fault %q: want %q, then %q", fault, c.wording, c.hint)
				}
			})
		}
	})
}
