// Package query parses and validates the query strings of the Placement API
// (resource provider lists and allocation candidates) for a given
// microversion into typed requests. It is pure: names are checked for form
// here and for existence by the engine.
package query
