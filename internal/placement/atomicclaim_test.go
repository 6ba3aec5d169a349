package placement_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/query"
	"allot/internal/store"
	"allot/internal/testserver"
)

// Service tests of the atomic and gang claims (issue 16), on both stores.

// claimReq builds a claim of the given consumers for a candidates query.
func claimReq(t *testing.T, qs string, consumers ...string) placement.ClaimRequest {
	t.Helper()
	params, err := query.ParseParams(qs)
	if err != nil {
		t.Fatal(err)
	}
	q, err := query.ParseCandidates(params, model.V(1, 39))
	if err != nil {
		t.Fatal(err)
	}
	req := placement.ClaimRequest{Query: q, QueryString: qs}
	for _, c := range consumers {
		req.Consumers = append(req.Consumers, placement.ClaimConsumer{UUID: c, ProjectID: "p", UserID: "u"})
	}
	return req
}

// hostsOf returns the provider each claimed consumer got (one provider per
// candidate in these tests).
func hostsOf(t *testing.T, a placement.ClaimAnswer) []string {
	t.Helper()
	var out []string
	for _, c := range a.Claims {
		if len(c.Allocations) != 1 {
			t.Fatalf("consumer %s got %d providers, want 1: %v", c.ConsumerUUID, len(c.Allocations), c.Allocations)
		}
		for p := range c.Allocations {
			out = append(out, p)
		}
	}
	return out
}

func consumerN(i int) string { return fmt.Sprintf("cccccccc-0000-4000-8000-%012d", i) }

func TestAtomicClaim(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Run("single claim writes the first candidate", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
				c.provider("h2", "", model.DefaultInventory("VCPU", 8))
				out, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:3", consumerA))
				if err != nil {
					t.Fatal(err)
				}
				if got := hostsOf(t, out.Answer); got[0] != h1 {
					t.Errorf("claimed %v, want the first candidate %s", got, h1)
				}
				cl := out.Answer.Claims[0]
				if cl.ConsumerGeneration != 1 || cl.Allocations[h1].Resources["VCPU"] != 3 || cl.RootProviderUUIDs[0] != h1 {
					t.Errorf("answer %+v", cl)
				}
				if got := c.used(h1, "VCPU"); got != 3 {
					t.Errorf("usage %d, want 3", got)
				}
				held, gen := c.held(consumerA)
				if held[h1]["VCPU"] != 3 || gen != 1 {
					t.Errorf("held %v at generation %d", held, gen)
				}
			})
			t.Run("strategy passes to the search", func(t *testing.T) {
				c := newCloud(t, backend)
				c.provider("h1", "", model.DefaultInventory("VCPU", 8))
				c.provider("h2", "", model.DefaultInventory("VCPU", 8))
				for i, s := range []string{"", "default", "pack", "spread", "random"} {
					req := claimReq(t, "resources=VCPU:1", consumerN(i))
					req.Strategy = s
					if _, err := c.svc.Claim(c.ctx, req); err != nil {
						t.Errorf("strategy %q: %v", s, err)
					}
				}
				req := claimReq(t, "resources=VCPU:1", consumerB)
				req.Strategy = "fullest"
				if _, err := c.svc.Claim(c.ctx, req); !model.IsKind(err, model.KindBadRequest) {
					t.Errorf("unknown strategy: %v, want a 400", err)
				}
			})
			t.Run("a full candidate is skipped", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 4))
				h2 := c.provider("h2", "", model.DefaultInventory("VCPU", 4))
				// Fill h1 behind the engine's back: the search still
				// offers it first, the store refuses it.
				if err := c.write(claim(consumerB, h1, "VCPU", 4)); err != nil {
					t.Fatal(err)
				}
				out, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:2&limit=2", consumerA))
				if err != nil {
					t.Fatal(err)
				}
				if got := hostsOf(t, out.Answer); got[0] != h2 {
					t.Errorf("claimed %v, want %s", got, h2)
				}
				// Nothing left for 3: a 409 naming the query.
				_, err = c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:3", consumerN(9)))
				if e, ok := model.AsError(err); !ok || e.Kind != model.KindConflict || e.Code != placement.CodeClaimNoFit {
					t.Fatalf("claim with nothing left: %v, want a 409 %s", err, placement.CodeClaimNoFit)
				}
				if held, _ := c.held(consumerN(9)); len(held) != 0 {
					t.Errorf("a refused claim left %v", held)
				}
			})
			t.Run("consumer generation", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
				if _, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:1", consumerA)); err != nil {
					t.Fatal(err)
				}
				// null: the consumer must be new.
				_, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:2", consumerA))
				if e, ok := model.AsError(err); !ok || e.Code != model.CodeConcurrentUpdate {
					t.Fatalf("claim of an existing consumer with null: %v", err)
				}
				req := claimReq(t, "resources=VCPU:2", consumerA)
				gen := int64(1)
				req.Consumers[0].Generation = &gen
				out, err := c.svc.Claim(c.ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if out.Answer.Claims[0].ConsumerGeneration != 2 || c.used(h1, "VCPU") != 2 {
					t.Errorf("generation %d, usage %d: want the allocation replaced", out.Answer.Claims[0].ConsumerGeneration, c.used(h1, "VCPU"))
				}
			})
		})
	}
}

func TestGangClaim(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Run("distinct root", func(t *testing.T) {
				c := newCloud(t, backend)
				hosts := map[string]bool{}
				for i := range 3 {
					hosts[c.provider(fmt.Sprintf("h%d", i), "", model.DefaultInventory("VCPU", 8))] = true
				}
				req := claimReq(t, "resources=VCPU:2", consumerN(1), consumerN(2), consumerN(3))
				req.Distinct = placement.DistinctRule{Kind: placement.DistinctRoot}
				out, err := c.svc.Claim(c.ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]bool{}
				for _, h := range hostsOf(t, out.Answer) {
					got[h] = true
					if c.used(h, "VCPU") != 2 {
						t.Errorf("usage of %s: %d", h, c.used(h, "VCPU"))
					}
				}
				if len(got) != 3 {
					t.Errorf("3 consumers on %d trees: %v", len(got), out.Answer)
				}
			})
			t.Run("fewer trees than consumers claims nothing", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
				h2 := c.provider("h2", "", model.DefaultInventory("VCPU", 8))
				req := claimReq(t, "resources=VCPU:2", consumerN(1), consumerN(2), consumerN(3))
				req.Distinct = placement.DistinctRule{Kind: placement.DistinctRoot}
				_, err := c.svc.Claim(c.ctx, req)
				if e, ok := model.AsError(err); !ok || e.Kind != model.KindConflict || e.Code != placement.CodeClaimNoFit {
					t.Fatalf("gang of 3 on 2 trees: %v, want a 409", err)
				}
				for _, h := range []string{h1, h2} {
					if u := c.used(h, "VCPU"); u != 0 {
						t.Errorf("usage of %s after a refused gang: %d", h, u)
					}
				}
				for i := 1; i <= 3; i++ {
					if held, gen := c.held(consumerN(i)); len(held) != 0 || gen != -1 {
						t.Errorf("consumer %d left behind: %v %d", i, held, gen)
					}
				}
				// Without the rule, the three share the two trees.
				req.Distinct = placement.DistinctRule{}
				if _, err := c.svc.Claim(c.ctx, req); err != nil {
					t.Fatal(err)
				}
				if u := c.used(h1, "VCPU") + c.used(h2, "VCPU"); u != 6 {
					t.Errorf("usage %d, want 6", u)
				}
			})
			t.Run("summed capacity", func(t *testing.T) {
				c := newCloud(t, backend)
				h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 4))
				// Each fits alone; the two together do not.
				req := claimReq(t, "resources=VCPU:3", consumerN(1), consumerN(2))
				if _, err := c.svc.Claim(c.ctx, req); !model.IsKind(err, model.KindConflict) {
					t.Fatalf("two of 3 on 4: %v, want a 409", err)
				}
				if u := c.used(h1, "VCPU"); u != 0 {
					t.Errorf("usage %d after a refused gang", u)
				}
			})
			t.Run("distinct trait prefix and aggregate", func(t *testing.T) {
				c := newCloud(t, backend)
				for _, tr := range []string{"CUSTOM_RACK_A", "CUSTOM_RACK_B"} {
					if _, _, err := c.svc.EnsureTrait(c.ctx, tr); err != nil {
						t.Fatal(err)
					}
				}
				aggA, aggB := "aaaaaaaa-aaaa-4aaa-8aaa-00000000000a", "aaaaaaaa-aaaa-4aaa-8aaa-00000000000b"
				rack := map[string]string{}
				for i, r := range []string{"A", "A", "B", "B"} {
					h := c.provider(fmt.Sprintf("h%d", i), "", model.DefaultInventory("VCPU", 8))
					rack[h] = r
					if _, err := c.svc.SetProviderTraits(c.ctx, h, c.generation(h), []string{"CUSTOM_RACK_" + r}); err != nil {
						t.Fatal(err)
					}
					agg := map[string]string{"A": aggA, "B": aggB}[r]
					gen := c.generation(h)
					if _, err := c.svc.SetProviderAggregates(c.ctx, h, &gen, []string{agg}, nil); err != nil {
						t.Fatal(err)
					}
				}
				for i, rule := range []string{"trait_prefix:CUSTOM_RACK_", "aggregate"} {
					d, err := placement.ParseDistinct(rule)
					if err != nil {
						t.Fatal(err)
					}
					req := claimReq(t, "resources=VCPU:1", consumerN(10*i+1), consumerN(10*i+2))
					req.Distinct = d
					out, err := c.svc.Claim(c.ctx, req)
					if err != nil {
						t.Fatalf("%s: %v", rule, err)
					}
					hs := hostsOf(t, out.Answer)
					if rack[hs[0]] == rack[hs[1]] {
						t.Errorf("%s: both consumers in rack %s", rule, rack[hs[0]])
					}
					req = claimReq(t, "resources=VCPU:1", consumerN(10*i+5), consumerN(10*i+6), consumerN(10*i+7))
					req.Distinct = d
					if _, err := c.svc.Claim(c.ctx, req); !model.IsKind(err, model.KindConflict) {
						t.Errorf("%s: 3 consumers on 2 racks: %v, want a 409", rule, err)
					}
				}
			})
		})
	}
}

func TestParseDistinct(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want placement.DistinctRule
		bad  bool
	}{
		{in: "", want: placement.DistinctRule{}},
		{in: "root", want: placement.DistinctRule{Kind: placement.DistinctRoot}},
		{in: "aggregate", want: placement.DistinctRule{Kind: placement.DistinctAggregate}},
		{in: "trait_prefix:CUSTOM_RACK_", want: placement.DistinctRule{Kind: placement.DistinctTraitPrefix, TraitPrefix: "CUSTOM_RACK_"}},
		{in: "trait_prefix:", bad: true},
		{in: "rack", bad: true},
		{in: "Root", bad: true},
	} {
		got, err := placement.ParseDistinct(tc.in)
		if tc.bad {
			if !model.IsKind(err, model.KindBadRequest) {
				t.Errorf("%q: %v, want a 400", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.in {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}

func TestClaimIdempotency(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			c := newCloud(t, backend)
			h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
			req := claimReq(t, "resources=VCPU:2", consumerA)
			req.IdempotencyKey = "job-42"
			first, err := c.svc.Claim(c.ctx, req)
			if err != nil || first.Replayed {
				t.Fatalf("first claim: %+v %v", first, err)
			}
			again, err := c.svc.Claim(c.ctx, req)
			if err != nil || !again.Replayed {
				t.Fatalf("replay: %+v %v", again, err)
			}
			if fmt.Sprint(again.Answer) != fmt.Sprint(first.Answer) {
				t.Errorf("replay answered %+v, first %+v", again.Answer, first.Answer)
			}
			if u := c.used(h1, "VCPU"); u != 2 {
				t.Errorf("usage %d after a replay, want 2", u)
			}
			other := claimReq(t, "resources=VCPU:3", consumerA)
			other.IdempotencyKey = "job-42"
			_, err = c.svc.Claim(c.ctx, other)
			if e, ok := model.AsError(err); !ok || e.Kind != model.KindConflict || e.Code != placement.CodeClaimKeyReused {
				t.Fatalf("same key, other body: %v", err)
			}
			// A refused claim keeps no key: the same key can claim later.
			big := claimReq(t, "resources=VCPU:100", consumerB)
			big.IdempotencyKey = "job-43"
			if _, err := c.svc.Claim(c.ctx, big); !model.IsKind(err, model.KindConflict) {
				t.Fatalf("too big: %v", err)
			}
			small := claimReq(t, "resources=VCPU:1", consumerB)
			small.IdempotencyKey = "job-43"
			if out, err := c.svc.Claim(c.ctx, small); err != nil || out.Replayed {
				t.Fatalf("key of a refused claim reused: %+v %v", out, err)
			}
		})
	}
}

// TestConcurrentClaims: claims racing for the same hosts never
// over-allocate, and every acknowledged claim is in the usage.
func TestConcurrentClaims(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			c := newCloud(t, backend)
			var hosts []string
			for i := range 3 {
				hosts = append(hosts, c.provider(fmt.Sprintf("h%d", i), "", model.DefaultInventory("VCPU", 10)))
			}
			const workers, each = 6, 8 // 48 claims of 1 for 30 units
			var mu sync.Mutex
			ok, gangs := 0, 0
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						n := 1
						req := claimReq(t, "resources=VCPU:1", consumerN(100*w+i))
						req.Strategy = "pack"
						if i%4 == 3 { // some gangs of 2 on distinct trees
							req = claimReq(t, "resources=VCPU:1", consumerN(100*w+i), consumerN(100*w+50+i))
							req.Distinct = placement.DistinctRule{Kind: placement.DistinctRoot}
							n = 2
						}
						_, err := c.svc.Claim(c.ctx, req)
						if err != nil && !model.IsKind(err, model.KindConflict) {
							t.Errorf("claim: %v", err)
							return
						}
						if err == nil {
							mu.Lock()
							ok += n
							if n == 2 {
								gangs++
							}
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			total := int64(0)
			for _, h := range hosts {
				u := c.used(h, "VCPU")
				if u > 10 {
					t.Errorf("host %s over-allocated: %d of 10", h, u)
				}
				total += u
			}
			if total != int64(ok) {
				t.Errorf("usage %d, acknowledged claims %d", total, ok)
			}
			// What a refused gang left is still claimable by one.
			for ; total < 30; total++ {
				if _, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:1", consumerN(9000+int(total)))); err != nil {
					t.Fatalf("capacity remains (%d of 30 used) but: %v", total, err)
				}
			}
		})
	}
}

// TestClaimPassesOverBusyTrees: on PostgreSQL a claim takes the next
// candidate instead of waiting for a tree another transaction is writing;
// Tx.TryLockProviders leaves out what others hold.
func TestClaimPassesOverBusyTrees(t *testing.T) {
	c := newCloud(t, "postgres")
	h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
	h2 := c.provider("h2", "", model.DefaultInventory("VCPU", 8))
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- c.svc.Store().Write(c.ctx, func(tx *store.Tx) error {
			if _, err := tx.LockProviders(c.ctx, nil, []string{h1}); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	err := c.svc.Store().Write(c.ctx, func(tx *store.Tx) error {
		free, err := tx.TryLockProviders(c.ctx, []string{h1, h2, "no-such-provider"})
		if err == nil && (free[h1] || !free[h2] || len(free) != 1) {
			t.Errorf("TryLockProviders while h1 is held: %v", free)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:1", consumerA))
	if err != nil {
		t.Fatal(err)
	}
	if got := hostsOf(t, out.Answer); got[0] != h2 {
		t.Errorf("claimed %v while h1 was busy, want %s", got, h2)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Free again, h1 comes first.
	out, err = c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:1", consumerB))
	if err != nil {
		t.Fatal(err)
	}
	if got := hostsOf(t, out.Answer); got[0] != h1 {
		t.Errorf("claimed %v, want %s", got, h1)
	}
}

// TestClaimGroupCommit: single claims that meet in one transaction (on
// SQLite, claims queued while the writer is busy commit together) are each
// answered as if alone: a consumer generation conflict and a claim that no
// longer fits fail alone, the same idempotency key twice claims once and
// replays once, and the others commit, in fewer revisions than claims. On
// PostgreSQL the same claims race in transactions of their own.
func TestClaimGroupCommit(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			c := newCloud(t, backend)
			h1 := c.provider("h1", "", model.DefaultInventory("VCPU", 8))
			if _, err := c.svc.Claim(c.ctx, claimReq(t, "resources=VCPU:1", consumerA)); err != nil {
				t.Fatal(err)
			}
			stale := claimReq(t, "resources=VCPU:1", consumerA)
			gen := int64(99)
			stale.Consumers[0].Generation = &gen
			keyed := claimReq(t, "resources=VCPU:1", consumerB)
			keyed.IdempotencyKey = "group-1"
			reqs := []placement.ClaimRequest{stale, keyed, keyed}
			for i := range 4 { // 6 VCPU left for 4 claims of 2
				reqs = append(reqs, claimReq(t, "resources=VCPU:2", consumerN(i)))
			}
			// On SQLite, hold the writer until every claim is queued.
			held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			sqlite := backend == "sqlite"
			if sqlite {
				go func() {
					done <- c.svc.Store().Write(c.ctx, func(*store.Tx) error {
						close(held)
						<-release
						return nil
					})
				}()
				<-held
			}
			rev0, err := c.svc.Store().Revision(c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			outs := make([]placement.ClaimOutcome, len(reqs))
			errs := make([]error, len(reqs))
			var wg sync.WaitGroup
			for i, r := range reqs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					outs[i], errs[i] = c.svc.Claim(c.ctx, r)
				}()
			}
			if sqlite {
				// (A bound on the wait, so that claims that never queue
				// fail the test instead of hanging it.)
				for deadline := time.Now().Add(time.Minute); c.svc.PendingClaims() < len(reqs); runtime.Gosched() {
					if time.Now().After(deadline) {
						close(release)
						t.Fatalf("%d of %d claims queued for a group commit while the writer was busy", c.svc.PendingClaims(), len(reqs))
					}
				}
				close(release)
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			if e, ok := model.AsError(errs[0]); !ok || e.Code != model.CodeConcurrentUpdate {
				t.Errorf("stale consumer generation: %v", errs[0])
			}
			if errs[1] != nil || errs[2] != nil || outs[1].Replayed == outs[2].Replayed ||
				fmt.Sprint(outs[1].Answer) != fmt.Sprint(outs[2].Answer) {
				t.Errorf("one key twice: %+v %v, %+v %v", outs[1], errs[1], outs[2], errs[2])
			}
			fit := 0
			for i := 3; i < len(reqs); i++ {
				if errs[i] == nil {
					fit++
				} else if e, ok := model.AsError(errs[i]); !ok || e.Code != placement.CodeClaimNoFit {
					t.Errorf("claim %d: %v", i, errs[i])
				}
			}
			if fit != 3 {
				t.Errorf("%d claims of 2 fit in 6 free VCPU, want 3", fit)
			}
			if u := c.used(h1, "VCPU"); u != 8 {
				t.Errorf("usage %d, want 8 (1 + 1 + 3 x 2)", u)
			}
			rev, err := c.svc.Store().Revision(c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Four claims wrote: in at most two group commits on SQLite.
			if sqlite && rev-rev0 > 2 {
				t.Errorf("4 claims written in %d revisions: they did not commit together", rev-rev0)
			}
		})
	}
}
