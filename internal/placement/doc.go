// Package placement is the Placement service: every operation of the
// Placement API as a Go method, with all business rules (generations, tree
// rules, inventory capacity, consumer rules, allocation capacity, reshaping)
// applied inside one store transaction per write. Reads of candidates and
// provider lists go to the engine after it caught up with the store.
package placement
