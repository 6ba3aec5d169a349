package placementapi_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"

	"allot/internal/api/placementapi"
	"allot/internal/model"
	"allot/internal/testserver"
)

// FuzzClaimBody sends arbitrary bodies to POST /allot/v1/claims at any
// microversion: the parser answers a claim or a client error, and the
// endpoint never a 5xx.
func FuzzClaimBody(f *testing.F) {
	h := fuzzServer(f)
	inv := httptest.NewRequest("PUT", "/resource_providers/"+fuzzRP+"/inventories", bytes.NewBufferString(
		`{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 64}}}`))
	inv.Header.Set("X-Auth-Token", "admin")
	inv.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), inv)
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"consumers": [], "query": ""}`,
		`{"consumers": [{"uuid": "6a7b8c9d-0000-4000-8000-000000000001", "project_id": "p", "user_id": "u"}], "query": "resources=VCPU:1"}`,
		`{"consumers": [{"uuid": "6a7b8c9d-0000-4000-8000-000000000002", "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"},
			{"uuid": "6a7b8c9d-0000-4000-8000-000000000003", "project_id": "p", "user_id": "u"}],
			"query": "?resources=VCPU:1&limit=5&group_policy=none", "strategy": "pack", "distinct": "trait_prefix:CUSTOM_RACK_", "idempotency_key": "k"}`,
		`{"consumers": [{"uuid": "6a7b8c9d-0000-4000-8000-000000000004", "project_id": "p", "user_id": "u", "consumer_generation": 9223372036854775807}], "query": "resources=VCPU:1e999&member_of=in:x"}`,
		`{"consumers": [{"uuid": "x", "project_id": "\u0000", "user_id": ""}], "query": "%%", "distinct": "aggregate"}`,
		`{"consumers": [{"uuid": "6a7b8c9d-0000-4000-8000-000000000006", "project_id": "p", "user_id": "u"}], "query": "resources=VCPU:1",
			"prefer_trait": ["HW_CPU_X86_AVX:2,CUSTOM_NOPE:-1e308", ":", "X:NaN"], "prefer_member_of": ["6a7b8c9d-0000-4000-8000-0000000000aa:0.5", "nope"]}`,
		`{"consumers": [{"uuid": "6a7b8c9d-0000-4000-8000-000000000005", "project_id": "p", "user_id": "u"}], "query": "resources1=VCPU:1&same_subtree=1&root_required=!X", "idempotency_key": "\u0000"}`,
	} {
		f.Add(uint8(39), []byte(s))
	}
	f.Fuzz(func(t *testing.T, minor uint8, body []byte) {
		v := model.V(1, int(minor)%40)
		if _, err := placementapi.ParseClaim(body, v); err != nil {
			if e, ok := model.AsError(err); !ok || e.Kind != model.KindBadRequest {
				t.Fatalf("ParseClaim(%q) at %s: %v, want a 400", body, v, err)
			}
		}
		req := httptest.NewRequest("POST", "/allot/v1/claims", bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("OpenStack-API-Version", "placement 1."+strconv.Itoa(int(minor)%40))
		testserver.NoServerError(t, h, req, fmt.Sprintf("at %s with %q", v, body))
	})
}
