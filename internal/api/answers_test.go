package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"allot/internal/api"
	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/baremetal"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// listener is one API served the way allot serve serves it: a real TCP
// listener on loopback wrapped by FixMalformedRequests, under a plain
// http.Server.
type listener struct {
	name string
	addr string
	// envelope returns the error message of an answer in the API's
	// format, or fails.
	envelope func(t *testing.T, status int, body []byte) string
}

// startBoth serves both APIs over one SQLite store.
func startBoth(t *testing.T) []listener {
	t.Helper()
	return startBothWith(t, placementapi.Options{}, baremetalapi.Options{})
}

// startBothWith serves both APIs with the options given.
func startBothWith(t *testing.T, popts placementapi.Options, bopts baremetalapi.Options) []listener {
	t.Helper()
	st := testserver.OpenStore(t, "sqlite")
	psvc := placement.New(st, placement.Options{Logger: testserver.Quiet})
	bsvc := baremetal.New(psvc, baremetal.Options{Logger: testserver.Quiet, Workers: -1})
	popts.Logger, bopts.Logger = testserver.Quiet, testserver.Quiet
	ph := placementapi.New(psvc, popts).Handler()
	bh := baremetalapi.New(bsvc, bopts).Handler()
	return []listener{
		{"placement", serveRaw(t, ph, api.PlacementAnswers), placementMessage},
		{"baremetal", serveRaw(t, bh, api.IronicAnswers), ironicMessage},
	}
}

func serveRaw(t *testing.T, h http.Handler, answers api.Answerer) string {
	t.Helper()
	ln, err := api.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go srv.Serve(api.FixMalformedRequests(ln, answers))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func placementMessage(t *testing.T, status int, body []byte) string {
	t.Helper()
	var doc struct {
		Errors []struct {
			Status    int    `json:"status"`
			Title     string `json:"title"`
			Detail    string `json:"detail"`
			RequestID string `json:"request_id"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Errors) != 1 {
		t.Fatalf("not Placement's envelope: %q", body)
	}
	e := doc.Errors[0]
	if e.Status != status || e.Title != http.StatusText(status) || !strings.HasPrefix(e.RequestID, "req-") {
		t.Errorf("envelope %+v for status %d", e, status)
	}
	return e.Detail
}

func ironicMessage(t *testing.T, status int, body []byte) string {
	t.Helper()
	var outer struct {
		ErrorMessage string `json:"error_message"`
	}
	if err := json.Unmarshal(body, &outer); err != nil || outer.ErrorMessage == "" {
		t.Fatalf("not Ironic's envelope: %q", body)
	}
	var inner struct {
		Faultcode   string `json:"faultcode"`
		Faultstring string `json:"faultstring"`
	}
	if err := json.Unmarshal([]byte(outer.ErrorMessage), &inner); err != nil || inner.Faultstring == "" {
		t.Fatalf("not Ironic's error_message: %q", outer.ErrorMessage)
	}
	want := "Client"
	if status >= 500 {
		want = "Server"
	}
	if inner.Faultcode != want {
		t.Errorf("faultcode %q for status %d", inner.Faultcode, status)
	}
	return inner.Faultstring
}

// roundTrip writes a raw request and reads one answer.
func roundTrip(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(c, raw) // a large request may be refused before it is all written
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.60q: %v", raw, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%.60q: body: %v", raw, err)
	}
	return resp, body
}

// Every answer net/http would write by itself (before any handler runs, or
// in ServeMux) is in the API's format, on both listeners, with a message
// that says what was wrong; non-canonical paths are the API's 404, never a
// redirect. The messages of the answers net/http writes by itself come
// from its status line alone (the wrapper keeps nothing the client sent):
// they name the rule broken, not the offending value.
func TestNetHTTPAnswersInAPIFormat(t *testing.T) {
	big := strings.Repeat("a", http.DefaultMaxHeaderBytes+8192)
	cases := []struct {
		name      string
		raw       map[string]string // by API; "" key for both
		status    int
		wantInMsg string
	}{
		{"transfer-encoding gzip", map[string]string{"": "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n"},
			501, "Transfer-Encoding is not supported: only chunked is; send the body uncompressed"},
		{"transfer-encoding gzip, chunked", map[string]string{"": "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
			501, "Transfer-Encoding is not supported: only chunked is"},
		{"headers over the limit", map[string]string{"": "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\n\r\n"},
			431, "the request headers are larger than the limit of 1048576 bytes"},
		{"request line over the limit", map[string]string{"": "GET /" + big + " HTTP/1.1\r\nHost: h\r\n\r\n"},
			431, "larger than the limit of 1048576 bytes"},
		{"asterisk", map[string]string{"": "GET * HTTP/1.1\r\nHost: h\r\nX-Auth-Token: admin\r\n\r\n"}, 400, "the request target \"*\" is not a path"},
		{"connect", map[string]string{"": "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Auth-Token: admin\r\n\r\n"}, 400, "is not a path"},
		// The preface carries no token: Placement asks for one first.
		{"h2 preface without h2c", map[string]string{"placement": "-", "baremetal": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, 400, "the request target \"*\" is not a path"},
		{"connect to a path", map[string]string{"": "CONNECT / HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n"}, 405, "The method CONNECT is not allowed"},
		{"no host", map[string]string{"": "GET / HTTP/1.1\r\n\r\n"}, 400, "the Host header is missing"},
		{"malformed host", map[string]string{"": "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"}, 400, "the Host header is not a valid host[:port]"},
		{"two hosts", map[string]string{"": "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}, 400, "there must be one Host header"},
		{"bad header name", map[string]string{"": "GET / HTTP/1.1\r\nHost: a\r\nBad{Name: x\r\n\r\n"}, 400, "with a name of letters, digits and"},
		{"control character in a value", map[string]string{"": "GET / HTTP/1.1\r\nHost: a\r\nX-Thing: a\x01b\r\n\r\n"}, 400, "no control character in the value"},
		{"header without colon", map[string]string{"": "GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n"}, 400, "each header line must be NAME: VALUE"},
		{"content-length not an integer", map[string]string{"": "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: hi mom\r\n\r\n"}, 400, "content-length header must be an integer"},
		{"two content-lengths", map[string]string{"": "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}, 400, "the same in every Content-Length header"},
		{"malformed request line", map[string]string{"": "GET /\r\nHost: a\r\n\r\n"}, 400, "the request line must be METHOD PATH HTTP/1.1"},
		{"bad method", map[string]string{"": "G{T / HTTP/1.1\r\nHost: a\r\n\r\n"}, 400, "with a valid method"},
		{"bad version", map[string]string{"": "GET / HTTP/x\r\nHost: a\r\n\r\n"}, 400, "the request line must be METHOD PATH HTTP/1.1"},
		{"http/2 without upgrade", map[string]string{"": "GET / HTTP/2.0\r\nHost: a\r\n\r\n"}, 505, "HTTP version is not supported; use HTTP/1.1"},
		{"bad target", map[string]string{"": "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"}, 400, "a percent-encoded path"},
		{"expect", map[string]string{"": "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"}, 417, "Expect header is not supported; send Expect: 100-continue or no Expect header"},
		{"double slash host", map[string]string{"": "GET //evil.com/%2e%2e HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n"}, 404, "The resource could not be found"},
		{"dot dot", map[string]string{
			"placement": "GET /resource_providers/../traits HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
			"baremetal": "GET /v1/nodes/../allocations HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
		}, 404, "has an empty, . or .. segment"},
		{"empty segment", map[string]string{
			"placement": "GET /resource_providers//traits HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
			"baremetal": "GET /v1/nodes//x HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
		}, 404, "has an empty, . or .. segment"},
		{"dot", map[string]string{
			"placement": "GET /./traits HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
			"baremetal": "GET /v1/./nodes HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n",
		}, 404, "has an empty, . or .. segment"},
	}
	for _, l := range startBoth(t) {
		for _, tc := range cases {
			t.Run(l.name+"/"+tc.name, func(t *testing.T) {
				raw, ok := tc.raw[l.name]
				if !ok {
					raw = tc.raw[""]
				}
				if raw == "-" {
					return // not for this API
				}
				resp, body := roundTrip(t, l.addr, raw)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Errorf("Location %q", loc)
				}
				if resp.Header.Get("X-Openstack-Request-Id") == "" {
					t.Error("no request id")
				}
				if msg := l.envelope(t, tc.status, body); !strings.Contains(msg, tc.wantInMsg) {
					t.Errorf("message %q does not say %q", msg, tc.wantInMsg)
				}
			})
		}
	}
}

// A request that only differs from a canonical one by its encoding is
// routed, not redirected: %2e%2e is a name, not a parent segment.
func TestEncodedDotsAreNotRedirected(t *testing.T) {
	for _, l := range startBoth(t) {
		resp, body := roundTrip(t, l.addr, "GET /traits/%2e%2e HTTP/1.1\r\nHost: a\r\nX-Auth-Token: admin\r\n\r\n")
		if resp.StatusCode/100 == 3 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %v %s", l.name, resp.StatusCode, resp.Header, body)
		}
	}
}

// Expect: 100-continue still works through the wrapped connection: the
// interim 100 and the final answer pass untouched.
func TestExpectContinuePassesThrough(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	for _, l := range startBoth(t) {
		path, body := "/resource_classes", `{"name": "CUSTOM_EXPECTED"}`
		if l.name == "baremetal" {
			path, body = "/v1/nodes", `{"driver": "fake-hardware"}`
		}
		req, _ := http.NewRequest("POST", "http://"+l.addr+path, strings.NewReader(body))
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.2")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: %d %s", l.name, resp.StatusCode, b)
		}
	}
}

// A refusal before routing is logged (no handler runs, so the request log
// has no line for it) with the request id its answer carries.
func TestRefusalsAreLogged(t *testing.T) {
	var buf api.SyncBuffer
	ln, err := api.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(api.FixMalformedRequestsWith(ln, api.Refusals{Answers: api.IronicAnswers, Name: "baremetal",
		Logger: slog.New(slog.NewTextHandler(&buf, nil))}))
	t.Cleanup(func() { srv.Close() })
	resp, _ := roundTrip(t, ln.Addr().String(), "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n")
	id := resp.Header.Get("Openstack-Request-Id")
	if id == "" || resp.Header.Get("X-Openstack-Request-Id") != id {
		t.Fatalf("request id headers: %v", resp.Header)
	}
	line := buf.String()
	for _, want := range []string{"request refused before routing", "request_id=" + id, "api=baremetal", "status=501", "Transfer-Encoding is not supported"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}
