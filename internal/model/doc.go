// Package model is the domain vocabulary of allot: resource providers,
// inventories, resource classes, traits, aggregates, consumers and
// allocations, the standard catalogs, the name rules, and the one error type
// every layer uses. It performs no I/O.
package model
