// Package importer moves a cloud from a running Placement service (any
// implementation, microversion 1.14 or later) into allot through both services'
// HTTP APIs only, and compares the two afterwards.
//
// Import reads the whole source into a Snapshot, reads the target the same
// way, and makes the target match: custom resource classes and traits,
// providers parents first with their inventories, traits and aggregates,
// then every consumer's allocations in one write each. A rerun reads the
// target again and writes only what is missing or different, which is how
// an interrupted import resumes. Compare lists every difference between two
// snapshots.
package importer
