package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestReplicasGangClaims runs one PostgreSQL and three "allot serve"
// processes and sends gang claims (POST /allot/v1/claims, 2 to 4 consumers
// each, distinct root) through all three at once, against a cloud too small
// for all of them, while now and then giving acknowledged consumers back.
// In the middle of the load one replica is killed with SIGKILL; a client
// whose answer was lost sends the same claim (same idempotency key) to the
// next replica. Afterwards, through a surviving replica: no provider is
// over capacity, usage is exactly the acknowledged gangs (plus the gangs of
// unknown outcome the store has), every acknowledged gang holds all its
// consumers on distinct roots, a refused gang holds nothing, and a gang
// whose answer never came holds all its consumers or none (issue 16).
func TestReplicasGangClaims(t *testing.T) {
	_, _, replicas := startReplicas(t, 3)
	if t.Failed() {
		t.FailNow()
	}

	g := newGangWorld(t, replicas)
	g.setup(8, 2, 4) // 8 trees of 2 NUMA children with 4 VCPU each: 64 VCPU

	ctx, stopLoad := context.WithCancel(context.Background())
	var load sync.WaitGroup
	strategies := []string{"pack", "spread", "random"}
	for i := range 6 { // two gang schedulers per replica, one of which resends lost claims
		load.Add(1)
		go func() { defer load.Done(); g.gangLoop(ctx, i%3, strategies[i/2], i >= 3) }()
	}
	t.Cleanup(func() { stopLoad(); load.Wait() }) // before the replicas stop, also on a failure

	// Kill replica 2 once claims have gone through it, at a moment when
	// both its schedulers are waiting for an answer (or, if that moment
	// does not come soon, whenever).
	victim := replicas[2]
	g.waitAnswers(victim, 20, 30*time.Second)
	inFlight := g.waitInFlight(victim, 2, 5*time.Second)
	victim.kill(t)
	t.Logf("killed replica 2 (pid %d) with %d gang claims in flight on it", victim.cmd.Process.Pid, inFlight)
	// The load continues on the survivors until they have answered 40
	// more claims and capacity has run out at least once.
	more := g.answered(replicas[0]) + 40
	g.waitFor("40 more answers on replica 0 and a claim refused for want of capacity", 30*time.Second, func() bool {
		return g.answers[0] >= more && g.counts["claim: 409 allot.claim.no_fit"] > 0
	})
	stopLoad()
	load.Wait()

	g.check(replicas[0])
	g.report()
}

// gangState is what the client knows of a gang claim's outcome.
type gangState int

const (
	gangAcked   gangState = iota // answered 200
	gangRefused                  // answered 409 (or another 4xx)
	gangUnsure                   // no answer (not even to a resend, if any)
)

// gang is one gang claim as the client sent it and, when acknowledged, the
// allocations the answer names.
type gang struct {
	consumers []string
	amount    int64 // VCPU per consumer
	state     gangState
	lost      int               // attempts whose answer was lost
	code      string            // error code of a refusal
	rp        map[string]string // consumer -> provider the answer names (acked)
}

// gangWorld is the client-side record of the gang scenario.
type gangWorld struct {
	t        *testing.T
	replicas []*replica
	rootOf   map[string]string // provider -> its root
	children []string          // providers with inventory
	capacity int64             // VCPU per child

	mu       sync.Mutex
	gangs    []*gang
	held     map[string]*gang // consumer of an acked gang, not given back
	released map[string]bool  // consumers whose release was acknowledged
	unsure   map[string]bool  // consumers whose release outcome is unknown
	answers  map[int]int      // replica index -> claims it answered
	inFlight map[int]int      // replica index -> claims sent to it, not answered yet
	counts   map[string]int   // outcome counts for the report
}

func newGangWorld(t *testing.T, replicas []*replica) *gangWorld {
	return &gangWorld{t: t, replicas: replicas, rootOf: map[string]string{}, held: map[string]*gang{},
		released: map[string]bool{}, unsure: map[string]bool{}, answers: map[int]int{}, inFlight: map[int]int{}, counts: map[string]int{}}
}

// setup creates roots trees with children child providers each; only the
// children have inventory (VCPU), so a root is not a candidate by itself
// and distinct root is stricter than distinct provider.
func (g *gangWorld) setup(roots, children int, vcpus int64) {
	r := g.replicas[0]
	g.capacity = vcpus
	create := func(name, parent string) string {
		id := uuid.NewString()
		body := map[string]any{"name": name, "uuid": id}
		if parent != "" {
			body["parent_provider_uuid"] = parent
		}
		if st, doc, err := call("POST", r.placement+"/resource_providers", "1.39", body); err != nil || st != 200 {
			g.t.Fatalf("create provider %s: %d %v %v", name, st, doc, err)
		}
		return id
	}
	for i := range roots {
		root := create(fmt.Sprintf("gang-cn-%02d", i), "")
		g.rootOf[root] = root
		for j := range children {
			id := create(fmt.Sprintf("gang-cn-%02d-numa%d", i, j), root)
			st, doc, err := call("PUT", r.placement+"/resource_providers/"+id+"/inventories", "1.39", map[string]any{
				"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": vcpus}}})
			if err != nil || st != 200 {
				g.t.Fatalf("set inventory: %d %v %v", st, doc, err)
			}
			g.rootOf[id] = root
			g.children = append(g.children, id)
		}
	}
}

func (g *gangWorld) count(kind string) {
	g.mu.Lock()
	g.counts[kind]++
	g.mu.Unlock()
}

// answered is how many claims replica r has answered so far.
func (g *gangWorld) answered(r *replica) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.answers[r.index]
}

// waitAnswers waits until replica r has answered n claims.
func (g *gangWorld) waitAnswers(r *replica, n int, within time.Duration) {
	g.waitFor(fmt.Sprintf("%d answers on replica %d", n, r.index), within, func() bool { return g.answers[r.index] >= n })
}

// waitFor polls cond (called with g.mu held) until it holds, and fails the
// test when it does not within the given time.
func (g *gangWorld) waitFor(what string, within time.Duration, cond func() bool) {
	deadline := time.Now().Add(within)
	for {
		g.mu.Lock()
		ok := cond()
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.t.Fatalf("no %s within %s: outcomes %v, answers per replica %v", what, within, g.counts, g.answers)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitInFlight waits until n claims are in flight on replica r, at most
// within; it returns how many are.
func (g *gangWorld) waitInFlight(r *replica, n int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		g.mu.Lock()
		got := g.inFlight[r.index]
		g.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

// gangLoop is one gang scheduler, starting on replica start and moving to
// the next replica when one does not answer: mostly gang claims, now and
// then the release of an acknowledged consumer. With resend, a claim whose
// answer was lost is sent again with the same idempotency key to the next
// replica; without, it is left of unknown outcome.
func (g *gangWorld) gangLoop(ctx context.Context, start int, strategy string, resend bool) {
	at := start
	for ctx.Err() == nil {
		if rand.IntN(4) == 0 {
			if !g.releaseOne(g.replicas[at]) {
				at = (at + 1) % len(g.replicas)
			}
			continue
		}
		gg := &gang{amount: int64(1 + rand.IntN(2))}
		var consumers []map[string]any
		for range 2 + rand.IntN(3) {
			c := uuid.NewString()
			gg.consumers = append(gg.consumers, c)
			consumers = append(consumers, map[string]any{"uuid": c, "project_id": "p", "user_id": "u"})
		}
		body := map[string]any{"consumers": consumers, "query": fmt.Sprintf("resources=VCPU:%d", gg.amount),
			"strategy": strategy, "distinct": "root", "idempotency_key": uuid.NewString()}
		// A lost answer is sent again, same key, to the next replica (at
		// most once around the replicas, as a client with a deadline).
		gg.state = gangUnsure
		for try := 0; try < len(g.replicas) && ctx.Err() == nil; try++ {
			r := g.replicas[at]
			g.mu.Lock()
			g.inFlight[r.index]++
			g.mu.Unlock()
			st, doc, err := call("POST", r.placement+"/allot/v1/claims", "1.39", body)
			g.outcome(r, st, doc, err)
			if err != nil || st >= 500 {
				gg.lost++
				at = (at + 1) % len(g.replicas)
				pause(r)
				if !resend {
					break
				}
				continue
			}
			if st == 200 {
				gg.state = gangAcked
				gg.rp = g.answerProviders(gg, doc)
			} else {
				gg.state, gg.code = gangRefused, errorCode(doc)
			}
			break
		}
		g.mu.Lock()
		g.gangs = append(g.gangs, gg)
		if gg.state == gangAcked {
			for _, c := range gg.consumers {
				g.held[c] = gg
			}
		}
		g.mu.Unlock()
	}
}

// outcome counts an answer to a claim and fails on anything a client
// should never see: a 5xx other than a 503.
func (g *gangWorld) outcome(r *replica, status int, doc map[string]any, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight[r.index]--
	switch {
	case err != nil:
		g.counts["claim: no answer"]++
		return
	case status >= 500 && status != 503:
		g.t.Errorf("gang claim on replica %d: %d %v", r.index, status, doc)
	case status == 409:
		g.counts["claim: 409 "+errorCode(doc)]++
	default:
		g.counts[fmt.Sprintf("claim: %d", status)]++
	}
	g.answers[r.index]++
}

// errorCode is the code of a Placement error document.
func errorCode(doc map[string]any) string {
	if errs, _ := doc["errors"].([]any); len(errs) > 0 {
		if e, ok := errs[0].(map[string]any); ok {
			return fmt.Sprint(e["code"])
		}
	}
	return fmt.Sprint(doc)
}

// answerProviders checks a 200's answer: one claim per consumer, in
// request order, each of the gang's amount on one provider, no two in the
// same tree; and returns consumer -> provider.
func (g *gangWorld) answerProviders(gg *gang, doc map[string]any) map[string]string {
	out := map[string]string{}
	claims, _ := doc["claims"].([]any)
	if len(claims) != len(gg.consumers) {
		g.t.Errorf("gang of %d acknowledged with %d claims: %v", len(gg.consumers), len(claims), doc)
		return out
	}
	roots := map[string]string{}
	for i, c := range claims {
		c, _ := c.(map[string]any)
		consumer := gg.consumers[i]
		if c["consumer_uuid"] != consumer {
			g.t.Errorf("claim %d of a gang is for %v, want %s", i, c["consumer_uuid"], consumer)
		}
		allocs, _ := c["allocations"].(map[string]any)
		if len(allocs) != 1 {
			g.t.Errorf("consumer %s acknowledged with allocations %v, want one provider", consumer, allocs)
			continue
		}
		for rp, a := range allocs {
			if got := fmt.Sprint(a.(map[string]any)["resources"]); got != fmt.Sprintf("map[VCPU:%d]", gg.amount) {
				g.t.Errorf("consumer %s acknowledged with %s on %s, want VCPU:%d", consumer, got, rp, gg.amount)
			}
			root := g.rootOf[rp]
			if other, dup := roots[root]; dup {
				g.t.Errorf("acknowledged gang puts %s and %s in the same tree %s (distinct root)", other, consumer, root)
			}
			roots[root] = consumer
			out[consumer] = rp
		}
	}
	return out
}

// releaseOne gives back one consumer of an acknowledged gang; false when
// the replica did not answer.
func (g *gangWorld) releaseOne(r *replica) bool {
	g.mu.Lock()
	var consumer string
	for c := range g.held {
		consumer = c
		break
	}
	if consumer == "" {
		g.mu.Unlock()
		return true
	}
	delete(g.held, consumer) // in flight: neither held nor released until answered
	g.mu.Unlock()
	st, doc, err := call("DELETE", r.placement+"/allocations/"+consumer, "1.28", nil)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil && st == 204:
		g.counts["release: 204"]++
		g.released[consumer] = true
	case err == nil && st < 500:
		g.t.Errorf("release of acknowledged consumer %s: %d %v", consumer, st, doc)
	default:
		g.counts["release: no answer"]++
		g.unsure[consumer] = true
	}
	if err != nil || st >= 500 {
		pause(r)
		return false
	}
	return true
}

// stored is the provider holding consumer's allocations in the store ("" if
// none), checked to be the amount on one provider.
func (g *gangWorld) stored(r *replica, consumer string, amount int64) string {
	st, doc, err := call("GET", r.placement+"/allocations/"+consumer, "1.28", nil)
	if err != nil || st != 200 {
		g.t.Fatalf("GET allocations of %s: %d %v %v", consumer, st, doc, err)
	}
	allocs, _ := doc["allocations"].(map[string]any)
	if len(allocs) > 1 {
		g.t.Errorf("consumer %s holds allocations on %d providers: %v", consumer, len(allocs), allocs)
	}
	for rp, a := range allocs {
		if got := fmt.Sprint(a.(map[string]any)["resources"]); got != fmt.Sprintf("map[VCPU:%d]", amount) {
			g.t.Errorf("consumer %s holds %s on %s, want VCPU:%d", consumer, got, rp, amount)
		}
		return rp
	}
	return ""
}

// check compares the store, read through replica r, with what the clients
// were told.
func (g *gangWorld) check(r *replica) {
	expected := map[string]int64{}
	var acked, refused, lost, lostKept, resolved int
	for _, gg := range g.gangs {
		if gg.lost > 0 && gg.state != gangUnsure {
			resolved++
		}
		holding := map[string]string{} // consumer -> provider, in the store
		for _, c := range gg.consumers {
			if rp := g.stored(r, c, gg.amount); rp != "" {
				holding[c] = rp
				expected[rp] += gg.amount
			}
		}
		switch gg.state {
		case gangAcked:
			acked++
			for _, c := range gg.consumers {
				switch {
				case g.released[c]:
					if holding[c] != "" {
						g.t.Errorf("acknowledged release of %s lost: it holds %s", c, holding[c])
					}
				case g.unsure[c]:
					if holding[c] != "" && holding[c] != gg.rp[c] {
						g.t.Errorf("consumer %s holds %s, its claim was acknowledged on %s", c, holding[c], gg.rp[c])
					}
				case holding[c] != gg.rp[c]:
					g.t.Errorf("acknowledged consumer %s holds %q, its claim was acknowledged on %s", c, holding[c], gg.rp[c])
				}
			}
		case gangRefused:
			refused++
			if gg.code != "allot.claim.no_fit" {
				g.t.Errorf("gang of new consumers refused with %s, want allot.claim.no_fit", gg.code)
			}
			if len(holding) != 0 {
				g.t.Errorf("gang refused (%s) holds allocations for %d of its %d consumers: %v", gg.code, len(holding), len(gg.consumers), holding)
			}
		case gangUnsure:
			lost++
			if len(holding) != 0 {
				lostKept++
			}
			if len(holding) != 0 && len(holding) != len(gg.consumers) {
				g.t.Errorf("gang whose answer was lost holds allocations for %d of its %d consumers (all or nothing): %v", len(holding), len(gg.consumers), holding)
			}
		}
		roots := map[string]string{}
		for c, rp := range holding {
			if other, dup := roots[g.rootOf[rp]]; dup {
				g.t.Errorf("consumers %s and %s of one gang are in the same tree %s (distinct root)", other, c, g.rootOf[rp])
			}
			roots[g.rootOf[rp]] = c
		}
	}
	g.t.Logf("gangs: %d acknowledged, %d refused (%d of them after a lost answer and a resend), %d of unknown outcome (%d of them committed); consumers released: %d (%d of unknown outcome)",
		acked, refused, resolved, lost, lostKept, len(g.released), len(g.unsure))
	if acked == 0 || refused == 0 {
		g.t.Errorf("the scenario did not contend: %d gangs acknowledged, %d refused", acked, refused)
	}
	checkUsages(g.t, r.placement, g.children, g.capacity, expected, "the gangs' consumers")
	// Nothing else holds VCPU: usage in the project is the gangs' alone.
	var total int64
	for _, n := range expected {
		total += n
	}
	_, doc, _ := call("GET", r.placement+"/usages?project_id=p", "1.9", nil)
	if used, _ := doc["usages"].(map[string]any)["VCPU"].(float64); int64(used) != total {
		g.t.Errorf("project p uses %v VCPU, the gangs' consumers hold %d", used, total)
	}
}

func (g *gangWorld) report() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.t.Logf("outcomes: %v; claims answered per replica: %v", g.counts, g.answers)
}
