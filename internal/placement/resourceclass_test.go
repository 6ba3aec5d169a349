package placement_test

import (
	"context"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
)

// classWorld has CUSTOM_FREE, and CUSTOM_USED in a provider's inventory.
func classWorld(t *testing.T) (*placement.Service, context.Context) {
	t.Helper()
	svc, ctx := newService(t)
	for _, n := range []string{"CUSTOM_FREE", "CUSTOM_USED"} {
		if _, err := svc.CreateResourceClass(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	mustProvider(t, svc, uuidRoot, "root", "")
	if _, err := svc.SetInventories(ctx, uuidRoot, 0, []model.Inventory{model.DefaultInventory("CUSTOM_USED", 1)}, placement.ReservedBelowTotal, nil); err != nil {
		t.Fatal(err)
	}
	return svc, ctx
}

// classExists reports whether a class is there, failing on other errors.
func classExists(t *testing.T, svc *placement.Service, name string) bool {
	t.Helper()
	_, err := svc.GetResourceClass(context.Background(), name)
	if err != nil && !model.IsKind(err, model.KindNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCreateResourceClass(t *testing.T) {
	cases := []struct {
		name, class string
		want        failure
	}{
		{"new", "CUSTOM_NEW", success},
		{"existing custom", "CUSTOM_FREE", conflict(model.CodeDuplicateName, "Conflicting resource class already exists: CUSTOM_FREE")},
		{"standard", "VCPU", conflict(model.CodeDuplicateName, "Conflicting resource class already exists: VCPU")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := classWorld(t)
			rc, err := svc.CreateResourceClass(ctx, c.class)
			checkFailure(t, err, c.want)
			if err == nil && (rc.Name != c.class || rc.ID < model.CustomResourceClassMinID || !classExists(t, svc, c.class)) {
				t.Errorf("created %+v", rc)
			}
		})
	}
}

func TestEnsureResourceClass(t *testing.T) {
	svc, ctx := classWorld(t)
	cases := []struct {
		class       string
		wantCreated bool
	}{
		{"CUSTOM_NEW", true},
		{"CUSTOM_NEW", false},
		{"CUSTOM_FREE", false},
		{"VCPU", false},
	}
	for _, c := range cases {
		rc, created, err := svc.EnsureResourceClass(ctx, c.class)
		if err != nil || created != c.wantCreated || rc.Name != c.class {
			t.Errorf("EnsureResourceClass(%s): %+v created=%v %v, want created=%v", c.class, rc, created, err, c.wantCreated)
		}
	}
}

func TestRenameResourceClass(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           failure
	}{
		{"rename", "CUSTOM_FREE", "CUSTOM_RENAMED", success},
		{"same name", "CUSTOM_FREE", "CUSTOM_FREE", success},
		{"to a taken name", "CUSTOM_FREE", "CUSTOM_USED", conflict(model.CodeDuplicateName, "Resource class already exists: CUSTOM_USED")},
		{"standard", "VCPU", "CUSTOM_CPU", badRequest("Cannot update standard resource class VCPU")},
		{"unknown", "CUSTOM_NONE", "CUSTOM_X", notFound("No such resource class CUSTOM_NONE.")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := classWorld(t)
			rc, err := svc.RenameResourceClass(ctx, c.from, c.to)
			checkFailure(t, err, c.want)
			if err != nil {
				if c.from != "CUSTOM_NONE" && !classExists(t, svc, c.from) {
					t.Errorf("a refused rename lost %s", c.from)
				}
				return
			}
			if rc.Name != c.to || !classExists(t, svc, c.to) || (c.from != c.to && classExists(t, svc, c.from)) {
				t.Errorf("renamed to %+v", rc)
			}
		})
	}
}

func TestDeleteResourceClass(t *testing.T) {
	cases := []struct {
		name, class string
		want        failure
	}{
		{"unused custom", "CUSTOM_FREE", success},
		{"in an inventory", "CUSTOM_USED", failure{kind: model.KindConflict,
			msg: "Error in delete resource class: Cannot delete resource class CUSTOM_USED. Class is in use in inventory."}},
		{"standard", "VCPU", badRequest("Error in delete resource class: Cannot delete standard resource class VCPU.")},
		{"unknown", "CUSTOM_NONE", notFound("No such resource class CUSTOM_NONE.")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := classWorld(t)
			err := svc.DeleteResourceClass(ctx, c.class)
			checkFailure(t, err, c.want)
			if want := err != nil && c.class != "CUSTOM_NONE"; classExists(t, svc, c.class) != want {
				t.Errorf("%s exists: %v, want %v", c.class, !want, want)
			}
		})
	}
}

// TestListResourceClasses: the standard catalog first, in its order, then
// the custom classes.
func TestListResourceClasses(t *testing.T) {
	svc, ctx := classWorld(t)
	rcs, err := svc.ListResourceClasses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	std := model.StandardResourceClasses()
	if len(rcs) != len(std)+2 {
		t.Fatalf("%d classes, want %d standard and 2 custom", len(rcs), len(std))
	}
	for i, name := range std {
		if rcs[i].Name != name {
			t.Fatalf("class %d is %s, want %s", i, rcs[i].Name, name)
		}
	}
	if rcs[len(std)].Name != "CUSTOM_FREE" || rcs[len(std)+1].Name != "CUSTOM_USED" {
		t.Errorf("custom classes %s, %s", rcs[len(std)].Name, rcs[len(std)+1].Name)
	}
}
