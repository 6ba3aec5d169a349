package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimit configures LimitConnections.
type ConnLimit struct {
	// Max is the most connections open at once; 0 or less is no cap.
	Max int
	// Name names the listener in the log ("placement", "baremetal").
	Name   string
	Logger *slog.Logger
	// Busy renders the 503 a refused connection is answered with, in the
	// API's error format (PlacementAnswers, IronicAnswers); nil closes
	// refused connections without an answer.
	Busy Answerer
}

// Refusing is how many refused connections are answered at once per
// listener, each for at most refuseLinger; connections refused beyond
// that are closed without an answer. It bounds the descriptors that
// refusals hold (count them in the budget of the process's open files).
const Refusing = 16

// refuseLinger bounds how long a refused connection is kept to deliver
// its 503: net/http's own wait before closing a connection it answered
// without reading the whole request (so that the close does not reset
// the connection and destroy the answer before the client read it).
const refuseLinger = 500 * time.Millisecond

// limitLogEvery is the least time between two log lines of one listener
// saying that it refuses connections.
const limitLogEvery = 10 * time.Second

// LimitConnections caps the connections open at once from ln. At the cap
// a new connection is accepted and answered at once with a 503 in the
// API's format (Retry-After: 1, Connection: close), and closed: a client
// learns immediately that the server is busy instead of waiting in the
// kernel's backlog, where it could not tell a full server from a dead
// one, and the listener keeps draining the backlog so that it never
// overflows. The connections already open, and the other listener, are
// served as before. A warning is logged when refusals begin, then at most
// every 10 s while they go on, with the number refused since the last
// line.
func LimitConnections(ln net.Listener, lim ConnLimit) net.Listener {
	if lim.Max <= 0 {
		return ln
	}
	if lim.Logger == nil {
		lim.Logger = slog.Default()
	}
	return &limitListener{Listener: ln, lim: lim, refusing: make(chan struct{}, Refusing)}
}

type limitListener struct {
	net.Listener
	lim      ConnLimit
	open     atomic.Int64
	refusing chan struct{}

	mu      sync.Mutex
	lastLog time.Time
	refused int // since lastLog
}

// Open reports the connections open from a listener LimitConnections
// returned (-1 for another listener).
func Open(ln net.Listener) int {
	if l, ok := ln.(*limitListener); ok {
		return int(l.open.Load())
	}
	return -1
}

// Accept returns the next connection under the cap, refusing those over it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= int64(l.lim.Max) {
			return &limitConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refuse(c)
	}
}

// refuse answers a connection over the cap and closes it, in the
// background while fewer than Refusing are being answered. Beyond that,
// the answer is written at once (a new connection's send buffer is empty:
// the write does not wait) and the connection closed without waiting for
// the client to read it: the client gets the 503, unless its request
// arrives after the close and the system resets the connection.
func (l *limitListener) refuse(c net.Conn) {
	l.logRefusal()
	select {
	case l.refusing <- struct{}{}:
	default:
		if l.lim.Busy != nil {
			c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			c.Write(l.busy())
		}
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		if l.lim.Busy == nil {
			return
		}
		c.SetDeadline(time.Now().Add(refuseLinger))
		// Wait for the request's first bytes (or the linger's end): an
		// answer that comes before the request is sent can be taken for a
		// response on an idle connection by clients that race the two.
		var head [1024]byte
		c.Read(head[:])
		if _, err := c.Write(l.busy()); err != nil {
			return
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		// Read what the client sent until it closes or the linger ends,
		// so that closing does not reset the connection under the answer.
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// busy is the whole 503 answer to a refused connection.
func (l *limitListener) busy() []byte {
	h, body := l.lim.Busy(http.StatusServiceUnavailable,
		fmt.Sprintf("The server has reached its limit of %d connections on this listener; retry later.", l.lim.Max))
	h = h.Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Retry-After", "1")
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 503 Service Unavailable\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// logRefusal logs the first refusal and then one line per limitLogEvery.
func (l *limitListener) logRefusal() {
	l.mu.Lock()
	l.refused++
	now := time.Now()
	if now.Sub(l.lastLog) < limitLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.refused
	l.refused, l.lastLog = 0, now
	l.mu.Unlock()
	l.lim.Logger.Warn("connection limit reached: new connections are answered 503 and closed",
		"listener", l.lim.Name, "max_connections", l.lim.Max, "refused", n, "per", limitLogEvery.String())
}

// limitConn frees its slot when closed (once, however often Close is called).
type limitConn struct {
	net.Conn
	l      *limitListener
	closed atomic.Bool
}

func (c *limitConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}

// CloseWrite half-closes a TCP connection, as net/http does before closing
// a connection whose request it did not read in full.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// FileBudget describes the open files a process needs besides its
// listeners' connections, to derive a connection cap from its limit.
type FileBudget struct {
	// Limit is the process's open-file limit (RLIMIT_NOFILE's soft limit,
	// which Go raises to the hard limit at start on Linux); 0 reads it.
	Limit int
	// Listeners is the number of capped listeners sharing the limit.
	Listeners int
	// Store is the store's most open files (connections, or files and
	// their journals).
	Store int
}

// fixedFiles are the process's files other than connections and the
// store: standard streams, the listeners, the poller, the profiling
// listener, connections to Keystone, a margin.
const fixedFiles = 64

// MaxConnectionsCeiling is the largest default cap: beyond it, memory
// (some 20-30 KB per connection in buffers and a goroutine, more while
// answering) rather than descriptors is what runs out.
const MaxConnectionsCeiling = 10000

// DefaultMaxConnections is the per-listener cap that keeps every capped
// listener at its cap, the refusals in flight, the store and the fixed
// files within the open-file limit, at most MaxConnectionsCeiling and at
// least 1. It returns the limit it used.
func DefaultMaxConnections(b FileBudget) (conns, limit int, err error) {
	limit = b.Limit
	if limit <= 0 {
		if limit, err = openFileLimit(); err != nil {
			return 0, 0, fmt.Errorf("read the open-file limit: %w", err)
		}
	}
	n := max(b.Listeners, 1)
	per := (limit - fixedFiles - b.Store - n*Refusing) / n
	if per < 1 {
		return 0, limit, errors.New("the open-file limit leaves no room for connections")
	}
	return min(per, MaxConnectionsCeiling), limit, nil
}
