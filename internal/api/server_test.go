package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"allot/internal/model"
)

// gateHandler is a log handler that holds every record until the test
// opens its gate (or a deadline passes), and tells whether it was opened.
type gateHandler struct {
	gate   chan struct{}
	opened chan bool
}

func (g *gateHandler) Enabled(context.Context, slog.Level) bool { return true }
func (g *gateHandler) WithAttrs([]slog.Attr) slog.Handler       { return g }
func (g *gateHandler) WithGroup(string) slog.Handler            { return g }
func (g *gateHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	select {
	case <-g.gate:
		g.opened <- true
	case <-time.After(5 * time.Second):
		g.opened <- false
	}
	return nil
}

// TestAnswerBeforeAccessLog: a client has the whole answer of known length
// before the server writes the request's log line, so logging adds nothing
// to its wait; an answer of unknown length keeps net/http's framing.
func TestAnswerBeforeAccessLog(t *testing.T) {
	body := []byte(`{"ok": true}`)
	cases := []struct {
		name        string
		knownLength bool
	}{
		{"content length", true},
		{"unknown length", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateHandler{gate: make(chan struct{}), opened: make(chan bool, 1)}
			svc := &Service{
				Name: "test",
				Versions: Versions{Service: "test", Min: model.V(1, 0), Max: model.V(1, 0), Default: model.V(1, 0),
					Echo: func(http.Header, model.Version) {}},
				Errors: PlacementErrors{MinVersion: model.V(1, 0), MaxVersion: model.V(1, 0)},
				Logger: slog.New(g),
				Routes: []Route{{Method: "GET", Pattern: "/x", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) error {
					if tc.knownLength {
						w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					}
					_, err := w.Write(body)
					return err
				}}},
			}
			srv := httptest.NewServer(svc.Handler())
			defer srv.Close()
			if !tc.knownLength {
				close(g.gate)
			}
			res, err := http.Get(srv.URL + "/x")
			if tc.knownLength {
				// The log handler holds the request open: the answer must
				// arrive anyway.
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || string(got) != string(body) {
					t.Fatalf("body %q, %v", got, err)
				}
				if len(res.TransferEncoding) != 0 || res.ContentLength != int64(len(body)) {
					t.Errorf("framing: transfer encoding %v, length %d", res.TransferEncoding, res.ContentLength)
				}
				close(g.gate)
				if !<-g.opened {
					t.Fatal("the log line was written before the client had its answer")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(got) != string(body) || len(res.TransferEncoding) != 0 {
				t.Errorf("body %q, transfer encoding %v", got, res.TransferEncoding)
			}
			<-g.opened
		})
	}
}
