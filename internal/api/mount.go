package api

import (
	"context"
	"net/http"
	"strings"
)

// mountKey is the context key of the path prefix a handler is mounted
// under (Mount).
type mountKey struct{}

// Mount returns a handler that serves h under prefix (e.g. "/baremetal")
// and rest everywhere else: a request for prefix or a path under
// prefix+"/" reaches h without the prefix (prefix itself as "/"), and the
// links h builds (Origin.Base) name the prefix, so that they lead back
// through it. It is how one listener serves a second API in the same
// process, with that API's own handler and so its own authentication,
// policy, limits and request ids: no proxying hop.
func Mount(prefix string, h, rest http.Handler) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != prefix && !strings.HasPrefix(r.URL.Path, prefix+"/") {
			rest.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(context.WithValue(r.Context(), mountKey{}, prefix))
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		// The escaped form keeps what the path escapes (a %2F in a name)
		// when it spells the prefix as such; else it is rebuilt.
		r2.URL.RawPath = ""
		if raw, ok := strings.CutPrefix(r.URL.RawPath, prefix); ok && strings.HasPrefix(raw, "/") {
			r2.URL.RawPath = raw
		}
		r2.RequestURI = r2.URL.RequestURI()
		h.ServeHTTP(w, r2)
	})
}

// mountedAt is the prefix r came through (Mount), "" for none.
func mountedAt(r *http.Request) string {
	p, _ := r.Context().Value(mountKey{}).(string)
	return p
}
