package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Denied is the error of a refused action; it names the rule.
type Denied struct {
	// Rule is the rule that was enforced, as the caller named it.
	Rule string
	// Scope is set when the token's scope, not the rule, refused it.
	Scope bool
	// TokenScope is the token's scope ("system", "domain" or "project")
	// when Scope is set.
	TokenScope string
	// ScopeTypes are the scopes the rule accepts, when Scope is set.
	ScopeTypes []string
	// Undefined is set when no rule of that name is defined (registered
	// or in the policy file) and there is no default rule: the request
	// failed closed, and the caller probably named a rule by mistake.
	Undefined bool
}

// Error implements error, in oslo.policy's words.
func (d *Denied) Error() string {
	switch {
	case d.Scope:
		return fmt.Sprintf("%s requires a scope of [%s], request was made with %s scope",
			d.Rule, strings.Join(d.ScopeTypes, ", "), d.TokenScope)
	case d.Undefined:
		return d.Rule + " is disallowed by policy (no rule of that name is defined)"
	default:
		return d.Rule + " is disallowed by policy"
	}
}

// SyntaxError is a check string that is not a valid rule.
type SyntaxError struct {
	// Column is where the problem is, counted in characters from 1 (0
	// when it concerns the whole rule).
	Column int
	// Reason says what is wrong, and names the column when there is one.
	Reason string
}

// Error implements error.
func (e *SyntaxError) Error() string { return e.Reason }

// LoadError is a default or policy file rule that New refuses.
type LoadError struct {
	// File is the policy file, empty for a default registered in code.
	File string
	// Line is the rule's line in File (0 when not known).
	Line int
	// Rule names the rule.
	Rule string
	// Err is the reason, often a *SyntaxError.
	Err error
}

// Error implements error: "policy.yaml:12: rule "x": reason", or
// "default rule "x": reason" for a default registered in code.
func (e *LoadError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
		if e.Rule != "" {
			b.WriteString("rule " + strconv.Quote(e.Rule) + ": ")
		}
	} else if e.Rule != "" {
		b.WriteString("default rule " + strconv.Quote(e.Rule) + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the reason.
func (e *LoadError) Unwrap() error { return e.Err }
