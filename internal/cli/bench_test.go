package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"allot/internal/auth"
	"allot/internal/cloudgen"
	"allot/internal/loadgen"
)

// allot bench candidates: usage errors exit 2 with a message; a run
// against a real server reports the answered queries.
func TestBenchCandidates(t *testing.T) {
	srv := startPlacement(t)
	seedCloud(t, srv.URL)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in stdout on success, stderr otherwise
	}{
		{"no query", []string{"bench", "candidates", "--placement-url", srv.URL}, ExitUsage, "--query: give at least one query string"},
		{"bad duration", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "resources=VCPU:1", "--duration", "0s"}, ExitUsage, "must be positive"},
		{"keep-alive", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "?resources=VCPU:1", "--duration", "200ms"}, ExitOK, "candidates (1 query, keep-alive), 1 workers over 1 endpoint(s)"},
		{"refused", []string{"bench", "candidates", "--placement-url", srv.URL, "--query", "resources=NOPE:1", "--duration", "100ms", "--new-connections"}, ExitOK, "errors 400"},
	} {
		r := runCLI(t, srv.URL, c.args...)
		out := r.stdout
		if c.code != ExitOK {
			out = r.stderr
		}
		if r.code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.name, r.code, r.stdout, r.stderr)
		}
	}
}

// allot bench claims: usage errors exit 2 with a message; two modes side
// by side, until the cloud is full, end with a table of both.
func TestBenchClaims(t *testing.T) {
	srv := startPlacement(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string // in stdout on success, stderr otherwise
	}{
		{"unknown mode", []string{"--mode", "fast"}, ExitUsage, []string{`mode "fast": use random, query or atomic`}},
		{"mode twice", []string{"--mode", "query", "--candidates"}, ExitUsage, []string{"query is named twice"}},
		{"random until full", []string{"--until-full"}, ExitUsage, []string{"--until-full needs the query or atomic mode"}},
		{"no pick", []string{"--mode", "query", "--pick", "0"}, ExitUsage, []string{"must be positive"}},
		{"negative retries", []string{"--retries", "-1"}, ExitUsage, []string{"--retries must not be negative"}},
		{"side by side", []string{"--mode", "query,atomic", "--rounds", "2", "--until-full", "--duration", "1m",
			"--providers", "3", "--total", "8", "--amount", "2", "--concurrency", "3", "--pick", "2"}, ExitOK, []string{
			"claims (query candidates, claim one of the first 2, at most 3 retries), 3 workers over 1 endpoint(s): 12 ops",
			"claims (atomic claim), 3 workers over 1 endpoint(s): 12 ops",
			"0 claims of VCPU=2 still fit at the end",
			"mode runs claims/s conflicts retries gave up still fit p50 ms p99 ms",
			"atomic 2"}},
	} {
		args := append([]string{"bench", "claims", "--placement-url", srv.URL, "--prefix", strings.ReplaceAll(c.name, " ", "-")}, c.args...)
		r := runCLI(t, srv.URL, args...)
		out := r.stdout
		if c.code != ExitOK {
			out = r.stderr
		}
		// Columns are padded: compare words.
		out = strings.Join(strings.Fields(out), " ")
		for _, w := range c.want {
			if r.code != c.code || !strings.Contains(out, w) {
				t.Errorf("%s: exit %d, want %q in stdout %q, stderr %q", c.name, r.code, w, r.stdout, r.stderr)
			}
		}
	}
}

// lockedBuffer is a log destination that several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// allot bench load writes a cloud that allot serve loads (and says so in
// its start-up line), and allot bench mixed runs every operation on it
// and reports them as JSON. Bad flags of either are usage errors.
func TestBenchLoadServeMixed(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "big.db")
	runCLICases(t, "", []cliCase{
		{name: "no providers", args: "bench load --db " + db + " --providers 0", code: ExitUsage, stderr: "number of providers must be positive"},
		{name: "too many allocations", args: "bench load --db " + db + " --providers 2 --allocations 100", code: ExitUsage, stderr: "100 allocations do not fit on 2 hosts"},
		{name: "bad db", args: "bench load --db mysql://x --providers 2", code: ExitUsage, stderr: "mysql"},
		{name: "load", args: "bench load --db " + db + " --providers 30 --nested --sharing --allocations 45", code: ExitOK,
			stdout: []string{"loaded 91 providers (30 hosts, 1 pools) and 45 consumers", cloudgen.DefaultQuery}},
		{name: "same prefix twice", args: "bench load --db " + db + " --providers 3", code: ExitAPIError, stderr: "already exists"},
	})

	logs := &lockedBuffer{}
	cfg := ServeConfig{PlacementListen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", DB: db, PlacementAuth: auth.NoAuth2, AllocationWorkers: -1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bound := make(chan Listening, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), func(l Listening) { bound <- l })
	}()
	var l Listening
	select {
	case l = <-bound:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if !strings.Contains(logs.String(), `msg="candidate index loaded" providers=91 took=`) || !strings.Contains(logs.String(), "heap_inuse_mb=") {
		t.Errorf("no start-up line with the index's size, time and heap:\n%s", logs)
	}
	url := "http://" + l.Placement
	runCLICases(t, url, []cliCase{
		{name: "load beside serve", args: "bench load --db " + db + " --prefix other --providers 3", code: ExitInUse, stderr: "stop it, run allot bench load"},
		{name: "share", args: "bench mixed --placement-url " + url + " --atomic-share 2", code: ExitUsage, stderr: "--atomic-share must be between 0 and 1"},
		{name: "schedulers", args: "bench mixed --placement-url " + url + " --schedulers 0", code: ExitUsage, stderr: "--schedulers must be at least 1"},
		{name: "metrics url", args: "bench mixed --placement-url " + url + " --metrics-url localhost:9178", code: ExitUsage, stderr: "--metrics-url \"localhost:9178\": want an http(s) URL"},
		{name: "host rate", args: "bench mixed --placement-url " + url + " --host-rate 0", code: ExitUsage, stderr: "--host-rate must be positive"},
		{name: "too many hosts", args: "bench mixed --placement-url " + url + " --hosts 5000 --duration 1s", code: ExitAPIError, stderr: "--hosts 5000: the query finds only"},
	})
	r := runCLI(t, url, "bench", "mixed", "--placement-url", url, "--json", "--duration", "2s", "--schedulers", "3",
		"--atomic-share", "0.34", "--hold", "100ms", "--hosts", "4", "--host-rate", "10", "--catalog-rate", "4", "--create-rate", "4",
		"--prefix", "cli", "--metrics-url", "http://"+l.Admin+"/metrics")
	if r.code != ExitOK {
		t.Fatalf("bench mixed: exit %d, stderr %s", r.code, r.stderr)
	}
	var rep mixedReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench mixed --json: %v\n%s", err, r.stdout)
	}
	if len(rep.Ops) != len(loadgen.MixedOps) {
		t.Fatalf("%d operations reported, want %d", len(rep.Ops), len(loadgen.MixedOps))
	}
	claims, released := 0, rep.HeldAtEnd
	for _, o := range rep.Ops {
		if o.Count == 0 || o.PerSecond <= 0 || o.P99 < o.P50 || o.P999 < o.P99 {
			t.Errorf("%s: %+v", o.Operation, o)
		}
		for kind := range o.Errors {
			if strings.HasPrefix(kind, "5") {
				t.Errorf("%s answered %s", o.Operation, kind)
			}
		}
		switch o.Operation {
		case loadgen.OpClaim, loadgen.OpAtomicClaim:
			claims += o.Count
		case loadgen.OpRelease:
			released += o.Count
		}
	}
	if claims != released {
		t.Errorf("%d claims, %d released", claims, released)
	}
	if len(rep.Heaps) != 1 || rep.Heaps[0].Bytes <= 0 || rep.Heaps[0].Error != "" {
		t.Errorf("heap: %+v", rep.Heaps)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
