// Package console serves allot's web console: static HTML, CSS and
// JavaScript modules embedded in the binary, under /ui/ on the Placement
// listener. The files hold no data and need no credentials; the pages call
// the Placement API and allot's /allot/v1 extensions from the browser with
// the token the user enters, so identity and policy are the APIs' own.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is where the console lives. Placement's URL space has no /ui, so
// the API answers every other path exactly as before.
const Prefix = "/ui/"

// BaremetalPrefix is where the Placement listener also serves the Bare
// Metal API (api.Mount) when the console and that API are both served, for
// the console's bare-metal page: the pages talk only to their own origin.
// Placement's URL space has no /baremetal.
const BaremetalPrefix = "/baremetal"

//go:embed static
var static embed.FS

// securityHeaders are set on every console answer: the pages load only
// their own files and talk only to their own origin, are never framed,
// and are not sniffed into another type.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
	// The files change with the binary: revalidate rather than keep
	// pages of an older version.
	"Cache-Control": "no-cache",
}

// Files returns the console's files (rooted at the directory of
// index.html), for tests and for Handler.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree's shape is fixed at build time
	}
	return sub
}

// Mount returns a handler that serves the console under Prefix (and
// redirects /ui to it) and passes every other request to api unchanged.
func Mount(api http.Handler) http.Handler {
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == strings.TrimSuffix(Prefix, "/"):
			setHeaders(w.Header())
			// Relative, so that it holds behind a proxy's path prefix.
			w.Header().Set("Location", "ui/")
			w.WriteHeader(http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, Prefix):
			setHeaders(w.Header())
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "The console's files are read-only: use GET.", http.StatusMethodNotAllowed)
				return
			}
			files.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

func setHeaders(h http.Header) {
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
}
