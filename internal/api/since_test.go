package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"allot/internal/model"
)

// TestSinceGates: a request below a route's Since gets the gate's status
// and message verbatim (405 with the path's Allow header), followed by the
// version that serves the route and the header that asks for it, a version both
// routes of a method cover picks the right one, and the route table is
// refused when a gate answers neither 404 nor 405.
func TestSinceGates(t *testing.T) {
	v := model.V
	ok := func(body string) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			return WriteJSON(w, http.StatusOK, map[string]string{"route": body})
		}
	}
	svc := &Service{
		Name: "test",
		Versions: Versions{Service: "test", Min: v(1, 0), Max: v(1, 9), Default: v(1, 0),
			Echo: func(http.Header, model.Version) {}},
		Errors: PlacementErrors{MinVersion: v(1, 0), MaxVersion: v(1, 9)},
		Logger: slog.New(slog.DiscardHandler),
		Routes: []Route{
			{Method: "GET", Pattern: "/a", Public: true, Handler: ok("get a")},
			{Method: "DELETE", Pattern: "/a", Public: true, Handler: ok("delete a"),
				Since: Since{Min: v(1, 5), Status: http.StatusMethodNotAllowed, Message: "The method DELETE is not allowed for this resource."}},
			{Method: "GET", Pattern: "/b", Public: true, Handler: ok("old b"), Since: SinceVersion(v(1, 2)), Max: v(1, 6)},
			{Method: "GET", Pattern: "/b/{x}", Public: true, Handler: ok("b x"), Since: Since{Min: v(1, 3), Status: http.StatusNotFound}},
			{Method: "PUT", Pattern: "/b", Public: true, Handler: ok("new b"), Since: SinceVersion(v(1, 7))},
			{Method: "POST", Pattern: "/c", Public: true, Handler: ok("c"),
				Since: Since{Min: v(1, 4), Status: http.StatusMethodNotAllowed, Message: "The API version does not allow c"}},
		},
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	// needs is the hint after the API's words below a gate: the route, the
	// version that serves it and the header to send.
	needs := func(route, min string) string {
		return " " + route + " needs API microversion " + min + " or later (this server serves up to 1.9): send the header \"OpenStack-API-Version: test " + min + "\"."
	}
	cases := []struct {
		name, method, path, version string
		status                      int
		detail, allow, route        string
	}{
		{"no gate", "GET", "/a", "1.0", 200, "", "", "get a"},
		{"405 gate below", "DELETE", "/a", "1.4", 405, "The method DELETE is not allowed for this resource." + needs("DELETE /a", "1.5"), "DELETE, GET", ""},
		{"405 gate at min", "DELETE", "/a", "1.5", 200, "", "", "delete a"},
		{"404 gate below", "GET", "/b", "1.1", 404, "The resource could not be found." + needs("GET /b", "1.2"), "", ""},
		{"inside min and max", "GET", "/b", "1.6", 200, "", "", "old b"},
		{"above max", "GET", "/b", "1.7", 404, "The resource could not be found.", "", ""},
		{"second route of the pattern", "PUT", "/b", "1.7", 200, "", "", "new b"},
		{"second route below", "PUT", "/b", "1.6", 404, "The resource could not be found." + needs("PUT /b", "1.7"), "", ""},
		{"empty message", "GET", "/b/1", "1.2", 404, strings.TrimSpace(needs("GET /b/{x}", "1.3")), "", ""},
		{"own message on a 405", "POST", "/c", "1.3", 405, "The API version does not allow c." + needs("POST /c", "1.4"), "POST", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("OpenStack-API-Version", "test "+c.version)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Route  string `json:"route"`
				Errors []struct {
					Detail string `json:"detail"`
				} `json:"errors"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("decoding the answer: %v", err)
			}
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			if got := res.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			if c.status == 200 {
				if body.Route != c.route {
					t.Errorf("served by %q, want %q", body.Route, c.route)
				}
				return
			}
			if len(body.Errors) != 1 || body.Errors[0].Detail != c.detail {
				t.Errorf("errors %+v, want detail %q", body.Errors, c.detail)
			}
		})
	}
}

// TestSinceStatusChecked: CheckRoutes refuses a gate that would answer
// anything but 404 or 405 (a zero status is a forgotten one).
func TestSinceStatusChecked(t *testing.T) {
	cases := []struct {
		name  string
		since Since
		want  string
	}{
		{"no gate", Since{}, ""},
		{"404", SinceVersion(model.V(1, 2)), ""},
		{"405", Since{Min: model.V(1, 2), Status: http.StatusMethodNotAllowed}, ""},
		{"forgotten status", Since{Min: model.V(1, 2), Message: "gone"}, "GET /x is gated at 1.2 with status 0, not 404 or 405"},
		{"other status", Since{Min: model.V(1, 2), Status: http.StatusGone}, "with status 410"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{Name: "svc", Routes: []Route{{Method: "GET", Pattern: "/x", Public: true, Since: c.since}}}
			err := s.CheckRoutes()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
