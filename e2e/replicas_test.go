package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/testpg"
)

// startReplicas starts a throwaway PostgreSQL and n "allot serve"
// replicas on one database of it, together (migrations run once, under
// the advisory lock). It skips in -short mode and with
// ALLOT_SKIP_POSTGRES=1.
func startReplicas(t *testing.T, n int) (cluster *testpg.Cluster, dsn string, replicas []*replica) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-replica scenario skipped in -short mode")
	}
	if os.Getenv("ALLOT_SKIP_POSTGRES") == "1" {
		t.Skip("SKIPPING the multi-replica PostgreSQL scenario: ALLOT_SKIP_POSTGRES=1")
	}
	cluster, err := testpg.StartCluster()
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(cluster.Stop)
	dsn, err = cluster.CreateDatabase("allot")
	if err != nil {
		t.Fatal(err)
	}
	bin := buildAllot(t)
	for i := range n {
		replicas = append(replicas, newReplica(t, bin, dsn, i))
	}
	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); r.start(t) }()
	}
	wg.Wait()
	return cluster, dsn, replicas
}

// TestReplicas runs one PostgreSQL and three "allot serve" processes and
// drives claims and bare-metal allocations through all three at once. In
// the middle of the load one replica is killed with SIGKILL and later
// PostgreSQL is restarted. Afterwards: no provider is over capacity, usage
// is exactly the acknowledged claims, every node is held by at most one
// allocation, no allocation is stuck allocating (the dead replica's are
// finished by the others), the replicas recovered from the database restart
// by themselves, and a write on any replica is seen by the next candidates
// query on every other.
func TestReplicas(t *testing.T) {
	cluster, dsn, replicas := startReplicas(t, 3)

	w := newWorld(t, replicas)
	w.setup(30, 20, 40)

	ctx, stopLoad := context.WithCancel(context.Background())
	var load sync.WaitGroup
	for i := range 9 { // three claim workers per replica
		load.Add(1)
		go func() { defer load.Done(); w.claimLoop(ctx, replicas[i%3]) }()
	}
	for i := range 3 { // one bare-metal client per replica
		load.Add(1)
		go func() { defer load.Done(); w.allocationLoop(ctx, replicas[i]) }()
	}

	time.Sleep(4 * time.Second)
	// A burst of allocations through replica 2, then SIGKILL: whatever its
	// workers held must be finished by the others once the lease expires.
	victim := replicas[2]
	var burst []string
	for range 15 {
		if id, ok := w.postAllocation(victim); ok {
			burst = append(burst, id)
		}
	}
	victim.kill(t)
	held := w.leasedBy(dsn, victim.cmd.Process.Pid)
	t.Logf("killed replica 2 (pid %d) after a burst of %d allocations through it; %d were leased by its workers", victim.cmd.Process.Pid, len(burst), held)

	time.Sleep(3 * time.Second)
	if err := cluster.Restart(2 * time.Second); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	t.Log("PostgreSQL restarted")
	for _, r := range replicas[:2] {
		r.waitHealthy(t, 30*time.Second)
	}
	time.Sleep(4 * time.Second) // load continues after recovery
	stopLoad()
	load.Wait()

	w.waitNoAllocating(60 * time.Second)
	for _, id := range burst {
		if !w.allocs[id] {
			continue // given back by a client meanwhile (or maybe, when the delete was cut)
		}
		if a := w.getAllocation(replicas[0], id); a["state"] != "active" && a["state"] != "error" {
			t.Errorf("allocation %s made through the killed replica ended %v", id, a["state"])
		}
	}
	w.checkClaims(replicas[0])
	w.checkNodes(replicas[0])
	w.checkFreshness(replicas[:2])
	w.report()
}

// replica is one "allot serve" process.
type replica struct {
	index            int
	bin, dsn, logf   string
	placement, bmURL string
	cmd              *exec.Cmd
}

func newReplica(t *testing.T, bin, dsn string, i int) *replica {
	return &replica{index: i, bin: bin, dsn: dsn, logf: filepath.Join(t.TempDir(), fmt.Sprintf("replica%d.log", i)),
		placement: "http://" + freeAddr(t), bmURL: "http://" + freeAddr(t)}
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	logFile, err := os.Create(r.logf)
	if err != nil {
		t.Error(err)
		return
	}
	r.cmd = exec.Command(r.bin, "serve", "--db", r.dsn, "--db-max-conns", "10",
		"--placement-listen", strings.TrimPrefix(r.placement, "http://"),
		"--baremetal-listen", strings.TrimPrefix(r.bmURL, "http://"),
		"--allocation-lease", "3s", "--log-level", "warn", "--admin-listen", "127.0.0.1:0")
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Errorf("start replica %d: %v", r.index, err)
		return
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		if t.Failed() {
			text, _ := os.ReadFile(r.logf)
			t.Logf("replica %d log (tail):\n%s", r.index, tail(string(text), 3000))
		}
	})
	r.waitHealthy(t, 30*time.Second)
}

func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
}

// waitHealthy waits until the replica answers a store-backed request.
func (r *replica) waitHealthy(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, _, err := call("GET", r.placement+"/resource_providers?name=none", "1.39", nil)
		if err == nil && st == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d not serving after %s: %d %v", r.index, within, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func buildAllot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "allot")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/allot")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

var httpClient = &http.Client{Timeout: 20 * time.Second}

// call sends one request (Placement microversion, or Ironic's when the
// version starts with "bm:") and returns the status and decoded body.
func call(method, url, version string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if v, ok := strings.CutPrefix(version, "bm:"); ok {
		req.Header.Set("X-OpenStack-Ironic-API-Version", v)
	} else {
		req.Header.Set("OpenStack-API-Version", "placement "+version)
		req.Header.Set("X-Auth-Token", "admin")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	if doc == nil {
		doc = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, doc, nil
}

type claim struct {
	rp     string
	amount int64
}

// world is the client-side record of the scenario: what was acknowledged.
type world struct {
	t         *testing.T
	replicas  []*replica
	providers []string
	capacity  int64

	mu       sync.Mutex
	acked    map[string]claim // consumer -> claim acknowledged (204) and not released
	released map[string]bool  // consumers whose release was acknowledged
	unsure   map[string]claim // consumers whose write outcome is unknown (error without an answer)
	allocs   map[string]bool  // bare-metal allocations acknowledged (201) and not deleted
	deleted  map[string]bool  // bare-metal allocations whose delete was acknowledged
	counts   map[string]int   // outcome counts for the report
}

func newWorld(t *testing.T, replicas []*replica) *world {
	return &world{t: t, replicas: replicas, acked: map[string]claim{}, released: map[string]bool{}, unsure: map[string]claim{},
		allocs: map[string]bool{}, deleted: map[string]bool{}, counts: map[string]int{}}
}

func (w *world) count(kind string) {
	w.mu.Lock()
	w.counts[kind]++
	w.mu.Unlock()
}

// outcome classifies an answer for the counts and fails on anything a
// client should never see: a 5xx other than 503, or a 503 without a clear
// message.
func (w *world) outcome(what string, status int, doc map[string]any, err error) {
	switch {
	case err != nil:
		w.count(what + ": no answer")
	case status == 503:
		w.count(what + ": 503")
		if !strings.Contains(fmt.Sprint(doc), "unavailable") {
			w.t.Errorf("%s: 503 without a clear message: %v", what, doc)
		}
	case status >= 500:
		w.t.Errorf("%s: %d %v", what, status, doc)
	default:
		w.count(fmt.Sprintf("%s: %d", what, status))
	}
}

// setup creates providers with VCPU and available bare-metal nodes.
func (w *world) setup(providers int, vcpus int64, nodes int) {
	r := w.replicas[0]
	w.capacity = vcpus
	for i := range providers {
		id := uuid.NewString()
		st, doc, err := call("POST", r.placement+"/resource_providers", "1.39", map[string]any{"name": fmt.Sprintf("cn-%02d", i), "uuid": id})
		if err != nil || st != 200 {
			w.t.Fatalf("create provider: %d %v %v", st, doc, err)
		}
		st, doc, err = call("PUT", r.placement+"/resource_providers/"+id+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": vcpus}}})
		if err != nil || st != 200 {
			w.t.Fatalf("set inventory: %d %v %v", st, doc, err)
		}
		w.providers = append(w.providers, id)
	}
	for i := range nodes {
		st, doc, err := call("POST", r.bmURL+"/v1/nodes", "bm:1.79", map[string]any{"driver": "fake-hardware", "name": fmt.Sprintf("bm-%02d", i), "resource_class": "rc-bm"})
		if err != nil || st != 201 {
			w.t.Fatalf("create node: %d %v %v", st, doc, err)
		}
		id := doc["uuid"].(string)
		for _, step := range []struct{ path, target string }{{"provision", "manage"}, {"provision", "provide"}, {"power", "power on"}} {
			if st, doc, err := call("PUT", r.bmURL+"/v1/nodes/"+id+"/states/"+step.path, "bm:1.79", map[string]any{"target": step.target}); err != nil || st != 202 {
				w.t.Fatalf("%s node: %d %v %v", step.target, st, doc, err)
			}
		}
	}
}

// claimLoop is one scheduler: query candidates on its replica, claim one
// for a new consumer; now and then release an acknowledged claim.
func (w *world) claimLoop(ctx context.Context, r *replica) {
	for ctx.Err() == nil {
		if rand.IntN(10) < 3 {
			w.releaseOne(r)
			continue
		}
		amount := int64(1 + rand.IntN(2))
		st, doc, err := call("GET", fmt.Sprintf("%s/allocation_candidates?resources=VCPU:%d&limit=5", r.placement, amount), "1.39", nil)
		w.outcome("candidates", st, doc, err)
		if err != nil || st != 200 {
			pause(r)
			continue
		}
		reqs, _ := doc["allocation_requests"].([]any)
		if len(reqs) == 0 {
			continue
		}
		var rp string
		for id := range reqs[rand.IntN(len(reqs))].(map[string]any)["allocations"].(map[string]any) {
			rp = id
		}
		consumer := uuid.NewString()
		st, doc, err = call("PUT", r.placement+"/allocations/"+consumer, "1.28", map[string]any{
			"allocations": map[string]any{rp: map[string]any{"resources": map[string]any{"VCPU": amount}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil})
		w.outcome("claim", st, doc, err)
		w.mu.Lock()
		switch {
		case err == nil && st == 204:
			w.acked[consumer] = claim{rp, amount}
		case err != nil || st >= 500:
			w.unsure[consumer] = claim{rp, amount}
		}
		w.mu.Unlock()
	}
}

func (w *world) releaseOne(r *replica) {
	w.mu.Lock()
	var consumer string
	for c := range w.acked {
		consumer = c
		break
	}
	if consumer == "" {
		w.mu.Unlock()
		return
	}
	c := w.acked[consumer]
	delete(w.acked, consumer) // in flight: neither acked nor released until answered
	w.mu.Unlock()
	st, doc, err := call("DELETE", r.placement+"/allocations/"+consumer, "1.28", nil)
	w.outcome("release", st, doc, err)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil && st == 204:
		w.released[consumer] = true
	case err == nil && st < 500:
		w.t.Errorf("release of acknowledged claim %s: %d %v", consumer, st, doc)
	default:
		w.unsure[consumer] = c
	}
	if err != nil || st >= 500 {
		pause(r)
	}
}

// allocationLoop is a bare-metal client: ask for a node, now and then
// give one back.
func (w *world) allocationLoop(ctx context.Context, r *replica) {
	for ctx.Err() == nil {
		if rand.IntN(3) == 0 {
			w.deleteOneAllocation(r)
		} else if _, ok := w.postAllocation(r); !ok {
			pause(r)
		}
		time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
	}
}

func (w *world) postAllocation(r *replica) (string, bool) {
	st, doc, err := call("POST", r.bmURL+"/v1/allocations", "bm:1.79", map[string]any{"resource_class": "rc-bm"})
	w.outcome("allocation", st, doc, err)
	if err != nil || st != 201 {
		return "", false
	}
	id := doc["uuid"].(string)
	w.mu.Lock()
	w.allocs[id] = true
	w.mu.Unlock()
	return id, true
}

func (w *world) deleteOneAllocation(r *replica) {
	st, doc, err := call("GET", r.bmURL+"/v1/allocations?state=active&limit=20&fields=uuid", "bm:1.79", nil)
	if err != nil || st != 200 {
		w.outcome("list allocations", st, doc, err)
		return
	}
	list, _ := doc["allocations"].([]any)
	if len(list) == 0 {
		return
	}
	id := list[rand.IntN(len(list))].(map[string]any)["uuid"].(string)
	st, doc, err = call("DELETE", r.bmURL+"/v1/allocations/"+id, "bm:1.79", nil)
	w.outcome("delete allocation", st, doc, err)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil && st == 204:
		delete(w.allocs, id)
		w.deleted[id] = true
	case err != nil || st >= 500:
		delete(w.allocs, id) // cut by the outage: it may or may not be gone
	}
}

// pause backs off a little after a failed request (a dead replica or
// database), as a real client would.
func pause(*replica) { time.Sleep(50 * time.Millisecond) }

// leasedBy counts allocations leased by workers of the process pid.
func (w *world) leasedBy(dsn string, pid int) int {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM node_allocations WHERE state = 'allocating' AND worker LIKE $1`,
		fmt.Sprintf("%%:%d:%%", pid)).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) getAllocation(r *replica, id string) map[string]any {
	st, doc, err := call("GET", r.bmURL+"/v1/allocations/"+id, "bm:1.79", nil)
	if err != nil || st != 200 {
		w.t.Fatalf("GET allocation %s: %d %v %v", id, st, doc, err)
	}
	return doc
}

func (w *world) waitNoAllocating(within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		st, doc, err := call("GET", w.replicas[0].bmURL+"/v1/allocations?state=allocating&fields=uuid", "bm:1.79", nil)
		if err == nil && st == 200 && len(doc["allocations"].([]any)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("allocations still allocating after %s: %d %v %v", within, st, doc, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkClaims: usage is exactly the acknowledged claims (plus those whose
// outcome the client could not know and which the store has), and no
// provider is over capacity.
func (w *world) checkClaims(r *replica) {
	expected := map[string]int64{}
	for c, cl := range w.acked {
		st, doc, err := call("GET", r.placement+"/allocations/"+c, "1.28", nil)
		if err != nil || st != 200 {
			w.t.Fatalf("GET allocations of %s: %d %v", c, st, err)
		}
		got, _ := doc["allocations"].(map[string]any)[cl.rp].(map[string]any)
		if got == nil || fmt.Sprint(got["resources"]) != fmt.Sprintf("map[VCPU:%d]", cl.amount) {
			w.t.Errorf("acknowledged claim of %s lost: %v", c, doc)
		}
		expected[cl.rp] += cl.amount
	}
	for c := range w.released {
		if _, doc, _ := call("GET", r.placement+"/allocations/"+c, "1.28", nil); len(doc["allocations"].(map[string]any)) != 0 {
			w.t.Errorf("acknowledged release of %s lost: %v", c, doc)
		}
	}
	kept := 0
	for c, cl := range w.unsure {
		_, doc, _ := call("GET", r.placement+"/allocations/"+c, "1.28", nil)
		if len(doc["allocations"].(map[string]any)) != 0 {
			expected[cl.rp] += cl.amount
			kept++
		}
	}
	w.t.Logf("claims: %d acknowledged and held, %d released, %d of unknown outcome (%d of them committed)", len(w.acked), len(w.released), len(w.unsure), kept)
	checkUsages(w.t, r.placement, w.providers, w.capacity, expected, "acknowledged claims")
}

// checkNodes: every allocation ended, each node is held by at most one,
// node and allocation agree, and Placement counts exactly the active ones.
func (w *world) checkNodes(r *replica) {
	_, doc, err := call("GET", r.bmURL+"/v1/allocations?limit=100000", "bm:1.79", nil)
	if err != nil {
		w.t.Fatal(err)
	}
	byNode := map[string]string{}
	active := 0
	states := map[string]int{}
	present := map[string]bool{}
	for _, a := range doc["allocations"].([]any) {
		a := a.(map[string]any)
		id := a["uuid"].(string)
		present[id] = true
		states[fmt.Sprint(a["state"])]++
		switch a["state"] {
		case "active":
			active++
			node := a["node_uuid"].(string)
			if other, dup := byNode[node]; dup {
				w.t.Errorf("node %s held by allocations %s and %s", node, other, id)
			}
			byNode[node] = id
		case "error":
		default:
			w.t.Errorf("allocation %s stuck in %v", id, a["state"])
		}
		if w.deleted[id] {
			w.t.Errorf("deleted allocation %s is back", id)
		}
	}
	for id := range w.allocs {
		if !present[id] {
			w.t.Errorf("acknowledged allocation %s lost", id)
		}
	}
	_, doc, _ = call("GET", r.bmURL+"/v1/nodes?fields=uuid,allocation_uuid&limit=100000", "bm:1.79", nil)
	for _, n := range doc["nodes"].([]any) {
		n := n.(map[string]any)
		if a, ok := n["allocation_uuid"].(string); ok && byNode[n["uuid"].(string)] != a {
			w.t.Errorf("node %s says allocation %s, allocations say %q", n["uuid"], a, byNode[n["uuid"].(string)])
		}
	}
	_, doc, _ = call("GET", r.placement+"/usages?project_id=allot-baremetal", "1.9", nil)
	if used, _ := doc["usages"].(map[string]any)["CUSTOM_RC_BM"].(float64); int(used) != active {
		w.t.Errorf("placement counts %v bare-metal units in use, %d allocations are active", used, active)
	}
	w.t.Logf("bare-metal allocations by final state: %v (nodes: 40)", states)
}

// checkFreshness: a write acknowledged by one replica is seen by the very
// next candidates query on every other one.
func (w *world) checkFreshness(live []*replica) {
	for i, a := range live {
		for j, b := range live {
			if i == j {
				continue
			}
			class := fmt.Sprintf("CUSTOM_FRESH_%d_%d", i, j)
			id := uuid.NewString()
			if st, doc, err := call("PUT", a.placement+"/resource_classes/"+class, "1.39", nil); err != nil || st/100 != 2 {
				w.t.Fatalf("create class: %d %v %v", st, doc, err)
			}
			if st, doc, err := call("POST", a.placement+"/resource_providers", "1.39", map[string]any{"name": "fresh-" + id, "uuid": id}); err != nil || st != 200 {
				w.t.Fatalf("create provider: %d %v %v", st, doc, err)
			}
			if st, doc, err := call("PUT", a.placement+"/resource_providers/"+id+"/inventories", "1.39", map[string]any{
				"resource_provider_generation": 0, "inventories": map[string]any{class: map[string]any{"total": 1}}}); err != nil || st != 200 {
				w.t.Fatalf("inventory: %d %v %v", st, doc, err)
			}
			q := "/allocation_candidates?resources=" + class + ":1"
			if _, doc, _ := call("GET", b.placement+q, "1.39", nil); len(doc["allocation_requests"].([]any)) != 1 {
				w.t.Errorf("replica %d does not see the provider replica %d just created: %v", j, i, doc)
			}
			consumer := uuid.NewString()
			if st, doc, err := call("PUT", a.placement+"/allocations/"+consumer, "1.28", map[string]any{
				"allocations": map[string]any{id: map[string]any{"resources": map[string]any{class: 1}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil}); err != nil || st != 204 {
				w.t.Fatalf("claim: %d %v %v", st, doc, err)
			}
			if _, doc, _ := call("GET", b.placement+q, "1.39", nil); len(doc["allocation_requests"].([]any)) != 0 {
				w.t.Errorf("replica %d still offers the unit replica %d just claimed: %v", j, i, doc)
			}
		}
	}
}

func (w *world) report() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("outcomes: %v", w.counts)
	var unavailable int
	for k, n := range w.counts {
		if strings.HasSuffix(k, ": 503") {
			unavailable += n
		}
	}
	if unavailable == 0 {
		w.t.Error("no request saw a 503 while PostgreSQL was restarting")
	}
}

// checkUsages checks the replicas' invariants on each provider: its VCPU
// usage is within capacity and equals expected, what the acknowledged
// writes (named by what, for messages) hold there.
func checkUsages(t *testing.T, placement string, providers []string, capacity int64, expected map[string]int64, what string) {
	t.Helper()
	for _, rp := range providers {
		_, doc, err := call("GET", placement+"/resource_providers/"+rp+"/usages", "1.39", nil)
		if err != nil {
			t.Fatal(err)
		}
		used, _ := doc["usages"].(map[string]any)["VCPU"].(float64)
		if int64(used) > capacity {
			t.Errorf("provider %s over capacity: %v > %d", rp, used, capacity)
		}
		if int64(used) != expected[rp] {
			t.Errorf("provider %s: usage %v, %s hold %d", rp, used, what, expected[rp])
		}
	}
}
