package baremetalapi_test

import (
	"strings"
	"testing"

	"allot/internal/testserver"
)

// A write's policy check runs inside the write's one service call (issue
// 15), and the order of the answers is Ironic's: a caller who may not see
// the node or the allocation gets the 404 of a missing one before any
// complaint about its request, which a caller who sees it gets.
func TestHiddenBeforeBadRequest(t *testing.T) {
	eachAccess(t, func(t *testing.T, a *acl) {
		id := a.node("hidden-1", projOwner, "")
		alloc := a.allocate(id)
		for _, tc := range []struct {
			name, method, path, version string
			body                        any
			fault                       string
		}{
			{"verb newer than the version", "PUT", "/v1/nodes/" + id + "/states/provision", "1.72",
				map[string]any{"target": "deploy"}, `The "deploy" verb needs API version 1.73`},
			{"unknown verb", "PUT", "/v1/nodes/" + id + "/states/provision", v,
				map[string]any{"target": "bogus"}, `Invalid provision state "bogus"`},
			{"unknown power target", "PUT", "/v1/nodes/" + id + "/states/power", v,
				map[string]any{"target": "bogus"}, `Invalid power target "bogus"`},
			{"invalid trait", "PUT", "/v1/nodes/" + id + "/traits", v,
				map[string]any{"traits": []string{"bogus"}}, `Invalid trait "bogus"`},
			{"allocation field", "PATCH", "/v1/allocations/" + alloc, v,
				[]op{{"op": "add", "path": "/bogus", "value": 1}}, "Cannot patch /bogus"},
		} {
			r := a.b.DoAs(otherMember.h, tc.method, tc.path, tc.version, tc.body)
			check(t, tc.name, otherMember, r, 404, "")
			r = a.b.DoAs(sysAdmin.h, tc.method, tc.path, tc.version, tc.body)
			if r.Status != 400 || !strings.Contains(r.Fault(), tc.fault) {
				t.Errorf("%s as %s: %d %s, want 400 %q", tc.name, sysAdmin.name, r.Status, r.Body, tc.fault)
			}
		}
	})
}

// Without policy (noauth) a bad request is answered before the object is
// looked up, so even for a missing one.
func TestBadRequestBeforeLookupWithoutPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *testserver.Baremetal) {
		for _, tc := range []struct {
			name, method, path, version string
			body                        any
			fault                       string
		}{
			{"verb newer than the version", "PUT", "/v1/nodes/missing/states/provision", "1.72",
				map[string]any{"target": "deploy"}, `The "deploy" verb needs API version 1.73`},
			{"unknown verb", "PUT", "/v1/nodes/missing/states/provision", v,
				map[string]any{"target": "bogus"}, `Invalid provision state "bogus"`},
			{"unknown power target", "PUT", "/v1/nodes/missing/states/power", v,
				map[string]any{"target": "bogus"}, `Invalid power target "bogus"`},
			{"invalid trait", "PUT", "/v1/nodes/missing/traits", v,
				map[string]any{"traits": []string{"bogus"}}, `Invalid trait "bogus"`},
			{"allocation field", "PATCH", "/v1/allocations/missing", v,
				[]op{{"op": "add", "path": "/bogus", "value": 1}}, "Cannot patch /bogus"},
		} {
			r := b.Do(tc.method, tc.path, tc.version, tc.body)
			if r.Status != 400 || !strings.Contains(r.Fault(), tc.fault) {
				t.Errorf("%s: %d %s, want 400 %q", tc.name, r.Status, r.Body, tc.fault)
			}
		}
	})
}
