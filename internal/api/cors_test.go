package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// corsApp stands for an API: OPTIONS is not one of its methods (405 with
// a JSON body), everything else answers 200.
var corsApp = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Allow", "GET")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte(`{"errors": [{"status": 405}]}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"versions": []}`))
})

// placementCORS is the configuration of Placement's CORSFixture and of
// the peer's "cors" profile.
func placementCORS() CORSOptions {
	o := DefaultCORSOptions()
	o.AllowedOrigin = []string{"http://valid.example.com"}
	o.AllowHeaders = []string{"openstack-api-version"}
	return o
}

var corsHeaders = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers"}

func TestCORS(t *testing.T) {
	with := func(f func(*CORSOptions)) CORSOptions {
		o := placementCORS()
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name    string
		opts    CORSOptions
		app     http.Handler // default corsApp
		method  string
		headers map[string]string
		status  int
		want    map[string]string // headers expected (exact values)
		absent  []string          // headers expected absent; nil: every CORS header not in want
		body    string            // "-" for don't care
	}{
		// gabbits/cors.yaml
		{name: "cors.yaml: valid options request", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "openstack-api-version"},
			status:  200, want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Access-Control-Allow-Headers": "openstack-api-version",
				"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "3600", "Vary": "Origin"}},
		{name: "cors.yaml: invalid options request", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://invalid.example.com", "Access-Control-Request-Method": "GET"}, status: 200},
		{name: "cors.yaml: valid get request", opts: placementCORS(), method: "GET",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}, body: `{"versions": []}`},
		{name: "cors.yaml: invalid get request", opts: placementCORS(), method: "GET",
			headers: map[string]string{"Origin": "http://invalid.example.com", "Access-Control-Request-Method": "GET"}, status: 200, body: `{"versions": []}`},
		// gabbits/non-cors.yaml: no allowed origin, no middleware.
		{name: "non-cors.yaml: options request not allowed", opts: DefaultCORSOptions(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 405, body: `{"errors": [{"status": 405}]}`},
		{name: "non-cors.yaml: get request no cors headers", opts: DefaultCORSOptions(), method: "GET",
			headers: map[string]string{"Origin": "http://valid.example.com"}, status: 200, body: `{"versions": []}`},

		// Preflights that fail answer an empty 200 without CORS headers.
		{name: "preflight: method not allowed", opts: with(func(o *CORSOptions) { o.AllowMethods = []string{"GET"} }), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "PUT"}, status: 200},
		{name: "preflight: methods are compared exactly", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "get"}, status: 200},
		{name: "preflight: header not allowed", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "openstack-api-version, x-auth-token"},
			status:  200},
		{name: "preflight: no request method", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com"}, status: 200},
		{name: "preflight: no origin", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Access-Control-Request-Method": "GET"}, status: 200},
		{name: "preflight: origins are compared exactly", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://VALID.example.com", "Access-Control-Request-Method": "GET"}, status: 200},

		// Preflights that pass.
		{name: "preflight: headers compared case-insensitively, echoed as sent; simple headers always allowed", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "PUT",
				"Access-Control-Request-Headers": " OpenStack-API-Version ,content-type,, ACCEPT"},
			status: 200, want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "OpenStack-API-Version,content-type,ACCEPT", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "3600"}},
		{name: "preflight: wildcard origin, no credentials, no max age", opts: with(func(o *CORSOptions) {
			o.AllowedOrigin = []string{"*"}
			o.AllowCredentials = false
			o.MaxAge = 0
		}), method: "OPTIONS", headers: map[string]string{"Origin": "https://anywhere.example", "Access-Control-Request-Method": "DELETE"},
			status: 200, want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "DELETE", "Vary": "Origin"}},
		{name: "preflight: a listed origin is named even when * is allowed", opts: with(func(o *CORSOptions) { o.AllowedOrigin = []string{"*", "http://valid.example.com"} }),
			method: "OPTIONS", headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "3600"}},
		{name: "preflight: a 2xx answer of the API is kept and decorated", opts: placementCORS(), method: "OPTIONS",
			app: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Vary", "Accept")
				w.Header().Set("X-Api", "1")
				w.WriteHeader(http.StatusNoContent)
			}),
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 204,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Vary": "Origin", "X-Api": "1",
				"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "3600"}},
		{name: "preflight: the refused answer is dropped whole", opts: placementCORS(), method: "OPTIONS",
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com"}, absent: []string{"Content-Type", "Allow", "Access-Control-Expose-Headers"}},
		{name: "preflight: an answer with its own CORS headers is left alone", opts: placementCORS(), method: "OPTIONS",
			app: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "https://mine.example")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte("no"))
			}),
			headers: map[string]string{"Origin": "http://valid.example.com", "Access-Control-Request-Method": "GET"}, status: 403,
			want: map[string]string{"Access-Control-Allow-Origin": "https://mine.example"}, body: "no"},

		// Actual requests.
		{name: "actual: exposed headers, Vary appended", opts: with(func(o *CORSOptions) { o.ExposeHeaders = []string{"OpenStack-API-Version", "X-OpenStack-Request-Id"} }),
			app: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Vary", "OpenStack-API-Version")
				w.WriteHeader(http.StatusNotFound)
			}),
			method: "PUT", headers: map[string]string{"Origin": "http://valid.example.com"}, status: 404,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Vary": "OpenStack-API-Version,Origin",
				"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "OpenStack-API-Version,X-OpenStack-Request-Id"}},
		{name: "actual: an answer with no body is decorated too", opts: with(func(o *CORSOptions) { o.AllowCredentials = false }),
			app: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), method: "DELETE",
			headers: map[string]string{"Origin": "http://valid.example.com"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "http://valid.example.com", "Vary": "Origin"}},
		{name: "actual: no Origin, no CORS headers", opts: placementCORS(), method: "GET", status: 200, body: `{"versions": []}`},
		{name: "actual: an answer with its own CORS headers is left alone", opts: placementCORS(),
			app: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "https://mine.example")
			}),
			method: "GET", headers: map[string]string{"Origin": "http://valid.example.com"}, status: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "https://mine.example"}, absent: []string{"Vary", "Access-Control-Allow-Credentials"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := tc.app
			if app == nil {
				app = corsApp
			}
			r := httptest.NewRequest(tc.method, "/", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			CORS(tc.opts, app).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			for k, v := range tc.want {
				if got := w.Header().Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			absent := tc.absent
			if absent == nil {
				for _, h := range corsHeaders {
					if _, ok := tc.want[h]; !ok {
						absent = append(absent, h)
					}
				}
			}
			for _, k := range absent {
				if got, ok := w.Header()[k]; ok {
					t.Errorf("%s: %q, want none", k, got)
				}
			}
			if tc.body != "-" && w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body.String(), tc.body)
			}
		})
	}
}

// Without an allowed origin the middleware is not there at all.
func TestCORSOff(t *testing.T) {
	if _, ok := CORS(DefaultCORSOptions(), corsApp).(*cors); ok {
		t.Error("CORS wrapped the handler with no allowed origin")
	}
}

// Over a real connection, the headers of an actual request are sent
// with the first flush, and http.ResponseController reaches the
// connection through the middleware.
func TestCORSFlush(t *testing.T) {
	srv := httptest.NewServer(CORS(placementCORS(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		w.Write([]byte("b"))
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Origin", "http://valid.example.com")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://valid.example.com" || string(body) != "ab" {
		t.Errorf("headers %v, body %q", resp.Header, body)
	}
}
