// Package engine is allot's in-memory index of providers (inventories with
// usage, traits, aggregates, trees) and the searches over it: the filters of
// GET /resource_providers and the allocation-candidate search.
//
// The index is derived state. The store is the truth: the placement service
// feeds the engine the providers that changed since its revision (Apply)
// before each search, so that every answer reflects every write committed
// before the search began. The engine does no I/O.
package engine
