package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// testAfterCommit: the functions registered with AfterCommit run once per
// committed write that recorded a change, with its revision, after the
// commit (a read from them sees the write: no transaction or connection
// of the writer is held), and never for a write that changed nothing or
// rolled back; unregistered, they no longer run.
func testAfterCommit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	type seen struct {
		rev     int64
		visible bool // the write's provider, read from the hook
	}
	var got []seen
	var order []string
	var wantUUID string
	unregister := s.AfterCommit(func(ctx context.Context, rev int64) {
		if ctx.Err() != nil {
			t.Errorf("the hook's context is done: %v", ctx.Err())
		}
		order = append(order, "first")
		var visible bool
		if err := s.Read(ctx, func(tx *store.Tx) error {
			var err error
			_, visible, err = tx.ProviderByUUID(ctx, wantUUID, false)
			return err
		}); err != nil {
			t.Errorf("reading from the hook: %v", err)
		}
		got = append(got, seen{rev, visible})
	})
	unregisterSecond := s.AfterCommit(func(context.Context, int64) { order = append(order, "second") })

	wantUUID = uuid.NewString()
	write(t, s, func(tx *store.Tx) error {
		_, err := tx.CreateProvider(ctx, model.Provider{UUID: wantUUID, Name: "hooked-2"})
		return err
	})
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].rev != rev || !got[0].visible {
		t.Errorf("after a committed write at revision %d, the hook saw %+v (want that revision, the write visible)", rev, got)
	}
	if want := []string{"first", "second"}; !slices.Equal(order, want) {
		t.Errorf("hooks ran in order %v, want the registration order %v", order, want)
	}

	// A write that changed nothing, and one that rolled back.
	got = nil
	write(t, s, func(tx *store.Tx) error { _, err := tx.AllProviders(ctx); return err })
	err = s.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: "rolled-back-hook"}); err != nil {
			return err
		}
		return model.BadRequest("changed my mind")
	})
	if !model.IsKind(err, model.KindBadRequest) {
		t.Fatalf("the function's error must come back as is, got %v", err)
	}
	if len(got) != 0 {
		t.Errorf("a write without changes and a rolled-back one ran the hook: %+v", got)
	}

	// A global change runs it too.
	write(t, s, func(tx *store.Tx) error { _, _, err := tx.CreateTrait(ctx, "CUSTOM_HOOKED"); return err })
	if rev, _ = s.Revision(ctx); len(got) != 1 || got[0].rev != rev {
		t.Errorf("after a new trait at revision %d, the hook saw %+v", rev, got)
	}

	unregister()
	unregisterSecond()
	got, order = nil, nil
	newProvider(t, s, "unhooked", nil)
	if len(got) != 0 || len(order) != 0 {
		t.Errorf("unregistered hooks ran: %+v %v", got, order)
	}
}
