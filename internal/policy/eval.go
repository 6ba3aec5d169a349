package policy

// result is the outcome of evaluating a check: false, true, or raised
// (where oslo.policy's Python raises, e.g. TypeError from indexing a
// string with a dotted name). A raise stops the evaluation, as the
// exception does, and the Enforcer refuses.
type result uint8

const (
	resFalse result = iota
	resTrue
	resRaise
)

func resOf(b bool) result {
	if b {
		return resTrue
	}
	return resFalse
}

// eval evaluates n for target and creds, as oslo.policy's checks do.
func (n *node) eval(target Target, c *Credentials) result {
	switch n.op {
	case opTrue:
		return resTrue
	case opAnd:
		for _, k := range n.kids {
			if r := k.eval(target, c); r != resTrue {
				return r
			}
		}
		return resTrue
	case opOr:
		for _, k := range n.kids {
			if r := k.eval(target, c); r != resFalse {
				return r
			}
		}
		return resFalse
	case opNot:
		switch n.kids[0].eval(target, c) {
		case resTrue:
			return resFalse
		case resFalse:
			return resTrue
		}
		return resRaise
	case opRule:
		if n.ref == nil {
			return resFalse
		}
		return n.ref.check.eval(target, c)
	case opRole:
		return resOf(n.evalRole(target, c))
	case opGeneric:
		return n.evalGeneric(target, c)
	}
	return resFalse
}

// evalRole is oslo.policy's RoleCheck: the match, formatted with the
// target, is one of the roles, ignoring case.
func (n *node) evalRole(target Target, c *Credentials) bool {
	if n.tmpl.kind == tmplConst {
		for _, r := range c.Roles {
			if lowerIs(r, n.lower) {
				return true
			}
		}
		return false
	}
	m, ok := n.tmpl.expand(target)
	if !ok {
		return false
	}
	for _, r := range c.Roles {
		if lowerEqual(r, m) {
			return true
		}
	}
	return false
}

// evalGeneric is oslo.policy's GenericCheck: the match, formatted with the
// target, equals str() of the literal, or of the credential the dotted
// name finds (any element of a list). Dotted names into the standard
// credentials are refused at parse time (Python would always raise), so
// only Extra has nested values.
func (n *node) evalGeneric(target Target, c *Credentials) result {
	m, ok := n.tmpl.expand(target)
	if !ok {
		return resFalse
	}
	if n.lit {
		return resOf(m == n.litStr)
	}
	switch n.field {
	case fUserID:
		return strIs(c.UserID, m)
	case fUserDomainID:
		return strIs(c.UserDomainID, m)
	case fSystemScope:
		return strIs(c.SystemScope, m)
	case fDomainID:
		return strIs(c.DomainID, m)
	case fProjectID:
		return strIs(c.ProjectID, m)
	case fProjectDomainID:
		return strIs(c.ProjectDomainID, m)
	case fServiceUserID:
		return strIs(c.ServiceUserID, m)
	case fServiceUserDomainID:
		return strIs(c.ServiceUserDomainID, m)
	case fServiceProjectID:
		return strIs(c.ServiceProjectID, m)
	case fServiceProjectDomainID:
		return strIs(c.ServiceProjectDomainID, m)
	case fSystem:
		// oslo.policy sets creds["system"] only when system_scope is set.
		if c.SystemScope == "" {
			return resFalse
		}
		return strIs(c.SystemScope, m)
	case fRoles:
		return listHas(c.Roles, nil, m)
	case fServiceRoles:
		return listHas(c.ServiceRoles, nil, m)
	case fIsAdminProject:
		if c.IsAdminProject {
			return resOf(m == "True")
		}
		return resOf(m == "False")
	}
	v, ok := c.Extra[n.name]
	if !ok {
		return resFalse
	}
	return findChild(v, n.rest, m)
}

// strIs compares a string credential ("" is None) with the match.
func strIs(v string, m string) result {
	if v == "" {
		return resOf(m == "None")
	}
	return resOf(m == v)
}

// listHas is oslo.policy's _find_in_dict on a list of strings: true when
// an element is the match; with more of the path to follow, Python raises
// on the first element (a string is not a dict).
func listHas(l []string, rest []string, m string) result {
	if len(l) > 0 && len(rest) > 0 {
		return resRaise
	}
	for _, v := range l {
		if v == m {
			return resTrue
		}
	}
	return resFalse
}

// findChild is oslo.policy's _find_in_dict after one lookup found v: a
// list matches when any element does.
func findChild(v any, rest []string, m string) result {
	switch l := v.(type) {
	case []string:
		return listHas(l, rest, m)
	case []any:
		for _, e := range l {
			if r := findIn(e, rest, m); r != resFalse {
				return r
			}
		}
		return resFalse
	}
	return findIn(v, rest, m)
}

// findIn is oslo.policy's _find_in_dict on v with the rest of the path.
func findIn(v any, rest []string, m string) result {
	if len(rest) == 0 {
		return resOf(m == pyStr(v))
	}
	var child any
	switch d := v.(type) {
	case map[string]any:
		c, ok := d[rest[0]]
		if !ok {
			return resFalse
		}
		child = c
	case map[string]string:
		c, ok := d[rest[0]]
		if !ok {
			return resFalse
		}
		child = c
	default:
		return resRaise // Python: TypeError, v is not a dict
	}
	return findChild(child, rest[1:], m)
}
