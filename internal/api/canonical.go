package api

import (
	"net/http"
	"path"
	"strings"

	"allot/internal/model"
)

// canonical stands between the service's plumbing and its ServeMux, and
// answers in the API's format the requests that ServeMux would answer by
// itself in no API's format:
//   - a request target that is not a path (`GET *`, a CONNECT to an
//     authority): ServeMux writes an empty 400;
//   - a path that is not canonical (an empty, . or .. segment, such as
//     //evil.com/%2e%2e or /resource_providers/../traits): ServeMux
//     redirects to the cleaned path with an HTML body (307), which would
//     make the API answer for a resource the client did not name; the API
//     answers 404 instead, as Placement and Ironic do;
//   - a path without the trailing slash of a pattern that has one (e.g.
//     /a for /a/): ServeMux redirects; the API answers 404. Only checked
//     when the route table has such a pattern (neither API has one today).
//
// ServeMux's 404 and 405 never happen: Handler registers a catch-all and
// method-less patterns.
func (s *Service) canonical(mux *http.ServeMux, slashPatterns bool) http.Handler {
	return s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		p := r.URL.EscapedPath()
		if !strings.HasPrefix(p, "/") {
			return model.BadRequest("the request target %s is not a path: send an absolute path such as /", short(r.RequestURI))
		}
		if cleanPath(p) != p {
			return model.NotFound("The resource could not be found: the path %s has an empty, . or .. segment; send the canonical path.", short(p))
		}
		if slashPatterns && !strings.HasSuffix(p, "/") {
			// Handler registers every trailing-slash pattern as /a/{$},
			// which matches only paths that end with a slash: a match of
			// one for p is the redirect to p + "/".
			if _, pattern := mux.Handler(r); strings.HasSuffix(pattern, "/{$}") {
				return model.NotFound("The resource could not be found.")
			}
		}
		mux.ServeHTTP(w, r)
		return nil
	})
}

// cleanPath is ServeMux's canonical form of a path: rooted, no empty, .
// or .. segment, the trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// hasSlashPatterns reports whether a route pattern other than the root
// ends with a slash (ServeMux redirects the path without it).
func hasSlashPatterns(routes []Route) bool {
	for _, rt := range routes {
		if rt.Pattern != "/" && strings.HasSuffix(rt.Pattern, "/") {
			return true
		}
	}
	return false
}
