package placement_test

import (
	"context"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
)

// withReserved returns inv with reserved set.
func withReserved(inv model.Inventory, reserved int64) model.Inventory {
	inv.Reserved = reserved
	return inv
}

// totals reads a provider's inventories as class -> total.
func totals(t *testing.T, svc *placement.Service, uuid string) map[string]int64 {
	t.Helper()
	pi, err := svc.GetInventories(context.Background(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, inv := range pi.Inventories {
		out[inv.ResourceClass] = inv.Total
	}
	return out
}

// TestInventoryWrites runs every inventory write against a provider with
// VCPU 8 (2 of them allocated) and MEMORY_MB 1024: a success bumps the
// provider's generation once and leaves the inventories in after; a
// failure answers Placement's words and changes nothing.
func TestInventoryWrites(t *testing.T) {
	const consumer = "cccccccc-0000-4000-8000-000000000001"
	vcpu, mem, disk := model.DefaultInventory("VCPU", 8), model.DefaultInventory("MEMORY_MB", 1024), model.DefaultInventory("DISK_GB", 100)
	type write func(ctx context.Context, svc *placement.Service, gen int64) error
	create := func(inv model.Inventory, rule placement.CapacityRule) write {
		return func(ctx context.Context, svc *placement.Service, _ int64) error {
			_, err := svc.CreateInventory(ctx, uuidRoot, inv, rule, nil)
			return err
		}
	}
	set := func(stale bool, rule placement.CapacityRule, invs ...model.Inventory) write {
		return func(ctx context.Context, svc *placement.Service, gen int64) error {
			if stale {
				gen--
			}
			_, err := svc.SetInventories(ctx, uuidRoot, gen, invs, rule, nil)
			return err
		}
	}
	update := func(stale bool, inv model.Inventory, rule placement.CapacityRule) write {
		return func(ctx context.Context, svc *placement.Service, gen int64) error {
			if stale {
				gen--
			}
			_, saved, err := svc.UpdateInventory(ctx, uuidRoot, gen, inv, rule, nil)
			if err == nil && (saved.ResourceClass != inv.ResourceClass || saved.Total != inv.Total) {
				t.Errorf("UpdateInventory returned %+v", saved)
			}
			return err
		}
	}
	del := func(uuid, class string) write {
		return func(ctx context.Context, svc *placement.Service, _ int64) error {
			return svc.DeleteInventory(ctx, uuid, class)
		}
	}
	delAll := func(ctx context.Context, svc *placement.Service, _ int64) error {
		return svc.DeleteInventories(ctx, uuidRoot)
	}
	genConflict := conflict(model.CodeConcurrentUpdate, "resource provider generation conflict")
	setup := map[string]int64{"VCPU": 8, "MEMORY_MB": 1024}
	cases := []struct {
		name  string
		write write
		want  failure
		after map[string]int64 // nil: as set up
	}{
		{"create", create(disk, placement.ReservedBelowTotal), success, map[string]int64{"VCPU": 8, "MEMORY_MB": 1024, "DISK_GB": 100}},
		{"create a class the provider has", create(vcpu, placement.ReservedBelowTotal),
			conflict(model.CodeConcurrentUpdate, "Update conflict: an inventory of class VCPU already exists on this provider"), nil},
		{"create an unknown class", create(model.DefaultInventory("CUSTOM_NOPE", 1), placement.ReservedBelowTotal),
			badRequest("Unable to create inventory for resource provider " + uuidRoot + ": No such resource class CUSTOM_NOPE."), nil},
		{"create all reserved before 1.26", create(withReserved(disk, 100), placement.ReservedBelowTotal),
			badRequest("Unable to create inventory for resource provider " + uuidRoot + ": Invalid inventory for 'DISK_GB' on resource provider '" + uuidRoot + "'. The reserved value is greater than or equal to total."), nil},
		{"create all reserved from 1.26", create(withReserved(disk, 100), placement.ReservedUpToTotal), success,
			map[string]int64{"VCPU": 8, "MEMORY_MB": 1024, "DISK_GB": 100}},
		{"create more reserved than total", create(withReserved(disk, 101), placement.ReservedUpToTotal),
			badRequest("Unable to create inventory for resource provider " + uuidRoot + ": Invalid inventory for 'DISK_GB' on resource provider '" + uuidRoot + "'. The reserved value is greater than total."), nil},

		{"set: replace one, drop one, add one", set(false, placement.ReservedBelowTotal, model.DefaultInventory("VCPU", 16), disk), success,
			map[string]int64{"VCPU": 16, "DISK_GB": 100}},
		{"set with a stale generation", set(true, placement.ReservedBelowTotal, vcpu), genConflict, nil},
		{"set an unknown class", set(false, placement.ReservedBelowTotal, vcpu, model.DefaultInventory("CUSTOM_NOPE", 1)),
			badRequest("Unknown resource class in inventory for resource provider " + uuidRoot + ": No such resource class CUSTOM_NOPE."), nil},
		{"set drops an allocated class", set(false, placement.ReservedBelowTotal, mem),
			conflict(model.CodeInventoryInUse, "update conflict: Inventory for 'VCPU' on resource provider '"+uuidRoot+"' in use."), nil},
		{"set all reserved before 1.26", set(false, placement.ReservedBelowTotal, vcpu, withReserved(mem, 1024)),
			badRequest("Unable to update inventory for resource provider " + uuidRoot + ": Invalid inventory for 'MEMORY_MB' on resource provider '" + uuidRoot + "'. The reserved value is greater than or equal to total."), nil},

		{"update", update(false, model.DefaultInventory("MEMORY_MB", 2048), placement.ReservedBelowTotal), success,
			map[string]int64{"VCPU": 8, "MEMORY_MB": 2048}},
		{"update with a stale generation", update(true, mem, placement.ReservedBelowTotal), genConflict, nil},
		{"update an unknown class", update(false, model.DefaultInventory("CUSTOM_NOPE", 1), placement.ReservedBelowTotal),
			notFound("No such resource class CUSTOM_NOPE."), nil},
		{"update a class the provider lacks", update(false, disk, placement.ReservedBelowTotal),
			badRequest("No inventory record with resource class for resource provider " + uuidRoot + ": No inventory of class DISK_GB found."), nil},
		{"update to more reserved than total", update(false, withReserved(mem, 2000), placement.ReservedUpToTotal),
			badRequest("Unable to update inventory for resource provider " + uuidRoot + ": Invalid inventory for 'MEMORY_MB' on resource provider '" + uuidRoot + "'. The reserved value is greater than total."), nil},

		{"delete one", del(uuidRoot, "MEMORY_MB"), success, map[string]int64{"VCPU": 8}},
		{"delete an allocated class", del(uuidRoot, "VCPU"), conflict(model.CodeConcurrentUpdate,
			"Unable to delete inventory of class VCPU: Inventory for 'VCPU' on resource provider '"+uuidRoot+"' in use."), nil},
		{"delete a class the provider lacks", del(uuidRoot, "DISK_GB"), notFound("No inventory of class DISK_GB found for delete"), nil},
		{"delete an unknown class", del(uuidRoot, "CUSTOM_NOPE"),
			notFound("No inventory of class CUSTOM_NOPE found for delete: No such resource class CUSTOM_NOPE."), nil},
		{"delete on an unknown provider", del(uuidNone, "VCPU"), notFound("No resource provider with uuid " + uuidNone + " found"), nil},
		{"delete all with an allocated class", delAll, conflict(model.CodeInventoryInUse,
			"Inventory for 'VCPU' on resource provider '"+uuidRoot+"' in use."), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			mustProvider(t, svc, uuidRoot, "root", "")
			if _, err := svc.SetInventories(ctx, uuidRoot, 0, []model.Inventory{vcpu, mem}, placement.ReservedBelowTotal, nil); err != nil {
				t.Fatal(err)
			}
			mustHold(t, svc, consumer, uuidRoot, "VCPU", 2)
			gen := mustGet(t, svc, uuidRoot).Generation
			err := c.write(ctx, svc, gen)
			checkFailure(t, err, c.want)
			wantGen, wantTotals := gen+1, c.after
			if err != nil {
				wantGen, wantTotals = gen, setup
			}
			if got := mustGet(t, svc, uuidRoot).Generation; got != wantGen {
				t.Errorf("generation %d, want %d", got, wantGen)
			}
			got := totals(t, svc, uuidRoot)
			if len(got) != len(wantTotals) {
				t.Fatalf("inventories %v, want %v", got, wantTotals)
			}
			for class, total := range wantTotals {
				if got[class] != total {
					t.Errorf("inventories %v, want %v", got, wantTotals)
				}
			}
		})
	}
}

// TestDeleteAllInventories: without allocations, every inventory goes and
// the generation moves once.
func TestDeleteAllInventories(t *testing.T) {
	svc, ctx := newService(t)
	mustProvider(t, svc, uuidRoot, "root", "")
	if _, err := svc.SetInventories(ctx, uuidRoot, 0, []model.Inventory{model.DefaultInventory("VCPU", 8), model.DefaultInventory("DISK_GB", 10)},
		placement.ReservedBelowTotal, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteInventories(ctx, uuidRoot); err != nil {
		t.Fatal(err)
	}
	if got := totals(t, svc, uuidRoot); len(got) != 0 {
		t.Errorf("inventories left: %v", got)
	}
	if got := mustGet(t, svc, uuidRoot).Generation; got != 2 {
		t.Errorf("generation %d, want 2", got)
	}
}

func TestGetInventory(t *testing.T) {
	svc, ctx := newService(t)
	mustProvider(t, svc, uuidRoot, "root", "")
	if _, err := svc.SetInventories(ctx, uuidRoot, 0, []model.Inventory{withReserved(model.DefaultInventory("VCPU", 8), 1)}, placement.ReservedBelowTotal, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, uuid, class string
		want              failure
	}{
		{"present", uuidRoot, "VCPU", success},
		{"absent class", uuidRoot, "DISK_GB", notFound("No inventory of class DISK_GB for " + uuidRoot)},
		{"unknown provider", uuidNone, "VCPU", notFound("No resource provider with uuid " + uuidNone + " found")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, inv, err := svc.GetInventory(ctx, c.uuid, c.class)
			checkFailure(t, err, c.want)
			if err == nil && (p.Generation != 1 || inv.Total != 8 || inv.Reserved != 1) {
				t.Errorf("provider %+v, inventory %+v", p, inv)
			}
		})
	}
}
