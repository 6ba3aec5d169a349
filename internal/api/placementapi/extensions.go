package placementapi

import "allot/internal/api"

// ExtensionPrefix is where allot's own operations live on the Placement
// listener: outside Placement's URL space, so that the Placement API stays
// exactly what it is. Extension routes are not gated by microversion; the
// version a request names governs what it shares with the standard API
// (e.g. how a candidates query string is parsed), as on the standard
// endpoint. Each is governed by the policy rule of the standard operation
// it extends.
const ExtensionPrefix = "/allot/v1"

// extensionRoutes is the route table of allot's extensions: one table per
// extension, each defined beside its handlers.
func (h *handlers) extensionRoutes() []api.Route {
	var routes []api.Route
	routes = append(routes, h.claimRoutes()...)
	routes = append(routes, h.rankedRoutes()...)
	routes = append(routes, h.explainRoutes()...)
	routes = append(routes, h.consoleRoutes()...)
	routes = append(routes, h.tokenRoutes()...)
	return routes
}
