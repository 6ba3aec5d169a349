package api

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// At the cap a new connection is answered 503 in the API's format and
// closed; a slot freed by a close is taken by the next connection; the
// refusals log one line, not one per connection.
func TestLimitConnections(t *testing.T) {
	raw, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs SyncBuffer
	ln := LimitConnections(raw, ConnLimit{Max: 2, Name: "placement", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Busy: PlacementAnswers})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	addr := ln.Addr().String()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	wait := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(2 * time.Second):
			t.Fatal("a connection under the cap was not accepted")
			return nil
		}
	}
	dial()
	first := wait()
	dial()
	wait()
	if got := Open(ln); got != 2 {
		t.Errorf("Open = %d, want 2", got)
	}

	for i := range 3 {
		c := dial()
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("refused connection %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var env struct {
			Errors []struct {
				Status int
				Detail string
			}
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
			json.Unmarshal(body, &env) != nil || len(env.Errors) != 1 || env.Errors[0].Status != 503 ||
			!strings.Contains(env.Errors[0].Detail, "limit of 2 connections") {
			t.Errorf("refused connection %d: %s %v %s", i, resp.Status, resp.Header, body)
		}
	}
	select {
	case c := <-accepted:
		t.Fatalf("a connection over the cap was accepted: %v", c.RemoteAddr())
	default:
	}
	if n := strings.Count(logs.String(), "connection limit reached"); n != 1 {
		t.Errorf("%d log lines for 3 refusals, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "listener=placement max_connections=2 refused=1") {
		t.Errorf("log line: %s", logs.String())
	}

	first.Close()
	first.Close() // a second close must not free a second slot
	dial()
	wait()
	if got := Open(ln); got != 2 {
		t.Errorf("Open = %d after a close and a new connection, want 2", got)
	}
}

func TestDefaultMaxConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    FileBudget
		want int
		err  bool
	}{
		{"1024 files, two listeners, SQLite", FileBudget{Limit: 1024, Listeners: 2, Store: 27}, (1024 - 64 - 27 - 2*Refusing) / 2, false},
		{"1024 files, one listener, PostgreSQL", FileBudget{Limit: 1024, Listeners: 1, Store: 20}, 1024 - 64 - 20 - Refusing, false},
		{"a large limit", FileBudget{Limit: 1 << 20, Listeners: 2, Store: 27}, MaxConnectionsCeiling, false},
		{"no room", FileBudget{Limit: 100, Listeners: 2, Store: 27}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, limit, err := DefaultMaxConnections(tc.b)
			if (err != nil) != tc.err || got != tc.want || limit != tc.b.Limit {
				t.Errorf("= %d, %d, %v; want %d (error: %v)", got, limit, err, tc.want, tc.err)
			}
			if err == nil && tc.b.Listeners*(got+Refusing)+tc.b.Store+fixedFiles > tc.b.Limit {
				t.Errorf("%d per listener exceeds the limit", got)
			}
		})
	}
	// The process's own limit: Go raised the soft limit to the hard one.
	if got, limit, err := DefaultMaxConnections(FileBudget{Listeners: 2, Store: 27}); err != nil || got < 1 || limit < 256 {
		t.Errorf("from the process's limit: %d, %d, %v", got, limit, err)
	}
}
