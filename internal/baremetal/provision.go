package baremetal

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// transition is what a provision verb does from a state (instantly).
type transition struct {
	to string
	// undeploy releases the node's allocation and clears its instance.
	undeploy bool
}

// verbs maps a provision verb and a current state to the resulting state.
var verbs = map[string]map[string]transition{
	"manage":   {"enroll": {to: "manageable"}, "available": {to: "manageable"}, "manageable": {to: "manageable"}, "adopt failed": {to: "manageable"}, "clean failed": {to: "manageable"}, "inspect failed": {to: "manageable"}},
	"provide":  {"manageable": {to: "available"}},
	"active":   {"available": {to: "active"}, "deploy failed": {to: "active"}},
	"deploy":   {"available": {to: "active"}, "deploy failed": {to: "active"}},
	"rebuild":  {"active": {to: "active"}, "deploy failed": {to: "active"}},
	"deleted":  {"active": {to: "available", undeploy: true}, "deploy failed": {to: "available", undeploy: true}, "error": {to: "available", undeploy: true}},
	"undeploy": {"active": {to: "available", undeploy: true}, "deploy failed": {to: "available", undeploy: true}, "error": {to: "available", undeploy: true}},
	"inspect":  {"manageable": {to: "manageable"}},
	"clean":    {"manageable": {to: "manageable"}},
	"adopt":    {"manageable": {to: "active"}, "adopt failed": {to: "active"}},
	"abort":    {},
}

// SetProvisionState applies a provision verb; the transition completes at
// once (a fake driver). Undeploying deletes the node's allocation. Checks
// run on the node as locked (see Check).
func (s *Service) SetProvisionState(ctx context.Context, ident, verb string, checks ...Check) error {
	table, ok := verbs[verb]
	var invalid error
	if !ok {
		invalid = model.BadRequest("Invalid provision state %q: use one of manage, provide, active (deploy), deleted (undeploy), rebuild, inspect, clean, adopt, abort.", model.Clip(verb, 200))
		if !guardsNode(checks) {
			return invalid
		}
	}
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lockCheckedNode(ctx, tx, ident, nodeNotFound, checks, invalid)
		if err != nil {
			return err
		}
		tr, ok := table[n.ProvisionState]
		if !ok {
			return model.BadRequest("The requested action %q can not be performed on node %q while it is in state %q.", verb, n.UUID, n.ProvisionState)
		}
		if tr.undeploy {
			if err := dropNodeAllocation(ctx, tx, &n); err != nil {
				return err
			}
			n.InstanceUUID = nil
			n.AllocationID = 0
			n.InstanceInfo = map[string]any{}
		}
		n.ProvisionState = tr.to
		n.TargetProvisionState = nil
		n.ProvisionUpdatedAt = tx.Now()
		n.LastError = nil
		if err := tx.UpdateNode(ctx, n); err != nil {
			return err
		}
		return syncProvider(ctx, tx, &n)
	})
}

// powerTargets maps the power targets a node accepts to the power state
// each leaves it in.
var powerTargets = map[string]string{
	"power on": model.PowerOn, "power off": model.PowerOff, "rebooting": model.PowerOn,
	"soft power off": model.PowerOff, "soft rebooting": model.PowerOn,
}

// SetPowerState applies a power target at once; checks run on the node as
// locked (see Check).
func (s *Service) SetPowerState(ctx context.Context, ident, target string, checks ...Check) error {
	state, ok := powerTargets[target]
	var invalid error
	if !ok {
		invalid = model.BadRequest("Invalid power target %q: use one of power on, power off, rebooting, soft power off, soft rebooting.", model.Clip(target, 200))
		if !guardsNode(checks) {
			return invalid
		}
	}
	return s.store.Write(ctx, func(tx *store.Tx) error {
		n, err := lockCheckedNode(ctx, tx, ident, nodeNotFound, checks, invalid)
		if err != nil {
			return err
		}
		n.PowerState = &state
		n.TargetPowerState = nil
		if err := tx.UpdateNode(ctx, n); err != nil {
			return err
		}
		return syncProvider(ctx, tx, &n)
	})
}
