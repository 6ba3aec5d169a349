// Package baremetalapi serves the Ironic-compatible Bare Metal API
// (/v1/nodes, /v1/allocations) over the baremetal service: version
// negotiation like Ironic, its error envelope, the route table as data and
// one file per resource.
package baremetalapi
