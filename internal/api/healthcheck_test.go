package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"allot/internal/model"
)

// /healthcheck answers as oslo.middleware's healthcheck does: 200 "OK"
// (HEAD 204), 503 with the reason, text/plain unless Accept prefers HTML
// or JSON; any other path or method reaches the API.
func TestHealthcheck(t *testing.T) {
	disable := filepath.Join(t.TempDir(), "disable")
	down := func(context.Context) error {
		return &model.Error{Kind: model.KindUnavailable, Message: "the database is unavailable; retry in a moment", Err: errors.New("dial tcp: connection refused")}
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	cases := []struct {
		name          string
		method, path  string
		accept        string
		check         func(context.Context) error
		disabled      bool
		status        int
		ctype, body   string
		bodyHasPrefix bool
	}{
		{"get", "GET", "/healthcheck", "", nil, false, 200, "text/plain; charset=UTF-8", "OK", false},
		{"head", "HEAD", "/healthcheck", "", nil, false, 204, "text/plain; charset=UTF-8", "", false},
		{"any type", "GET", "/healthcheck", "*/*", nil, false, 200, "text/plain; charset=UTF-8", "OK", false},
		{"json", "GET", "/healthcheck", "application/json", nil, false, 200, "application/json", "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}", false},
		{"json preferred", "GET", "/healthcheck", "text/plain;q=0.5, application/json", nil, false, 200, "application/json", "{", true},
		{"html", "GET", "/healthcheck", "text/html", nil, false, 200, "text/html; charset=UTF-8", "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>", true},
		{"none acceptable", "GET", "/healthcheck", "image/png", nil, false, 200, "text/plain; charset=UTF-8", "OK", false},
		{"store down", "GET", "/healthcheck", "", down, false, 503, "text/plain; charset=UTF-8", "STORE UNAVAILABLE: the database is unavailable; retry in a moment", false},
		{"store down head", "HEAD", "/healthcheck", "", down, false, 503, "text/plain; charset=UTF-8", "", false},
		{"store down json", "GET", "/healthcheck", "application/json", down, false, 503, "application/json", "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"STORE UNAVAILABLE: the database is unavailable; retry in a moment\"\n    ]\n}", false},
		{"disabled by file", "GET", "/healthcheck", "", nil, true, 503, "text/plain; charset=UTF-8", "DISABLED BY FILE", false},
		{"disabled wins over the store", "GET", "/healthcheck", "", down, true, 503, "text/plain; charset=UTF-8", "DISABLED BY FILE", false},
		{"other path", "GET", "/healthcheck/x", "", nil, false, http.StatusTeapot, "", "", false},
		{"other method", "POST", "/healthcheck", "", nil, false, http.StatusTeapot, "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(disable)
			if c.disabled {
				if err := os.WriteFile(disable, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h := Healthcheck(HealthOptions{DisableByFile: disable, Check: c.check}, api)
			req := httptest.NewRequest(c.method, c.path, nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, c.status, body)
			}
			if got := rec.Header().Get("Content-Type"); got != c.ctype {
				t.Errorf("Content-Type %q, want %q", got, c.ctype)
			}
			if c.bodyHasPrefix && !strings.HasPrefix(string(body), c.body) || !c.bodyHasPrefix && string(body) != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			if strings.HasPrefix(c.ctype, "application/json") {
				var doc struct {
					Detailed bool     `json:"detailed"`
					Reasons  []string `json:"reasons"`
				}
				if err := json.Unmarshal(body, &doc); err != nil || len(doc.Reasons) != 1 {
					t.Errorf("JSON %s: %v", body, err)
				}
			}
		})
	}
}

// The Accept header picks the type of highest quality, the most specific
// range deciding each type's quality, and oslo's order among equals.
func TestHealthType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  "text/plain",
		"application/json":                  "application/json",
		"text/*":                            "text/plain",
		"text/*;q=0.9, text/html":           "text/html",
		"application/json, text/plain;q=0":  "application/json",
		"*/*;q=0.1, application/json;q=0.2": "application/json",
		"text/html, application/json":       "text/html",
		"*/*, text/plain;q=0":               "text/html",
		"garbage":                           "text/plain",
	} {
		if got := healthType(accept); got != want {
			t.Errorf("healthType(%q) = %q, want %q", accept, got, want)
		}
	}
}

// Any Accept header gets one of oslo's three answers, never an error, and
// the JSON answer always parses.
func FuzzHealthcheck(f *testing.F) {
	for _, s := range []string{"", "application/json", "text/html;q=0.5, */*;q=0.1", "text/*;q=x", ";;,,", "application/json;q=1e400"} {
		f.Add(s)
	}
	h := Healthcheck(HealthOptions{}, http.NotFoundHandler())
	f.Fuzz(func(t *testing.T, accept string) {
		req := httptest.NewRequest("GET", HealthcheckPath, nil)
		req.Header["Accept"] = []string{accept}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("Accept %q: %d", accept, rec.Code)
		}
		switch ct := rec.Header().Get("Content-Type"); ct {
		case "text/plain; charset=UTF-8":
			if rec.Body.String() != "OK" {
				t.Fatalf("Accept %q: %q", accept, rec.Body.String())
			}
		case "text/html; charset=UTF-8":
		case "application/json":
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("Accept %q: %q", accept, rec.Body.String())
			}
		default:
			t.Fatalf("Accept %q: Content-Type %q", accept, ct)
		}
	})
}
