package placement_test

import (
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
)

// tree creates root -> child -> grandchild and a second root, other.
func tree(t *testing.T, svc *placement.Service) {
	t.Helper()
	mustProvider(t, svc, uuidRoot, "root", "")
	mustProvider(t, svc, uuidChild, "child", uuidRoot)
	mustProvider(t, svc, uuidGrand, "grandchild", uuidChild)
	mustProvider(t, svc, uuidOther, "other", "")
}

func TestCreateProvider(t *testing.T) {
	cases := []struct {
		name       string
		in         placement.NewProvider
		want       failure
		wantParent string
		wantRoot   string
	}{
		{"root", placement.NewProvider{UUID: uuidNone, Name: "new"}, success, "", uuidNone},
		{"under a child", placement.NewProvider{UUID: uuidNone, Name: "new", ParentUUID: uuidChild}, success, uuidChild, uuidRoot},
		{"generated uuid", placement.NewProvider{Name: "new"}, success, "", ""},
		{"own parent", placement.NewProvider{UUID: uuidNone, Name: "new", ParentUUID: uuidNone},
			badRequest(`Unable to create resource provider "new", ` + uuidNone + `: Object action create failed because: parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.`), "", ""},
		{"unknown parent", placement.NewProvider{UUID: uuidNone, Name: "new", ParentUUID: "55555555-5555-4555-8555-555555555555"},
			badRequest(`Unable to create resource provider "new", ` + uuidNone + `: Object action create failed because: parent provider UUID does not exist.`), "", ""},
		{"duplicate uuid", placement.NewProvider{UUID: uuidRoot, Name: "new"},
			conflict(model.CodeDuplicateName, "Conflicting resource provider uuid: "+uuidRoot+" already exists."), "", ""},
		{"duplicate name", placement.NewProvider{UUID: uuidNone, Name: "child"},
			conflict(model.CodeDuplicateName, "Conflicting resource provider name: child already exists."), "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			tree(t, svc)
			p, err := svc.CreateProvider(ctx, c.in)
			checkFailure(t, err, c.want)
			if err != nil {
				return
			}
			got := mustGet(t, svc, p.UUID)
			if got.Name != c.in.Name || got.Generation != 0 || got.ParentUUID != c.wantParent {
				t.Errorf("created %+v", got)
			}
			if c.wantRoot == "" {
				c.wantRoot = p.UUID // a root is its own root
			}
			if got.RootUUID != c.wantRoot {
				t.Errorf("root %s, want %s", got.RootUUID, c.wantRoot)
			}
			if _, ok := model.NormalizeUUID(p.UUID); !ok {
				t.Errorf("uuid %q", p.UUID)
			}
		})
	}
}

func TestUpdateProvider(t *testing.T) {
	saveFailed := func(reason string) failure {
		return badRequest("Unable to save resource provider " + uuidChild + ": Object action update failed because: " + reason)
	}
	parent := func(uuid string, reparent bool) placement.ProviderUpdate {
		return placement.ProviderUpdate{Name: "child", SetParent: true, ParentUUID: uuid, AllowReparenting: reparent}
	}
	cases := []struct {
		name       string
		in         placement.ProviderUpdate
		want       failure
		wantParent string
		wantRoot   string
	}{
		{"rename", placement.ProviderUpdate{Name: "renamed"}, success, uuidRoot, uuidRoot},
		{"rename to a taken name", placement.ProviderUpdate{Name: "other"},
			conflict(model.CodeDuplicateName, "Conflicting resource provider other already exists."), "", ""},
		{"same parent", parent(uuidRoot, false), success, uuidRoot, uuidRoot},
		{"another parent before 1.37", parent(uuidOther, false), saveFailed("re-parenting a provider is not currently allowed."), "", ""},
		{"another parent from 1.37", parent(uuidOther, true), success, uuidOther, uuidOther},
		{"under its own descendant", parent(uuidGrand, true), saveFailed("creating loop in the provider tree is not allowed."), "", ""},
		{"under itself", parent(uuidChild, true), saveFailed("creating loop in the provider tree is not allowed."), "", ""},
		{"unknown parent", parent(uuidNone, true),
			badRequest("Unable to save resource provider " + uuidChild + ": Object action create failed because: parent provider UUID does not exist."), "", ""},
		{"un-parent before 1.37", parent("", false), saveFailed("un-parenting a provider is not currently allowed."), "", ""},
		{"un-parent from 1.37", parent("", true), success, "", uuidChild},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			tree(t, svc)
			before := mustGet(t, svc, uuidChild)
			_, err := svc.UpdateProvider(ctx, uuidChild, c.in, nil)
			checkFailure(t, err, c.want)
			got := mustGet(t, svc, uuidChild)
			if err != nil {
				if got != before {
					t.Errorf("a refused update changed the provider: %+v, was %+v", got, before)
				}
				return
			}
			if got.Name != c.in.Name || got.ParentUUID != c.wantParent || got.RootUUID != c.wantRoot {
				t.Errorf("updated to %+v", got)
			}
			// The grandchild moves with its parent.
			if g := mustGet(t, svc, uuidGrand); g.RootUUID != c.wantRoot {
				t.Errorf("grandchild's root %s, want %s", g.RootUUID, c.wantRoot)
			}
		})
	}
}

// TestRootCanTakeAParent: a root may get a parent before 1.37 (only
// changing an existing parent needs 1.37), and its subtree follows.
func TestRootCanTakeAParent(t *testing.T) {
	svc, ctx := newService(t)
	tree(t, svc)
	if _, err := svc.UpdateProvider(ctx, uuidRoot, placement.ProviderUpdate{Name: "root", SetParent: true, ParentUUID: uuidOther}, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{uuidRoot, uuidChild, uuidGrand} {
		if p := mustGet(t, svc, id); p.RootUUID != uuidOther {
			t.Errorf("%s has root %s, want %s", p.Name, p.RootUUID, uuidOther)
		}
	}
}

func TestDeleteProvider(t *testing.T) {
	const consumer = "cccccccc-0000-4000-8000-000000000001"
	cases := []struct {
		name string
		uuid string
		hold bool // a consumer holds VCPU on the provider first
		want failure
	}{
		{"leaf", uuidGrand, false, success},
		{"unused root", uuidOther, false, success},
		{"unknown", uuidNone, false, notFound("No resource provider with uuid " + uuidNone + " found for delete")},
		{"has children", uuidChild, false, conflict(model.CodeProviderCannotDelParent,
			"Unable to delete parent resource provider "+uuidChild+": It has child resource providers.")},
		{"has allocations", uuidOther, true, conflict(model.CodeProviderInUse,
			"Unable to delete resource provider "+uuidOther+": Resource provider has allocations.")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			tree(t, svc)
			if c.hold {
				if _, err := svc.SetInventories(ctx, c.uuid, 0, []model.Inventory{model.DefaultInventory("VCPU", 4)}, placement.ReservedUpToTotal, nil); err != nil {
					t.Fatal(err)
				}
				mustHold(t, svc, consumer, c.uuid, "VCPU", 1)
			}
			err := svc.DeleteProvider(ctx, c.uuid)
			checkFailure(t, err, c.want)
			_, getErr := svc.GetProvider(ctx, c.uuid)
			switch {
			case err == nil && !model.IsKind(getErr, model.KindNotFound):
				t.Errorf("deleted provider still there: %v", getErr)
			case err != nil && c.uuid != uuidNone && getErr != nil:
				t.Errorf("refused delete lost the provider: %v", getErr)
			}
		})
	}
}

func TestGetProviderUnknown(t *testing.T) {
	svc, ctx := newService(t)
	_, err := svc.GetProvider(ctx, uuidNone)
	checkFailure(t, err, notFound("No resource provider with uuid "+uuidNone+" found"))
}
