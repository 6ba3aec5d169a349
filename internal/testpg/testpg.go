// Package testpg gives tests a real PostgreSQL: the server named by
// ALLOT_TEST_POSTGRES (a DSN with rights to create databases), or else a
// throwaway cluster it starts itself from the machine's PostgreSQL binaries
// (initdb, pg_ctl), shared by the tests of one test binary. PostgreSQL tests
// never skip silently: without a server they fail, unless
// ALLOT_SKIP_POSTGRES=1 says to skip them, which they then report loudly.
package testpg

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

var (
	once     sync.Once
	adminDSN string
	startErr error
	cluster  *Cluster
	counter  atomic.Int64
)

// DSN returns the DSN of a new, empty database for one test, dropped when
// the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	if os.Getenv("ALLOT_SKIP_POSTGRES") == "1" {
		t.Skip("SKIPPING PostgreSQL test: ALLOT_SKIP_POSTGRES=1")
	}
	once.Do(start)
	if startErr != nil {
		t.Fatalf("no PostgreSQL for tests: %v (set ALLOT_TEST_POSTGRES=postgres://... or install PostgreSQL; ALLOT_SKIP_POSTGRES=1 skips)", startErr)
	}
	name := fmt.Sprintf("allot_test_%d_%d", os.Getpid(), counter.Add(1))
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", adminDSN)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return withDatabase(adminDSN, name)
}

// Main runs a test binary's tests and then shuts down the cluster, if one
// was started: a package whose tests use DSN calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop shuts down a cluster this package started (Main calls it).
func Stop() {
	if cluster != nil {
		cluster.Stop()
	}
}

func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + db
	return u.String()
}

func start() {
	if dsn := os.Getenv("ALLOT_TEST_POSTGRES"); dsn != "" {
		adminDSN = dsn
		startErr = ping(dsn)
		return
	}
	cluster, startErr = StartCluster()
	if startErr == nil {
		adminDSN = cluster.dsn
	}
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Cluster is a throwaway PostgreSQL cluster started from the machine's
// binaries, for tests that need one of their own (for instance to restart
// it under load). Its data is thrown away on Stop. fsync is off (nothing
// survives a machine crash) but commits are synchronous, so every commit
// acknowledged to a client survives a Restart.
type Cluster struct {
	dir    string
	data   string
	pgCtl  string
	opts   string
	dsn    string
	asUser *syscall.Credential
	// watchdog stops the cluster if this process dies without calling
	// Stop (see startWatchdog).
	watchdog *os.Process
}

// DSN returns the DSN of database db in the cluster (as superuser).
func (c *Cluster) DSN(db string) string { return withDatabase(c.dsn, db) }

// CreateDatabase creates an empty database and returns its DSN.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	admin, err := sql.Open("pgx", c.dsn)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.DSN(name), nil
}

// Restart stops the server the way an operator's restart does (fast
// shutdown: clients are disconnected, committed work is kept) and starts
// it again on the same port, after pause.
func (c *Cluster) Restart(pause time.Duration) error {
	if err := c.Halt(); err != nil {
		return err
	}
	time.Sleep(pause)
	return c.Resume()
}

// Halt stops the server as an operator's fast shutdown does (clients are
// disconnected, committed work and the files are kept); Resume starts it
// again on the same port.
func (c *Cluster) Halt() error {
	if out, err := c.run(c.pgCtl, "-D", c.data, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Resume starts a halted server again and waits until it answers.
func (c *Cluster) Resume() error { return c.start() }

// Stop shuts the cluster down and deletes its files.
func (c *Cluster) Stop() {
	if c.watchdog != nil {
		c.watchdog.Kill()
		c.watchdog = nil
	}
	c.run(c.pgCtl, "-D", c.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}

// startWatchdog starts a small shell loop, in a process group of its own,
// that stops the cluster and deletes its files once this process is gone.
// A test process that dies without calling Stop (a fuzz worker that the
// coordinator kills at -fuzztime's end, a test killed by -timeout, kill -9)
// would otherwise leave its postgres running after the tests. The loop
// checks /proc rather than kill -0 because it may run as another user.
func (c *Cluster) startWatchdog() error {
	const loop = `while [ -d /proc/$0 ]; do sleep 1; done; "$1" -D "$2" -m immediate -w stop >/dev/null 2>&1; rm -rf "$3"`
	cmd := exec.Command("/bin/sh", "-c", loop, strconv.Itoa(os.Getpid()), c.pgCtl, c.data, c.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.asUser}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the cluster's watchdog: %w", err)
	}
	c.watchdog = cmd.Process
	go cmd.Wait() // reap it when Stop kills it
	return nil
}

func (c *Cluster) start() error {
	if out, err := c.run(c.pgCtl, "-D", c.data, "-o", c.opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		logText, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s %s", err, out, logText)
	}
	return ping(c.dsn)
}

func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL binaries (initdb, pg_ctl) found")
}

// StartCluster initialises and starts a new cluster in a temporary
// directory, as the "postgres" user when running as root.
func StartCluster() (*Cluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "allot-testpg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, data: filepath.Join(dir, "data"), pgCtl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the cluster as "postgres".
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.asUser = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300", port, dir)
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := c.start(); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.startWatchdog(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	if c.asUser != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.asUser}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
