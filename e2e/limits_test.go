package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// limitsServer is an "allot serve" process started for a limits scenario.
type limitsServer struct {
	placement, baremetal, pprof string // host:port
	logf                        string
	pid                         int
}

// startLimitsServer runs allot serve on SQLite with args, under an
// open-file limit of nofile (ulimit -n, soft and hard) when not 0.
func startLimitsServer(t *testing.T, nofile int, args ...string) *limitsServer {
	t.Helper()
	bin := buildAllot(t)
	dir := t.TempDir()
	s := &limitsServer{placement: freeAddr(t), baremetal: freeAddr(t), pprof: freeAddr(t), logf: filepath.Join(dir, "allot.log")}
	logFile, err := os.Create(s.logf)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"serve", "--db", "sqlite:" + filepath.Join(dir, "allot.db"),
		"--placement-listen", s.placement, "--baremetal-listen", s.baremetal, "--admin-listen", s.pprof,
		"--log-level", "warn"}, args...)
	cmd := exec.Command(bin, args...)
	if nofile > 0 {
		cmd = exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), bin}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			text, _ := os.ReadFile(s.logf)
			t.Logf("allot log (tail):\n%s", tail(string(text), 3000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, _ := get(t, s.placement, "/")
		b, _ := get(t, s.baremetal, "/")
		if a == 200 && b == 200 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("allot not serving after 30 s: %d %d", a, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// log is what the server logged so far.
func (s *limitsServer) log(t *testing.T) string {
	b, err := os.ReadFile(s.logf)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// get sends a GET on a new connection (X-Auth-Token admin) and returns the
// status (0 when the connection failed) and body.
func get(t *testing.T, addr, path string) (int, []byte) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	return getWith(&http.Client{Transport: tr, Timeout: 5 * time.Second}, addr, path)
}

// rawGet sends GET path on a new connection as soon as it is open and
// reads the answer, whenever it came.
func rawGet(t *testing.T, addr, path string) (int, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: admin\r\nOpenStack-API-Version: placement latest\r\nConnection: close\r\n\r\n", path, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func getWith(c *http.Client, addr, path string) (int, []byte) {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement latest")
	resp, err := c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// trickler is a connection that sends a request's headers and then its
// 100-byte body one byte at a time, reading the answer if one comes.
type trickler struct {
	c      net.Conn
	start  time.Time
	status int           // the answer's status (0: none)
	closed time.Duration // when the server closed the connection, from start (0: still open)
}

// trickle opens n trickling connections to addr, each sending a byte
// every `every` until its body is sent, the server closes it or stop is
// closed, and reading until the server closes it (at most 10 s); it
// returns once all are open, and done once all are closed.
func trickle(t *testing.T, addr string, n int, every time.Duration, stop <-chan struct{}) (ts []*trickler, done func()) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("trickler %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		tr := &trickler{c: c, start: time.Now()}
		ts = append(ts, tr)
		fmt.Fprintf(c, "PUT /resource_providers/%s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: admin\r\n"+
			"OpenStack-API-Version: placement latest\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
			uuid.NewString(), addr)
		go func() {
			for range 99 {
				select {
				case <-stop:
					return
				case <-time.After(every):
				}
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			if resp, err := http.ReadResponse(br, nil); err == nil {
				tr.status = resp.StatusCode
				io.Copy(io.Discard, resp.Body)
			}
			if _, err := io.Copy(io.Discard, br); !errors.Is(err, os.ErrDeadlineExceeded) {
				tr.closed = time.Since(tr.start)
			}
			c.Close() // as a client does once answered
		}()
	}
	return ts, wg.Wait
}

// More trickling connections than the cap, on a process whose open-file
// limit (256) is below their number: the cap derived from that limit holds
// them, the rest are answered 503 at once, the other listener and a
// keep-alive client of the same listener are served meanwhile, and the
// tricklers are closed at their body deadline, after which new clients are
// served again. Before the cap and deadlines, 1,100 such connections on a
// 1,024-file process stopped both listeners (accept4: too many open
// files).
func TestLimitsTricklingConnections(t *testing.T) {
	const (
		nofile    = 256
		tricklers = 300
		body      = 3 * time.Second // long enough for the checks below on a loaded machine
	)
	s := startLimitsServer(t, nofile, "--body-timeout", body.String(), "--read-header-timeout", "1s", "--log-level", "info")
	m := regexp.MustCompile(`connection limits.* max_connections=(\d+) open_file_limit=(\d+)`).FindStringSubmatch(s.log(t))
	if m == nil || m[2] != strconv.Itoa(nofile) {
		t.Fatalf("no start line with the open-file limit %d: %v", nofile, m)
	}
	capacity, _ := strconv.Atoi(m[1])
	if capacity < 1 || 2*capacity >= nofile {
		t.Fatalf("max_connections=%d with %d files", capacity, nofile)
	}

	// A client already connected, keeping its connection alive.
	keep := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 5 * time.Second}
	if st, b := getWith(keep, s.placement, "/resource_providers"); st != 200 {
		t.Fatalf("keep-alive client: %d %s", st, b)
	}

	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	ts, done := trickle(t, s.placement, tricklers, 300*time.Millisecond, stop)
	opened := time.Since(start)

	// While the tricklers fill the Placement listener: the keep-alive
	// client and the Bare Metal API are served, a new Placement client
	// is told 503 in Placement's format.
	if st, b := getWith(keep, s.placement, "/resource_providers"); st != 200 {
		t.Errorf("keep-alive client during the flood: %d %s", st, b)
	}
	if st, b := get(t, s.baremetal, "/v1/nodes"); st != 200 {
		t.Errorf("Bare Metal API during the flood: %d %s", st, b)
	}
	// The refused client's request goes out as soon as it is connected,
	// then its answer is read: the server may answer a refused connection
	// before it reads the request, which Go's client (unlike curl or a
	// client across a real network) can take for a response on an idle
	// connection when the two race on loopback.
	st, b := rawGet(t, s.placement, "/resource_providers")
	var env struct{ Errors []struct{ Status int } }
	if st != 503 || json.Unmarshal(b, &env) != nil || len(env.Errors) != 1 || env.Errors[0].Status != 503 {
		t.Errorf("new Placement client during the flood: %d %s; want Placement's 503", st, b)
	}
	if elapsed := time.Since(start); elapsed > body {
		t.Fatalf("the checks during the flood took %s, past the body deadline", elapsed)
	}

	done()
	held, refused, dropped := 0, 0, 0
	var first, last time.Duration
	for i, tr := range ts {
		switch {
		case tr.closed == 0:
			t.Errorf("trickler %d still open after 10 s", i)
		case tr.closed < body/2 && tr.status == 503:
			refused++
		case tr.closed < body/2:
			dropped++
		default:
			held++
			if first == 0 || tr.closed < first {
				first = tr.closed
			}
			last = max(last, tr.closed)
		}
	}
	t.Logf("cap %d with %d files: %d tricklers opened in %s; %d held then closed between %s and %s (body deadline %s); %d refused at once with a 503, %d without",
		capacity, nofile, tricklers, opened.Round(time.Millisecond), held, first.Round(time.Millisecond), last.Round(time.Millisecond), body, refused, dropped)
	if held > capacity || held < capacity-2 { // the keep-alive client holds a slot
		t.Errorf("%d tricklers held, want about the cap %d", held, capacity)
	}
	if first < body || last > body+3*time.Second {
		t.Errorf("held tricklers closed between %s and %s, want at the body deadline %s", first, last, body)
	}

	// Served again, the limit's log line said so once (not once per
	// refused connection), and no descriptor ran out.
	if st, b := get(t, s.placement, "/resource_providers"); st != 200 {
		t.Errorf("new Placement client after the deadline: %d %s", st, b)
	}
	log := s.log(t)
	if n := strings.Count(log, "connection limit reached"); n < 1 || n > 2 {
		t.Errorf("%d log lines for %d refusals, want 1 or 2", n, refused)
	}
	if strings.Contains(log, "too many open files") {
		t.Errorf("the server ran out of descriptors")
	}
}

// heapInuse reads the server's HeapInuse from its profiling endpoint.
func heapInuse(t *testing.T, pprof string) int64 {
	t.Helper()
	st, b := get(t, pprof, "/debug/pprof/heap?debug=1&gc=1")
	m := regexp.MustCompile(`# HeapInuse = (\d+)`).FindSubmatch(b)
	if st != 200 || m == nil {
		t.Fatalf("heap profile: %d %.200s", st, b)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// Clients that ask for a large answer and never read it are cut at the
// write deadline and the server's memory comes back. Before the write
// deadline, 300 such clients held their connections for good and took
// the server from 79 to 578 MB.
func TestLimitsNeverReadingClients(t *testing.T) {
	const (
		clients = 8
		size    = 6 << 20 // beyond what the kernel's socket buffers take (4 MB)
		grace   = time.Second
		rate    = 8 << 20 // bytes/s: the answer adds about 0.75 s
	)
	s := startLimitsServer(t, 0, "--write-timeout", grace.String(), "--min-transfer-rate", strconv.Itoa(rate), "--log-level", "info")
	// A bare-metal node whose extra field holds 6 MB: a GET of it is a
	// 6 MB answer.
	st, doc, err := call("POST", "http://"+s.baremetal+"/v1/nodes", "bm:1.79",
		map[string]any{"driver": "fake-hardware", "name": "big", "extra": map[string]any{"blob": strings.Repeat("x", size)}})
	if err != nil || st != 201 {
		t.Fatalf("create node: %d %.300v %v", st, doc, err)
	}
	path := "/v1/nodes/" + doc["uuid"].(string)
	t0 := time.Now()
	st, answer := get(t, s.baremetal, path)
	t.Logf("one answer of %d bytes in %s", len(answer), time.Since(t0).Round(time.Millisecond))
	if st != 200 || len(answer) < size {
		t.Fatalf("the answer: %d, %d bytes", st, len(answer))
	}
	logged := regexp.MustCompile(`msg=request request_id=\S+ method=GET path=` + regexp.QuoteMeta(path) + ` status=\d+ version=\S+ duration_ms=([\d.]+)`)
	answered := func() int { return len(logged.FindAllString(s.log(t), -1)) }
	base := answered()
	before := heapInuse(t, s.pprof)

	start := time.Now()
	conns := make([]net.Conn, clients)
	for i := range conns {
		d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		c, err := d.Dial("tcp", s.baremetal)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nX-OpenStack-Ironic-API-Version: 1.79\r\n\r\n", path, s.baremetal)
	}
	// Every request ends (its access log line is written once the answer
	// is sent or cut), however long the answers take to build; the heap
	// peaks meanwhile.
	peak := before
	for answered() < base+clients {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("%d of %d requests ended after 60 s", answered()-base, clients)
		}
		peak = max(peak, heapInuse(t, s.pprof))
		time.Sleep(100 * time.Millisecond)
	}
	ended := time.Since(start)
	after := heapInuse(t, s.pprof)
	durations := logged.FindAllStringSubmatch(s.log(t), -1)
	var slowest float64
	for _, m := range durations[len(durations)-clients:] {
		ms, _ := strconv.ParseFloat(m[1], 64)
		slowest = max(slowest, ms)
	}

	// Each connection was closed at its deadline (a read ends in EOF or a
	// reset, with part of the answer), or was sent the whole answer, the
	// kernel's buffers having taken it.
	cut := 0
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := io.Copy(io.Discard, c)
		switch {
		case n >= int64(len(answer)):
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Errorf("client %d: read %d bytes of %d, then nothing: neither closed nor answered", i, n, len(answer))
		default:
			cut++
		}
	}
	t.Logf("%d clients never reading a %d-byte answer: all requests ended within %s (slowest %.0f ms; write deadline %s + size at %d B/s), %d cut, %d absorbed by socket buffers; server heap in use %d MB before, %d MB at the peak, %d MB after",
		clients, len(answer), ended.Round(time.Millisecond), slowest, grace, rate, cut, clients-cut, before>>20, peak>>20, after>>20)
	if cut < clients/2 {
		t.Errorf("%d of %d answers cut, want most", cut, clients)
	}
	if log := s.log(t); strings.Contains(log, "level=ERROR") || strings.Count(log, "the client did not take the answer") != cut {
		t.Errorf("want one line at INFO per cut answer, no ERROR:\n%s", tail(log, 2000))
	}
	if after > before+int64(len(answer))*8 {
		t.Errorf("heap in use %d MB after the deadline, %d MB before: the answers are still held", after>>20, before>>20)
	}
	if st, b := get(t, s.baremetal, "/v1/nodes"); st != 200 || !bytes.Contains(b, []byte(path)) {
		t.Errorf("served after: %d %.300s", st, b)
	}
}
