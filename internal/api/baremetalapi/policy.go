package baremetalapi

import (
	"fmt"

	"allot/internal/policy"
)

// PolicyDefaults are Ironic's default policy rules for the node and
// allocation operations allot serves.
//
// PLACEHOLDER: filled in with Ironic 21.4's rules.
func PolicyDefaults() []policy.Rule { return nil }

// DefaultPolicy is an enforcer of PolicyDefaults with oslo.policy's
// default options.
func DefaultPolicy() *policy.Enforcer {
	enf, err := policy.New(PolicyDefaults(), policy.Options{})
	if err != nil {
		panic(fmt.Sprintf("ironic's default policy does not load: %v", err)) // a bug, caught by the tests
	}
	return enf
}

// deniedMessage is Ironic's 403 text, which names the rule.
func deniedMessage(rule string) string {
	return "Access was denied to the following resource: " + rule
}
