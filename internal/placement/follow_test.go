package placement_test

import (
	"context"
	"testing"
	"time"

	"allot/internal/placement"
	"allot/internal/testserver"
)

// Two replicas on one PostgreSQL store: a write committed through one
// catches up its own index before it returns, and reaches the other's
// only when that one follows the store (or queries).
func TestFollowCatchesUpAnotherReplicasWrites(t *testing.T) {
	ctx := context.Background()
	a := testserver.OpenStore(t, "postgres")
	b := testserver.OpenDSN(t, a.DSN())
	writer := placement.New(a, placement.Options{Logger: testserver.Quiet})
	follower := placement.New(b, placement.Options{Logger: testserver.Quiet})
	for _, svc := range []*placement.Service{writer, follower} {
		if err := svc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	create := func(uuid, name string) int64 {
		t.Helper()
		if _, err := writer.CreateProvider(ctx, placement.NewProvider{UUID: uuid, Name: name}); err != nil {
			t.Fatal(err)
		}
		rev, err := a.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := writer.IndexRevision(); got != rev {
			t.Fatalf("the writer's index is at revision %d after its write committed %d", got, rev)
		}
		return rev
	}

	rev := create("11111111-0000-4000-8000-000000000001", "first")
	if got := follower.IndexRevision(); got >= rev {
		t.Fatalf("the other replica's index is at revision %d without following or querying; the write was %d", got, rev)
	}

	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		follower.Follow(fctx, 5*time.Millisecond)
		close(done)
	}()
	for _, c := range []struct{ uuid, name string }{
		{"11111111-0000-4000-8000-000000000002", "second"},
		{"11111111-0000-4000-8000-000000000003", "third"},
	} {
		rev = create(c.uuid, c.name)
		// Wait for the follower, which nothing else calls: it must get
		// there by itself (the deadline only stops a broken test).
		deadline := time.Now().Add(30 * time.Second)
		for follower.IndexRevision() < rev {
			if time.Now().After(deadline) {
				t.Fatalf("the follower's index stayed at revision %d; the store is at %d", follower.IndexRevision(), rev)
			}
			time.Sleep(time.Millisecond)
		}
		if got, want := follower.IndexedProviders(), writer.IndexedProviders(); got != want {
			t.Errorf("the follower indexes %d providers, the writer %d", got, want)
		}
	}
	stop()
	<-done // Follow returns when its context ends
}
