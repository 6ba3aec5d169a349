package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// smallBuffers keeps the kernel from absorbing answers: the server's
// send buffer and the client's receive buffer are a few KB, so that a
// client that does not read blocks the server's writes at once.
const smallBuffer = 8 << 10

// deadlineServer serves h behind d with small socket send buffers.
func deadlineServer(t *testing.T, d Deadlines, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(d.Handler(h))
	srv.Config.ReadHeaderTimeout = 2 * time.Second
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetWriteBuffer(smallBuffer)
		}
		return ctx
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// dialSmall connects with a small receive buffer (set before connecting,
// so that the window advertised stays small).
func dialSmall(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, smallBuffer) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed reads (and drops) what the server sends until it closes the
// connection, and returns when that was; it fails after limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) time.Time {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server did not close the connection within %s", limit)
	}
	return time.Now()
}

// A body that trickles in is cut at its deadline, whether the handler
// reads it (it gets ErrBodyDeadline and a cancelled context) or answers
// without reading it (net/http's read of the rest must not wait either).
func TestDeadlinesTrickledBody(t *testing.T) {
	const grace = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		read bool
	}{{"handler reads the body", true}, {"handler answers without reading", false}} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				err    error
				ctxErr error
			}
			results := make(chan result, 1)
			addr := deadlineServer(t, Deadlines{Body: grace, Write: time.Second, MinRate: 1000}, func(w http.ResponseWriter, r *http.Request) {
				if !tc.read {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_, err := io.ReadAll(r.Body)
				results <- result{err, r.Context().Err()}
				w.WriteHeader(http.StatusBadRequest)
			})
			c := dialSmall(t, addr)
			start := time.Now()
			fmt.Fprintf(c, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx")
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one byte every 100 ms, for at most the 99 left
				for range 99 {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}()
			closed := waitClosed(t, c, 5*time.Second).Sub(start)
			// At the deadline, plus net/http's 500 ms wait before closing
			// a connection whose request it did not read in full.
			if closed < grace || closed > grace+1500*time.Millisecond {
				t.Errorf("closed after %s, want about %s", closed, grace)
			}
			t.Logf("closed after %s", closed.Round(time.Millisecond))
			if tc.read {
				res := <-results
				if !errors.Is(res.err, ErrBodyDeadline) || !errors.Is(res.err, os.ErrDeadlineExceeded) || res.ctxErr == nil ||
					!regexp.MustCompile(`^the request body did not arrive in time \(\d+ bytes in [\d.]+m?s\)$`).MatchString(res.err.Error()) {
					t.Errorf("handler read %v, context %v; want ErrBodyDeadline and a cancelled context", res.err, res.ctxErr)
				}
			}
		})
	}
}

// A body that comes steadily at more than the minimum rate is read whole,
// although it takes longer than the grace.
func TestDeadlinesSteadyBody(t *testing.T) {
	got := make(chan int, 1)
	addr := deadlineServer(t, Deadlines{Body: 200 * time.Millisecond, Write: time.Second, MinRate: 2000}, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		got <- len(b)
	})
	c := dialSmall(t, addr)
	start := time.Now()
	fmt.Fprintf(c, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n")
	for range 10 { // 300 bytes every 50 ms: 6000 B/s
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte(strings.Repeat("x", 300)))
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%v %v", resp, err)
	}
	if n := <-got; n != 3000 {
		t.Errorf("read %d bytes, want 3000", n)
	}
	t.Logf("3000 bytes in %s with a grace of 200ms", time.Since(start).Round(time.Millisecond))
}

// A request without a body keeps its context however long it runs (no read
// deadline disturbs net/http's background read), and a keep-alive
// connection serves a later request although the previous write deadline
// has passed.
func TestDeadlinesKeepAlive(t *testing.T) {
	const grace = 200 * time.Millisecond
	addr := deadlineServer(t, Deadlines{Body: grace, Write: grace, MinRate: 1000}, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * grace)
		if err := r.Context().Err(); err != nil {
			t.Errorf("context: %v", err)
		}
		io.WriteString(w, "ok")
	})
	c := dialSmall(t, addr)
	br := bufio.NewReader(c)
	for i := range 2 {
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Errorf("request %d: %s %q", i, resp.Status, body)
		}
		time.Sleep(2 * grace)
	}
	// net/http's own answer to a malformed request, past the previous
	// answer's write deadline, still reaches the client.
	fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed request after an idle wait: %v %v; want net/http's 400", resp, err)
	}
}

// A client that reads slowly but above the minimum rate gets its whole
// answer, beyond the grace; with no rate allowance, the grace alone cuts
// it.
func TestDeadlinesSlowReader(t *testing.T) {
	const size = 1 << 20
	for _, tc := range []struct {
		name  string
		rate  int64
		whole bool
	}{{"1 MB/s allowed", 1 << 20, true}, {"no rate allowance", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			addr := deadlineServer(t, Deadlines{Body: time.Second, Write: 200 * time.Millisecond, MinRate: tc.rate}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(size))
				w.Write(make([]byte, size))
			})
			c := dialSmall(t, addr)
			fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			start := time.Now()
			buf := make([]byte, 32<<10)
			total := 0
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for { // about 1.6 MB/s
				n, err := io.ReadFull(c, buf)
				total += n
				if err != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			whole := total > size
			t.Logf("read %d bytes in %s", total, time.Since(start).Round(time.Millisecond))
			if whole != tc.whole {
				t.Errorf("read %d bytes of a %d-byte answer; want whole: %v", total, size, tc.whole)
			}
		})
	}
}

// Clients that never read a large answer are cut at the write deadline:
// the handlers' writes fail, their contexts are cancelled and the answers'
// memory is released.
func TestDeadlinesNeverReadingClients(t *testing.T) {
	const (
		clients = 20
		size    = 4 << 20
		grace   = 300 * time.Millisecond
		rate    = 64 << 20 // the deadline: 300 ms + 4 MB at 64 MB/s = 362 ms
	)
	var wg sync.WaitGroup
	wg.Add(clients)
	var mu sync.Mutex
	var failed, cancelled int
	var slowest time.Duration
	addr := deadlineServer(t, Deadlines{Body: time.Second, Write: grace, MinRate: rate}, func(w http.ResponseWriter, r *http.Request) {
		defer wg.Done()
		start := time.Now()
		_, err := w.Write(make([]byte, size))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
		}
		if r.Context().Err() != nil {
			cancelled++
		}
		slowest = max(slowest, time.Since(start))
	})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range clients {
		c := dialSmall(t, addr)
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handlers still blocked writing after 5 s")
	}
	elapsed := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("%d clients x %d MB: every write ended within %s (slowest %s); heap in use %d MB before, %d MB after",
		clients, size>>20, elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond), before.HeapInuse>>20, after.HeapInuse>>20)
	if failed != clients || cancelled != clients {
		t.Errorf("%d writes failed and %d contexts were cancelled, want %d", failed, cancelled, clients)
	}
	if slowest > grace+time.Second {
		t.Errorf("a write took %s", slowest)
	}
	if after.HeapInuse > before.HeapInuse+size*clients/4 {
		t.Errorf("heap in use grew from %d to %d bytes: the answers are still held", before.HeapInuse, after.HeapInuse)
	}
}

func TestAnswerCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"write timeout", &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"wrapped broken pipe", fmt.Errorf("encode: %w", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}), true},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, false},
		{"body deadline", fmt.Errorf("%w: %w", ErrBodyDeadline, os.ErrDeadlineExceeded), false},
		{"other", errors.New("boom"), false},
	} {
		if got := AnswerCut(tc.err); got != tc.want {
			t.Errorf("%s: AnswerCut = %v, want %v", tc.name, got, tc.want)
		}
	}
}
