// Package baremetal is the Bare Metal service: nodes and their state
// machine (transitions complete at once, like Ironic's fake driver),
// bare-metal allocations and the worker that processes them.
//
// A node is a resource provider with the same UUID offering one unit of its
// custom resource class, reserved while the node cannot be allocated; an
// allocation is a candidates query plus a Placement claim whose consumer is
// the allocation's UUID. Every write is one store transaction that also
// keeps the node's provider in step.
package baremetal
