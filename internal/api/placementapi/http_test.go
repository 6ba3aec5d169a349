package placementapi_test

import (
	"net/http"
	"strings"
	"testing"

	"allot/internal/testserver"
)

// TestHTTPBasics covers negotiation, envelopes, auth and content rules.
func TestHTTPBasics(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		check   func(t *testing.T, r *http.Response, body string)
	}{
		{name: "root needs no token", method: "GET", path: "/", status: 200,
			check: func(t *testing.T, r *http.Response, body string) {
				if !strings.Contains(body, `"max_version":"1.39"`) || r.Header.Get("Openstack-Api-Version") != "placement 1.0" {
					t.Errorf("root: %s %v", body, r.Header)
				}
			}},
		{name: "no token", method: "GET", path: "/resource_providers", status: 401},
		{name: "non-admin", method: "GET", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "user"}, status: 403},
		{name: "latest", method: "GET", path: "/", headers: map[string]string{"OpenStack-API-Version": "placement latest"}, status: 200,
			check: func(t *testing.T, r *http.Response, body string) {
				if r.Header.Get("Openstack-Api-Version") != "placement 1.39" {
					t.Errorf("latest gave %q", r.Header.Get("Openstack-Api-Version"))
				}
			}},
		{name: "other services ignored", method: "GET", path: "/", headers: map[string]string{"OpenStack-API-Version": "compute 2.1, placement 1.20"}, status: 200,
			check: func(t *testing.T, r *http.Response, body string) {
				if r.Header.Get("Openstack-Api-Version") != "placement 1.20" {
					t.Errorf("got %q", r.Header.Get("Openstack-Api-Version"))
				}
			}},
		{name: "malformed version", method: "GET", path: "/", headers: map[string]string{"OpenStack-API-Version": "placement 1.a"}, status: 400},
		{name: "version too high", method: "GET", path: "/", headers: map[string]string{"OpenStack-API-Version": "placement 1.40"}, status: 406,
			check: func(t *testing.T, r *http.Response, body string) {
				if !strings.Contains(body, `"max_version":"1.39"`) || !strings.Contains(body, `"min_version":"1.0"`) {
					t.Errorf("406 body lacks the version range: %s", body)
				}
			}},
		{name: "unknown path", method: "GET", path: "/nope", headers: map[string]string{"X-Auth-Token": "admin"}, status: 404},
		{name: "wrong method", method: "PATCH", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin"}, status: 405,
			check: func(t *testing.T, r *http.Response, body string) {
				if r.Header.Get("Allow") != "GET, POST" || !strings.Contains(body, `"title":"Method Not Allowed"`) {
					t.Errorf("405: Allow=%q body=%s", r.Header.Get("Allow"), body)
				}
			}},
		{name: "below route minimum", method: "GET", path: "/traits", headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.5"}, status: 404},
		{name: "delete inventories before 1.5 is 405", method: "DELETE", path: "/resource_providers/x/inventories",
			headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.4"}, status: 405},
		{name: "body without content type", method: "POST", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin"}, body: "x", status: 400},
		{name: "wrong content type", method: "POST", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin", "Content-Type": "text/plain"}, body: "x", status: 415},
		{name: "accept excludes json", method: "GET", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin", "Accept": "text/plain"}, status: 406},
		{name: "unknown query parameter", method: "GET", path: "/resource_providers?spam=eggs", headers: map[string]string{"X-Auth-Token": "admin"}, status: 400},
		{name: "code from 1.23", method: "GET", path: "/nope", headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.23"}, status: 404,
			check: func(t *testing.T, r *http.Response, body string) {
				if !strings.Contains(body, `"code":"placement.undefined_code"`) || !strings.Contains(body, `"request_id":"req-`) {
					t.Errorf("error body: %s", body)
				}
			}},
		{name: "no code before 1.23", method: "GET", path: "/nope", headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.22"}, status: 404,
			check: func(t *testing.T, r *http.Response, body string) {
				if strings.Contains(body, `"code"`) {
					t.Errorf("error body has a code before 1.23: %s", body)
				}
			}},
		{name: "malformed json", method: "POST", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin", "Content-Type": "application/json"}, body: `{"name": }`, status: 400,
			check: func(t *testing.T, r *http.Response, body string) {
				if !strings.Contains(body, "Malformed JSON") {
					t.Errorf("body: %s", body)
				}
			}},
		{name: "request id header as Placement names it", method: "GET", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin"}, status: 200,
			check: func(t *testing.T, r *http.Response, body string) {
				if id := r.Header.Get("X-Openstack-Request-Id"); !strings.HasPrefix(id, "req-") || len(r.Header.Values("Openstack-Request-Id")) != 0 {
					t.Errorf("request id headers: %v", r.Header)
				}
			}},
		{name: "cache headers from 1.15", method: "GET", path: "/resource_providers", headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.15"}, status: 200,
			check: func(t *testing.T, r *http.Response, body string) {
				if r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("Last-Modified") == "" {
					t.Errorf("headers: %v", r.Header)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, p.URL+tc.path, strings.NewReader(tc.body))
			if tc.body == "" {
				req.Body = nil
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var sb strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, sb.String())
			}
			if resp.StatusCode >= 400 && resp.StatusCode != 401 && resp.Header.Get("Openstack-Api-Version") == "" &&
				resp.StatusCode != 406 && !strings.Contains(tc.name, "malformed version") {
				t.Errorf("an error after negotiation lacks the version header")
			}
			if tc.check != nil {
				tc.check(t, resp, sb.String())
			}
		})
	}
}
