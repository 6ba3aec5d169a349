package placementapi_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// TestErrorHints checks what Placement's errors add for a person, after
// Placement's own wording, which stays as it was, with the same status and
// code: the microversion (and header) a route needs, the names a mistyped
// trait or resource class probably meant, and the numbers behind a claim
// over capacity, with the provider's name.
func TestErrorHints(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *testserver.Placement) {
		cn := createProvider(t, p, "compute-1", "")
		p.Must(200, "PUT", "/resource_providers/"+cn+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": 8, "allocation_ratio": 2.0}},
		})
		p.Must(201, "PUT", "/traits/CUSTOM_GPU_A100", "1.39", nil)
		consumer := func() string { return uuid.NewString() }
		claim := func(n int) map[string]any {
			return map[string]any{"allocations": map[string]any{cn: map[string]any{"resources": map[string]any{"VCPU": n}}},
				"project_id": "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}
		}
		p.Must(204, "PUT", "/allocations/"+consumer(), "1.39", claim(14))
		gen := p.Must(200, "GET", "/resource_providers/"+cn, "1.39", nil).JSON()["generation"]
		cases := []struct {
			name          string
			method, path  string
			version       string
			body          any
			status        int
			code          string
			wording, hint string
		}{
			{"no version for candidates", "GET", "/allocation_candidates?resources=VCPU:1", "", nil, 404, "",
				"The resource could not be found.",
				`GET /allocation_candidates needs API microversion 1.10 or later (this server serves up to 1.39): send the header "OpenStack-API-Version: placement 1.10".`},
			{"too low for the reshaper", "POST", "/reshaper", "1.29", map[string]any{}, 404, "placement.undefined_code",
				"The resource could not be found.",
				`POST /reshaper needs API microversion 1.30 or later`},
			{"mistyped standard trait", "GET", "/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX22", "1.39", nil, 400, "placement.undefined_code",
				"No such trait(s): HW_CPU_X86_AVX22.", "Did you mean HW_CPU_X86_AVX2"},
			{"mistyped custom trait", "GET", "/resource_providers?required=CUSTOM_GPU_A10", "1.39", nil, 400, "placement.undefined_code",
				`No such trait(s): CUSTOM_GPU_A10.`, "Did you mean CUSTOM_GPU_A100?"},
			{"mistyped class", "GET", "/allocation_candidates?resources=VCPUS:1", "1.39", nil, 400, "placement.undefined_code",
				"No such resource class VCPUS.", "Did you mean VCPU?"},
			{"mistyped class of an inventory", "PUT", "/resource_providers/" + cn + "/inventories/MEMORY_GB", "1.39",
				map[string]any{"resource_provider_generation": gen, "total": 1}, 404, "placement.undefined_code",
				"No such resource class MEMORY_GB.", "Did you mean MEMORY_MB?"},
			{"unknown trait", "GET", "/traits/CUSTOM_GPU_A1000", "1.39", nil, 404, "placement.undefined_code",
				"No such trait(s): CUSTOM_GPU_A1000.", "Did you mean CUSTOM_GPU_A100?"},
			{"over capacity", "PUT", "/allocations/" + consumer(), "1.39", claim(4), 409, "placement.undefined_code",
				"The requested amount would exceed the capacity.",
				`(VCPU on "compute-1" (` + cn + `): 4 requested, 14 of 16 in use, 2 free; capacity is (total 8 - reserved 0) x allocation_ratio 2.) Ask for at most 2`},
			{"consumer generation", "PUT", "/allocations/" + consumer(), "1.39", map[string]any{
				"allocations": map[string]any{cn: map[string]any{"resources": map[string]any{"VCPU": 1}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": 3, "consumer_type": "INSTANCE"}, 409, "placement.concurrent_update",
				"consumer generation conflict", "read its allocations again (GET /allocations/{consumer_uuid})"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := p.Must(c.status, c.method, c.path, c.version, c.body)
				detail := errorDetail(r)
				at := strings.Index(detail, c.wording)
				if at < 0 || !strings.Contains(detail[at+len(c.wording):], c.hint) {
					t.Errorf("detail %q: want %q, then %q", detail, c.wording, c.hint)
				}
				if c.code != "" && r.ErrorCode() != c.code {
					t.Errorf("code %q, want %q", r.ErrorCode(), c.code)
				}
			})
		}
	})
}
