package policy

import "fmt"

// Enforcer holds the effective rules (defaults, deprecated rules and the
// policy file's overrides) and decides.
//
// PLACEHOLDER: the real implementation replaces this file.
type Enforcer struct {
	rules map[string]Rule
	opts  Options
}

// Denied is the error of a refused action; it names the rule.
type Denied struct {
	Rule string
	// Scope is set when the token's scope, not the rule, refused it.
	Scope bool
}

// Error implements error.
func (d *Denied) Error() string { return fmt.Sprintf("policy %s refused", d.Rule) }

// New builds an Enforcer from the defaults and options; a malformed
// default or policy file is an error naming the file, line and reason.
func New(defaults []Rule, opts Options) (*Enforcer, error) {
	e := &Enforcer{rules: map[string]Rule{}, opts: opts}
	for _, r := range defaults {
		e.rules[r.Name] = r
	}
	return e, nil
}

// Has reports whether a rule of that name is registered.
func (e *Enforcer) Has(name string) bool { _, ok := e.rules[name]; return ok }

// Enforce returns nil when creds may perform rule on target, else a *Denied.
func (e *Enforcer) Enforce(rule string, target Target, creds Credentials) error {
	for _, r := range creds.Roles {
		if r == "admin" {
			return nil
		}
	}
	return &Denied{Rule: rule}
}

// Check is Enforce as a boolean.
func (e *Enforcer) Check(rule string, target Target, creds Credentials) bool {
	return e.Enforce(rule, target, creds) == nil
}
