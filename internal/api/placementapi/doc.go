// Package placementapi serves the OpenStack Placement API (microversions
// 1.0 to 1.39) over the placement service: the route table as data, one
// file per resource. Handlers parse and validate per microversion, make one
// service call and render for the negotiated version.
package placementapi
