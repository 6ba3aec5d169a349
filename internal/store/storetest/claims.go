package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/store"
)

// Clock is a store clock (store.Options.Now) that stands still until a
// test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at the current time.
func NewClock() *Clock { return &Clock{now: time.Now().UTC().Truncate(time.Microsecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// errRollback makes a write roll back.
var errRollback = errors.New("roll back")

// reserveKey reserves key for requestHash and, when it was free, stores
// answer under it, in one write; it returns whether the key was free.
func reserveKey(t *testing.T, s *store.Store, key, requestHash, answer string) bool {
	t.Helper()
	var fresh bool
	write(t, s, func(tx *store.Tx) error {
		var err error
		if fresh, err = tx.ReserveClaimKey(context.Background(), key, requestHash); err != nil || !fresh {
			return err
		}
		return tx.SetClaimAnswer(context.Background(), key, []byte(answer))
	})
	return fresh
}

// claimKey reads key: its request hash and answer, or ok false.
func claimKey(t *testing.T, s *store.Store, key string) (ck store.ClaimKey, ok bool) {
	t.Helper()
	read(t, s, func(tx *store.Tx) error {
		var err error
		ck, ok, err = tx.ClaimKey(context.Background(), key)
		return err
	})
	return ck, ok
}

// testClaimKeys pins the idempotency keys of atomic claims: a key is
// reserved once, keeps the hash and answer of the claim that reserved it,
// vanishes with a rolled-back claim, expires after store.ClaimKeyRetention
// (and may then be reserved again), and of two claims racing for one key
// exactly one reserves it.
func testClaimKeys(t *testing.T, s *store.Store, clock *Clock) {
	ctx := context.Background()
	check := func(step, key string, wantOK bool, wantHash, wantAnswer string) {
		t.Helper()
		ck, ok := claimKey(t, s, key)
		if ok != wantOK || ck.RequestHash != wantHash || string(ck.Answer) != wantAnswer {
			t.Fatalf("%s: ClaimKey(%s) = %q %q %v, want %q %q %v", step, key, ck.RequestHash, ck.Answer, ok, wantHash, wantAnswer, wantOK)
		}
	}
	check("never reserved", "k1", false, "", "")

	const answer = `{"allocations": {"é": 1}}`
	if !reserveKey(t, s, "k1", "h1", answer) {
		t.Fatal("a new key was not reserved")
	}
	check("reserved", "k1", true, "h1", answer)
	if reserveKey(t, s, "k1", "h2", "other") {
		t.Fatal("a stored key was reserved again")
	}
	check("reserved twice", "k1", true, "h1", answer)

	// The claim's own transaction sees its reservation before the answer.
	write(t, s, func(tx *store.Tx) error {
		if ok, err := tx.ReserveClaimKey(ctx, "k2", "h2"); err != nil || !ok {
			return fmt.Errorf("reserve k2: %v %v", ok, err)
		}
		ck, ok, err := tx.ClaimKey(ctx, "k2")
		if err != nil || !ok || ck.RequestHash != "h2" || len(ck.Answer) != 0 {
			return fmt.Errorf("k2 in its own transaction: %+v %v %v", ck, ok, err)
		}
		return tx.SetClaimAnswer(ctx, "k2", []byte("a2"))
	})
	check("answered", "k2", true, "h2", "a2")

	// A claim that rolls back leaves its key free.
	err := s.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ReserveClaimKey(ctx, "k3", "h3"); err != nil {
			return err
		}
		if err := tx.SetClaimAnswer(ctx, "k3", []byte("a3")); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back claim: %v", err)
	}
	check("rolled back", "k3", false, "", "")

	// An answer for a key nobody reserved is not stored.
	write(t, s, func(tx *store.Tx) error { return tx.SetClaimAnswer(ctx, "k4", []byte("a4")) })
	check("answer without reservation", "k4", false, "", "")

	// Expiry: k1 and k2 were stored at t0, k5 half a retention later.
	clock.Advance(store.ClaimKeyRetention / 2)
	if !reserveKey(t, s, "k5", "h5", "a5") {
		t.Fatal("k5 was not reserved")
	}
	clock.Advance(store.ClaimKeyRetention / 2)
	check("exactly one retention old", "k1", true, "h1", answer)
	clock.Advance(time.Millisecond)
	check("older than the retention", "k1", false, "", "")
	check("older than the retention", "k2", false, "", "")
	check("younger than the retention", "k5", true, "h5", "a5")
	if !reserveKey(t, s, "k1", "h1b", "a1b") {
		t.Fatal("an expired key was not reserved again")
	}
	check("reserved again after expiry", "k1", true, "h1b", "a1b")
	check("pruned by the reservation", "k2", false, "", "")
	check("kept by the pruning", "k5", true, "h5", "a5")

	// Two claims racing for one key: exactly one reserves it, and the key
	// keeps that claim's hash and answer.
	var wg sync.WaitGroup
	won := make([]bool, 4)
	for i := range won {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx *store.Tx) error {
				var err error
				if won[i], err = tx.ReserveClaimKey(ctx, "race", fmt.Sprint("h", i)); err != nil || !won[i] {
					return err
				}
				return tx.SetClaimAnswer(ctx, "race", []byte(fmt.Sprint("a", i)))
			})
			if err != nil {
				t.Errorf("racing claim %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	winner := -1
	for i, w := range won {
		if w {
			if winner >= 0 {
				t.Fatalf("claims %d and %d both reserved one key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racing claim reserved the key")
	}
	check("race", "race", true, fmt.Sprint("h", winner), fmt.Sprint("a", winner))
}

// testAllocationFailures pins the failure records of bare-metal
// allocations: nothing until one is recorded, the document as given, a
// new record replacing the allocation's old one and leaving the others,
// nothing kept by a rolled-back write, and the records of deleted (or
// never created) allocations pruned by the next record.
func testAllocationFailures(t *testing.T, s *store.Store) {
	ctx := context.Background()
	newAlloc := func(name string) int64 {
		t.Helper()
		var id int64
		write(t, s, func(tx *store.Tx) error {
			var err error
			id, err = tx.CreateNodeAllocation(ctx, model.NodeAllocation{UUID: uuid.NewString(), Name: &name,
				State: model.AllocError, ResourceClass: "gold"})
			return err
		})
		return id
	}
	set := func(id int64, doc string) {
		t.Helper()
		write(t, s, func(tx *store.Tx) error { return tx.SetAllocationFailure(ctx, id, []byte(doc)) })
	}
	check := func(step string, id int64, wantOK bool, want string) {
		t.Helper()
		read(t, s, func(tx *store.Tx) error {
			got, ok, err := tx.AllocationFailure(ctx, id)
			if err != nil {
				return err
			}
			if ok != wantOK || string(got) != want {
				t.Fatalf("%s: AllocationFailure(%d) = %q %v, want %q %v", step, id, got, ok, want, wantOK)
			}
			return nil
		})
	}
	a1, a2 := newAlloc("a1"), newAlloc("a2")
	check("nothing recorded", a1, false, "")
	check("no such allocation", a1+a2+100, false, "")

	doc1 := `{"considered": 2, "nodes": [{"uuid": "n1", "reasons": ["no \"gold\" résource"]}]}`
	set(a1, doc1)
	check("recorded", a1, true, doc1)
	check("other allocation", a2, false, "")
	set(a1, `{"considered": 0}`)
	check("replaced", a1, true, `{"considered": 0}`)
	set(a2, `{"considered": 1}`)
	check("other allocation's record", a2, true, `{"considered": 1}`)
	check("kept beside another record", a1, true, `{"considered": 0}`)

	err := s.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetAllocationFailure(ctx, a2, []byte(`{"rolled": "back"}`)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back record: %v", err)
	}
	check("rolled back", a2, true, `{"considered": 1}`)

	// a1 is deleted, and a record names an allocation that never existed:
	// the next record prunes both.
	ghost := a1 + a2 + 100
	write(t, s, func(tx *store.Tx) error { return tx.DeleteNodeAllocation(ctx, a1) })
	set(ghost, `{"ghost": true}`)
	check("deleted allocation, pruned", a1, false, "")
	set(a2, `{"considered": 3}`)
	check("never-created allocation, pruned", ghost, false, "")
	check("recorded after pruning", a2, true, `{"considered": 3}`)
}

// testTryLockProviders pins TryLockProviders: alone it returns every
// provider asked for, once; a provider another transaction holds is
// passed over, without waiting, on a store whose writers run concurrently
// (PostgreSQL: FOR UPDATE SKIP LOCKED; it also leaves out providers that
// do not exist). SQLite runs one writer at a time, so nothing is ever held
// by another transaction there and every uuid asked for is returned (the
// caller's locking read finds out which exist).
func testTryLockProviders(t *testing.T, s *store.Store) {
	ctx := context.Background()
	x, y := newProvider(t, s, "x", nil), newProvider(t, s, "y", nil)
	missing := uuid.NewString()
	concurrent := s.Dialect() == "postgres"
	tryLockIn := func(ctx context.Context, uuids ...string) []string {
		t.Helper()
		var got []string
		if err := s.Write(ctx, func(tx *store.Tx) error {
			locked, err := tx.TryLockProviders(ctx, uuids)
			got = keys(locked)
			return err
		}); err != nil {
			t.Fatalf("TryLockProviders: %v", err)
		}
		return got
	}
	tryLock := func(uuids ...string) []string { t.Helper(); return tryLockIn(ctx, uuids...) }
	want := func(uuids ...string) []string { sort.Strings(uuids); return uuids }
	cases := []struct {
		name string
		ask  []string
		want []string
	}{
		{"nothing", nil, want()},
		{"both", []string{x.UUID, y.UUID}, want(x.UUID, y.UUID)},
		{"duplicates", []string{y.UUID, x.UUID, y.UUID, x.UUID}, want(x.UUID, y.UUID)},
		{"missing", []string{x.UUID, missing}, want(x.UUID, missing)},
	}
	if concurrent {
		cases[3].want = want(x.UUID)
	}
	// More than one chunk of the store's IN lists.
	many := []string{y.UUID}
	for range 1200 {
		many = append(many, uuid.NewString())
	}
	many = append(many, x.UUID)
	if concurrent {
		cases = append(cases, struct {
			name string
			ask  []string
			want []string
		}{"many, most missing", many, want(x.UUID, y.UUID)})
	} else {
		cases = append(cases, struct {
			name string
			ask  []string
			want []string
		}{"many, most missing", many, want(append([]string(nil), many...)...)})
	}
	for _, tc := range cases {
		if got := tryLock(tc.ask...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: TryLockProviders = %d uuids %.3v, want %d %.3v", tc.name, len(got), got, len(tc.want), tc.want)
		}
	}

	// Another transaction holds x.
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var releaseOnce sync.Once
	releaseHolder := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseHolder()
	var heldOnce sync.Once
	go func() {
		done <- s.Write(ctx, func(tx *store.Tx) error {
			defer heldOnce.Do(func() { close(held) })
			locked, err := tx.TryLockProviders(ctx, []string{x.UUID})
			if err != nil {
				return err
			}
			if !locked[x.UUID] {
				return fmt.Errorf("the holder did not lock %s: %v", x.UUID, locked)
			}
			heldOnce.Do(func() { close(held) })
			<-release
			return nil
		})
	}()
	<-held
	var got []string
	if concurrent {
		// Returns while x is held, without x. (Were it to wait, it would
		// wait for the holder, which waits for this answer: the deadline
		// turns that into a failure.)
		waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		got = tryLockIn(waitCtx, x.UUID, y.UUID)
		releaseHolder()
		if !slices.Equal(got, want(y.UUID)) {
			t.Errorf("with x held elsewhere: TryLockProviders = %v, want only y %s", got, y.UUID)
		}
	} else {
		// The second writer runs once the holder has committed.
		releaseHolder()
		got = tryLock(x.UUID, y.UUID)
		if !slices.Equal(got, want(x.UUID, y.UUID)) {
			t.Errorf("after the holder: TryLockProviders = %v, want x and y", got)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if got := tryLock(x.UUID, y.UUID); !slices.Equal(got, want(x.UUID, y.UUID)) {
		t.Errorf("after the holder committed: TryLockProviders = %v, want x and y", got)
	}
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
