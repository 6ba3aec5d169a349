package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/testpg"
)

// A reader older than the change feed keeps (the feed was pruned past its
// revision) gets every provider, on both stores: on PostgreSQL the
// one-round-trip catch-up sees the pruned feed and reads everything
// instead.
func TestChangesSinceOlderThanTheFeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t testing.TB) string
	}{
		{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "c.db") }},
		{"postgres", testpg.DSN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, tc.dsn(t), Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, name := range []string{"old-a", "old-b"} {
				if err := s.Write(ctx, func(tx *Tx) error {
					_, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: name})
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			rev, err := s.Revision(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// As pruneChanges leaves it after many writes: nothing at or
			// before rev is kept.
			if _, err := s.writer.ExecContext(ctx, `UPDATE meta SET oldest_change = $1 WHERE id = 1`, rev); err != nil {
				t.Fatal(err)
			}
			ch, err := s.ChangesSince(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !ch.Full || !ch.Global || len(ch.States) != 2 || ch.Revision != rev || len(ch.Traits) == 0 {
				t.Errorf("since 1 with the feed kept from %d: full %v, global %v, %d states (want 2), revision %d (want %d), %d traits",
					rev, ch.Full, ch.Global, len(ch.States), ch.Revision, rev, len(ch.Traits))
			}
		})
	}
}

// BenchmarkChangesSince measures a replica's catch-up after another's
// write on PostgreSQL: the changes of three providers read in one round
// trip (ChangesSince) against the same statements one by one (a read
// transaction: begin, revision, changed ids, providers, inventories,
// traits, aggregates, end).
func BenchmarkChangesSince(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, testpg.DSN(b), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	vcpu, _ := model.StandardResourceClassID("VCPU")
	var ids []int64
	if err := s.Write(ctx, func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			p, err := tx.CreateProvider(ctx, model.Provider{UUID: uuid.NewString(), Name: uuid.NewString()})
			if err != nil {
				return err
			}
			if err := tx.InsertInventory(ctx, p.ID, int64(vcpu), model.DefaultInventory("VCPU", 64)); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		read func(since int64) (Changes, error)
	}{
		{"one-round-trip", func(since int64) (Changes, error) { return s.ChangesSince(ctx, since) }},
		{"statement-by-statement", func(since int64) (ch Changes, err error) {
			err = s.Read(ctx, func(tx *Tx) error { ch, err = tx.changesSince(ctx, since); return err })
			return ch, err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				since, _ := s.Revision(ctx)
				for k := 0; k < 3; k++ {
					id := ids[(3*i+k)%len(ids)]
					if err := s.Write(ctx, func(tx *Tx) error {
						inv := model.DefaultInventory("VCPU", int64(64+i%7))
						_, err := tx.UpdateInventory(ctx, id, int64(vcpu), inv)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				ch, err := tc.read(since)
				if err != nil || len(ch.States) != 3 {
					b.Fatalf("%d states, %v", len(ch.States), err)
				}
			}
		})
	}
}

func TestMissingFrom(t *testing.T) {
	states := func(ids ...int64) []model.ProviderState {
		out := make([]model.ProviderState, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out
	}
	for _, tc := range []struct {
		ids    []int64
		states []model.ProviderState
		want   []int64
	}{
		{nil, nil, nil},
		{[]int64{1, 2, 3}, states(1, 2, 3), nil},
		{[]int64{1, 2, 3}, nil, []int64{1, 2, 3}},
		{[]int64{1, 2, 3, 7}, states(2, 7), []int64{1, 3}},
		{[]int64{5, 9}, states(5), []int64{9}},
	} {
		if got := missingFrom(tc.ids, tc.states); !slices.Equal(got, tc.want) {
			t.Errorf("missingFrom(%v, %d states) = %v, want %v", tc.ids, len(tc.states), got, tc.want)
		}
	}
}
