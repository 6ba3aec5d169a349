package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestMount: the console's files under /ui/ with the security headers;
// every other path reaches the API handler untouched.
func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "api")
		io.WriteString(w, r.Method+" "+r.URL.Path)
	})
	srv := httptest.NewServer(Mount(api))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		contentType  string // prefix; "" for the API's answers
		location     string
		body         string // a substring of the body
	}{
		{"GET", "/ui/", 200, "text/html", "", "<title>allot console</title>"},
		{"HEAD", "/ui/", 200, "text/html", "", ""},
		{"GET", "/ui", 301, "", "ui/", ""},
		{"GET", "/ui/js/app.js", 200, "text/javascript", "", "import"},
		{"GET", "/ui/console.css", 200, "text/css", "", "body"},
		{"GET", "/ui/nope.js", 404, "text/plain", "", "not found"},
		{"POST", "/ui/", 405, "text/plain", "", "read-only"},
		{"GET", "/", 200, "", "", "GET /"},
		{"GET", "/uix", 200, "", "", "GET /uix"},
		{"PUT", "/resource_providers/x", 200, "", "", "PUT /resource_providers/x"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := tc.method + " " + tc.path
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s: %d %q, want %d with %q", name, resp.StatusCode, body, tc.status, tc.body)
		}
		fromAPI := resp.Header.Get("X-From") == "api"
		if fromAPI != (tc.contentType == "" && tc.location == "") {
			t.Errorf("%s: answered by the API: %v", name, fromAPI)
		}
		if fromAPI {
			if resp.Header.Get("Content-Security-Policy") != "" {
				t.Errorf("%s: the API's answer got the console's headers", name)
			}
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
			t.Errorf("%s: Content-Type %q, want %s", name, resp.Header.Get("Content-Type"), tc.contentType)
		}
		if resp.Header.Get("Location") != tc.location {
			t.Errorf("%s: Location %q, want %q", name, resp.Header.Get("Location"), tc.location)
		}
		for k, v := range securityHeaders {
			if k == "Cache-Control" && resp.StatusCode == 404 {
				continue // net/http's error answers drop it: nothing to cache
			}
			if resp.Header.Get(k) != v {
				t.Errorf("%s: %s %q, want %q", name, k, resp.Header.Get(k), v)
			}
		}
	}
	csp := securityHeaders["Content-Security-Policy"]
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("the CSP %q lacks %q", csp, want)
		}
	}
}

// TestReferencesResolve: every file the pages load (script and style
// references, module imports) is embedded, and nothing is loaded from
// another origin (the CSP would refuse it anyway).
func TestReferencesResolve(t *testing.T) {
	files := Files()
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"|from '([^']+)'|import\('([^']+)'\)`)
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range refs.FindAllStringSubmatch(string(data), -1) {
			ref := m[1] + m[2] + m[3]
			if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") {
				t.Errorf("%s loads %s from elsewhere", p, ref)
				continue
			}
			if strings.HasPrefix(ref, "/") {
				continue // an API path, not a file
			}
			target := path.Join(path.Dir(p), ref)
			if _, err := fs.Stat(files, target); err != nil {
				t.Errorf("%s refers to %s, which is not embedded (%v)", p, ref, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
