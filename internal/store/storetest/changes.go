package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// testChangesSince checks ChangesSince (one round trip on PostgreSQL)
// against the statements it stands for, read one by one in a snapshot:
// the revision, the changed ids, their states and, when the catalogs
// changed, every class and trait.
func testChangesSince(t *testing.T, s *store.Store) {
	ctx := context.Background()
	// want reads what ChangesSince(since) must answer, statement by
	// statement.
	want := func(since int64) (ch store.Changes) {
		read(t, s, func(tx *store.Tx) error {
			rev, _, err := tx.Revision(ctx)
			if err != nil {
				return err
			}
			ch.Revision = rev
			ids, global, err := tx.ChangedProviders(ctx, since, rev)
			if err != nil {
				return err
			}
			slices.Sort(ids)
			ids = slices.Compact(ids)
			ch.Global = global
			if len(ids) > 0 {
				if ch.States, err = tx.ProviderStates(ctx, ids); err != nil {
					return err
				}
			}
			present := map[int64]bool{}
			for _, st := range ch.States {
				present[st.ID] = true
			}
			for _, id := range ids {
				if !present[id] {
					ch.Removed = append(ch.Removed, id)
				}
			}
			if global {
				rcs, err := tx.ResourceClasses(ctx)
				if err != nil {
					return err
				}
				ts, err := tx.Traits(ctx, model.TraitFilter{})
				if err != nil {
					return err
				}
				ch.Classes, ch.Traits = []string{}, []string{}
				for _, rc := range rcs {
					ch.Classes = append(ch.Classes, rc.Name)
				}
				for _, tr := range ts {
					ch.Traits = append(ch.Traits, tr.Name)
				}
			}
			return nil
		})
		return ch
	}
	check := func(what string, since int64) store.Changes {
		t.Helper()
		got, err := s.ChangesSince(ctx, since)
		if err != nil {
			t.Fatalf("%s: ChangesSince(%d): %v", what, since, err)
		}
		if w := want(since); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: ChangesSince(%d)\n got %+v\nwant %+v", what, since, got, w)
		}
		return got
	}

	rev0, _ := s.Revision(ctx)
	a := newProvider(t, s, "changes-a", nil)
	c := newProvider(t, s, "changes-c", &a)
	b := newProvider(t, s, "changes-b", nil)
	vcpu, _ := model.StandardResourceClassID("VCPU")
	write(t, s, func(tx *store.Tx) error {
		tr, _, err := tx.CreateTrait(ctx, "CUSTOM_CHANGES_A")
		if err != nil {
			return err
		}
		if _, err := tx.SetProviderTraits(ctx, a.ID, []int64{tr.ID}); err != nil {
			return err
		}
		if _, err := tx.SetProviderAggregates(ctx, a.ID, []string{uuid.NewString(), uuid.NewString()}); err != nil {
			return err
		}
		return tx.InsertInventory(ctx, c.ID, int64(vcpu), model.DefaultInventory("VCPU", 8))
	})
	got := check("three providers, traits, aggregates, an inventory and a new trait", rev0)
	if len(got.States) != 3 || !got.Global || !slices.Contains(got.Traits, "CUSTOM_CHANGES_A") {
		t.Errorf("the changes since %d are %d providers (want 3), global %v (want true), traits with CUSTOM_CHANGES_A %v",
			rev0, len(got.States), got.Global, slices.Contains(got.Traits, "CUSTOM_CHANGES_A"))
	}

	rev1, _ := s.Revision(ctx)
	write(t, s, func(tx *store.Tx) error { return tx.DeleteProvider(ctx, b.ID) })
	got = check("a deleted provider", rev1)
	if !slices.Equal(got.Removed, []int64{b.ID}) || len(got.States) != 0 || got.Global || got.Classes != nil {
		t.Errorf("after deleting %d: removed %v, %d states, global %v, classes %v; want only the id, no state, no catalogs",
			b.ID, got.Removed, len(got.States), got.Global, got.Classes)
	}

	rev2, _ := s.Revision(ctx)
	got = check("nothing", rev2)
	if got.Revision != rev2 || len(got.States)+len(got.Removed) != 0 || got.Full {
		t.Errorf("nothing written since %d: %+v", rev2, got)
	}

	full, err := s.ChangesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var all []model.ProviderState
	read(t, s, func(tx *store.Tx) error {
		var err error
		all, err = tx.ProviderStates(ctx, nil)
		return err
	})
	if !full.Full || !full.Global || full.Revision != rev2 || !reflect.DeepEqual(full.States, all) || len(full.Classes) == 0 {
		t.Errorf("ChangesSince(0) = full %v, global %v, revision %d (want %d), %d states (want %d), %d classes",
			full.Full, full.Global, full.Revision, rev2, len(full.States), len(all), len(full.Classes))
	}
}
