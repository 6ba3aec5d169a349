package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"allot/internal/cli"
	"allot/internal/store"
	"allot/internal/testserver"
)

// loadClaim is one allocation written through the Placement API under load.
type loadClaim struct {
	consumer, provider string
	// sent and acked are when the request left and its 204 came back.
	sent, acked time.Time
}

// TestBackupUnderLoad takes allot db backup of a served SQLite store while
// clients claim through the Placement API, restores it into a new file
// with allot db restore, and checks that allot db check passes on it, that
// it holds every claim acknowledged before the backup began, and no claim
// sent after the backup ended.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "allot.db")
	st := testserver.OpenDSN(t, dsn)
	p := testserver.StartPlacement(t, st)
	var providers []string
	for i := 0; i < 8; i++ {
		id := uuid.NewString()
		p.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": fmt.Sprint("cn", i), "uuid": id})
		p.Must(200, "PUT", "/resource_providers/"+id+"/inventories", "1.39", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 100000}}})
		providers = append(providers, id)
	}

	var (
		mu     sync.Mutex
		acked  []loadClaim
		failed atomic.Int64
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := loadClaim{consumer: uuid.NewString(), provider: providers[(w+i)%len(providers)], sent: time.Now()}
				body, _ := json.Marshal(map[string]any{
					"allocations": map[string]any{c.provider: map[string]any{"resources": map[string]int{"VCPU": 1}}},
					"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE",
				})
				req, _ := http.NewRequest("PUT", p.URL+"/allocations/"+c.consumer, bytes.NewReader(body))
				req.Header.Set("X-Auth-Token", "admin")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("OpenStack-API-Version", "placement 1.39")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					if failed.Add(1) == 1 {
						t.Errorf("a claim answered %d: %s", resp.StatusCode, msg)
					}
					continue
				}
				c.acked = time.Now()
				mu.Lock()
				acked = append(acked, c)
				mu.Unlock()
			}
		}(w)
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d claims acknowledged in 60s (%d failed)", got, failed.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(200)

	backup := filepath.Join(dir, "backup.db")
	begun := time.Now()
	var out, errb bytes.Buffer
	code := cli.Execute([]string{"db", "backup", backup, "--db", dsn}, &out, &errb)
	ended := time.Now()
	if code != 0 {
		t.Fatalf("allot db backup under load: exit %d\n%s%s", code, out.String(), errb.String())
	}
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitFor(before + 100) // the load went on after the backup
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d claims failed under load", n)
	}
	t.Logf("%s; %d claims acknowledged in all", strings.TrimSpace(out.String()), len(acked))

	restored := "sqlite:" + filepath.Join(dir, "restored.db")
	for _, args := range [][]string{
		{"db", "restore", backup, "--db", restored},
		{"db", "check", "--db", restored},
		{"db", "check", "--db", dsn}, // the served store, beside its server
	} {
		out.Reset()
		errb.Reset()
		if code := cli.Execute(args, &out, &errb); code != 0 {
			t.Fatalf("allot %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
	}

	rs, err := store.OpenReadOnly(context.Background(), restored, store.Options{Logger: testserver.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var kept, sentAfter, beforeBackup int
	err = rs.Read(context.Background(), func(tx *store.Tx) error {
		for _, c := range acked {
			cons, ok, err := tx.Consumer(context.Background(), c.consumer, false)
			if err != nil {
				return err
			}
			var allocs int
			if ok {
				as, err := tx.ConsumerAllocations(context.Background(), cons.ID)
				if err != nil {
					return err
				}
				for _, a := range as {
					if a.ProviderUUID == c.provider && a.ResourceClass == "VCPU" && a.Used == 1 {
						allocs++
					}
				}
			}
			switch {
			case c.acked.Before(begun):
				beforeBackup++
				if allocs != 1 {
					t.Errorf("claim %s, acknowledged %s before the backup began, is not in the backup", c.consumer, begun.Sub(c.acked))
				}
			case c.sent.After(ended) && ok:
				sentAfter++
			}
			if allocs == 1 {
				kept++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sentAfter > 0 {
		t.Errorf("%d claims sent after the backup ended are in it: not one snapshot", sentAfter)
	}
	t.Logf("the backup holds %d claims, all %d acknowledged before it began", kept, beforeBackup)
}
