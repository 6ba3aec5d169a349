// Package api is the HTTP plumbing shared by the Placement and Bare Metal
// APIs: handlers that return errors, request ids, logging and panic
// recovery, microversion negotiation, authentication, content negotiation,
// strict JSON bodies validated by JSON schema with size caps, a route table
// with JSON 404/405 answers, and the two error envelopes.
package api
