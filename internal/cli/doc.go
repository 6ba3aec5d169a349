// Package cli is the allot command line: "allot serve" wires the store, the
// services and the APIs together; "allot placement ..." and "allot
// baremetal ..." are clients of any compatible endpoint.
package cli
