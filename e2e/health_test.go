package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"allot/internal/testpg"
)

// TestHealthFollowsPostgres runs "allot serve" on a PostgreSQL that the
// test stops and starts again: /healthcheck on both API listeners and
// /readyz on the admin listener answer 200 while the database is up, 503
// with the reason while it is down, and 200 again once it is back, from
// the same process, without a restart; /livez stays 200 throughout, and
// /metrics keeps answering with allot_store_errors_total counting the
// outage.
func TestHealthFollowsPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL stop/start scenario skipped in -short mode")
	}
	if os.Getenv("ALLOT_SKIP_POSTGRES") == "1" {
		t.Skip("SKIPPING the PostgreSQL stop/start scenario: ALLOT_SKIP_POSTGRES=1")
	}
	cluster, err := testpg.StartCluster()
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(cluster.Stop)
	dsn, err := cluster.CreateDatabase("allot")
	if err != nil {
		t.Fatal(err)
	}
	bin := buildAllot(t)
	placement, baremetal, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	logf := filepath.Join(t.TempDir(), "allot.log")
	logFile, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--db", dsn, "--placement-listen", placement, "--baremetal-listen", baremetal,
		"--admin-listen", admin, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			text, _ := os.ReadFile(logf)
			t.Logf("allot log (tail):\n%s", tail(string(text), 3000))
		}
	})
	client := &http.Client{Timeout: 15 * time.Second}
	probe := func(url string) (int, string) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	checks := []struct{ name, url string }{
		{"placement /healthcheck", "http://" + placement + "/healthcheck"},
		{"baremetal /healthcheck", "http://" + baremetal + "/healthcheck"},
		{"admin /readyz", "http://" + admin + "/readyz"},
	}
	// waitAll polls every check until it answers want with a body that
	// holds text (the state changes within seconds; 60 s bounds a stuck
	// test, it measures nothing).
	waitAll := func(want int, text string) {
		t.Helper()
		for _, c := range checks {
			deadline := time.Now().Add(60 * time.Second)
			for {
				status, body := probe(c.url)
				if status == want && strings.Contains(body, text) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d %q, want %d with %q", c.name, status, body, want, text)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if status, body := probe("http://" + admin + "/livez"); status != http.StatusOK {
			t.Errorf("/livez: %d %q while the health checks answer %d", status, body, want)
		}
		if status, body := probe("http://" + admin + "/metrics"); status != http.StatusOK || !strings.Contains(body, "allot_store_pool_connections_in_use") {
			t.Errorf("/metrics: %d %q while the health checks answer %d", status, tail(body, 300), want)
		}
	}

	waitAll(http.StatusOK, "")
	if _, body := probe(checks[0].url); body != "OK" {
		t.Errorf("/healthcheck answers %q, want oslo's OK", body)
	}

	if err := cluster.Halt(); err != nil {
		t.Fatal(err)
	}
	waitAll(http.StatusServiceUnavailable, "")
	if _, body := probe(checks[0].url); !strings.HasPrefix(body, "STORE UNAVAILABLE: ") {
		t.Errorf("/healthcheck with the database down: %q, want the reason", body)
	}
	if _, body := probe(checks[2].url); !strings.Contains(body, "the store does not answer") {
		t.Errorf("/readyz with the database down: %q, want the reason", body)
	}
	// A request that needs the store answers 503 and counts as a database
	// error of kind unavailable.
	if status, _, err := call("GET", "http://"+placement+"/resource_providers", "1.39", nil); err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("GET /resource_providers with the database down: %d %v, want 503", status, err)
	}
	if _, body := probe("http://" + admin + "/metrics"); !strings.Contains(body, `allot_store_errors_total{kind="unavailable"}`) {
		t.Errorf("/metrics does not count the outage: %s", tail(body, 2000))
	}

	if err := cluster.Resume(); err != nil {
		t.Fatal(err)
	}
	waitAll(http.StatusOK, "")
	if status, doc, err := call("GET", "http://"+placement+"/resource_providers", "1.39", nil); err != nil || status != http.StatusOK {
		t.Errorf("GET /resource_providers after PostgreSQL came back: %d %v %v", status, doc, err)
	}
}
