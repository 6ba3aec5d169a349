package testpg

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWatchdogStopsClusterOfDeadProcess starts a cluster in a child
// process, kills the child with SIGKILL (no Stop, no deferred code), and
// checks that the cluster stops answering and its files are deleted.
func TestWatchdogStopsClusterOfDeadProcess(t *testing.T) {
	if os.Getenv("ALLOT_TESTPG_CHILD") == "1" {
		c, err := StartCluster()
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Println("CLUSTER", c.dir, c.dsn)
		time.Sleep(time.Hour) // the parent kills this process
	}
	if os.Getenv("ALLOT_SKIP_POSTGRES") == "1" {
		t.Skip("SKIPPING PostgreSQL test: ALLOT_SKIP_POSTGRES=1")
	}
	child := exec.Command(os.Args[0], "-test.run=^TestWatchdogStopsClusterOfDeadProcess$")
	child.Env = append(os.Environ(), "ALLOT_TESTPG_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		child.Process.Kill()
		t.Fatalf("read the child's cluster: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 || fields[0] != "CLUSTER" {
		child.Process.Kill()
		t.Fatalf("the child did not start a cluster: %q", line)
	}
	dir, dsn := fields[1], fields[2]
	if err := ping(dsn); err != nil {
		child.Process.Kill()
		t.Fatalf("the child's cluster does not answer: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, statErr := os.Stat(dir)
		gone := os.IsNotExist(statErr)
		down := ping(dsn) != nil
		if gone && down {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after its process died, the cluster is still there (files deleted: %v, server down: %v)", gone, down)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
