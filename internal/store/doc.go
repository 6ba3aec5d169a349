// Package store is the only place in allot that speaks SQL. It keeps the
// truth: resource providers, inventories with maintained usage counters,
// classes, traits, aggregates, consumers and allocations, written once over
// database/sql for SQLite (modernc.org/sqlite) and PostgreSQL (pgx).
//
// Every write transaction that changes a provider records it in a change
// feed under a global, gap-free revision, so that in-memory indexes (the
// engine) can catch up with exactly the providers that changed.
package store
