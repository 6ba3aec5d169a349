package baremetalapi

import "allot/internal/api"

// ExtensionPrefix is where allot's own operations live on the bare-metal
// listener: outside Ironic's URL space, so that the Bare Metal API stays
// exactly what it is. Extension routes are not gated by microversion; the
// version a request names (the latest when it names none) governs what it
// shares with the standard API (e.g. which members a body may have), as
// on the standard endpoint. Each is governed by the policy rule of the
// standard operation it extends.
const ExtensionPrefix = "/allot/v1"

// extensionRoutes is the route table of allot's extensions: one table per
// extension, each defined beside its handlers.
func (h *handlers) extensionRoutes() []api.Route {
	var routes []api.Route
	routes = append(routes, h.dryRunRoutes()...)
	routes = append(routes, h.failureRoutes()...)
	routes = append(routes, h.consoleRoutes()...)
	return routes
}
