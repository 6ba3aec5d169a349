package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"allot/internal/auth"
)

// --trusted-proxies comes, like every setting, from the flag, ALLOT_ and
// the [allot] section; a value that is no address or CIDR range is a usage
// error before the store is touched.
func TestServeTrustedProxiesSetting(t *testing.T) {
	conf := writeConf(t, "[allot]\ntrusted_proxies = 10.0.0.0/8, 192.168.0.1\n")
	cfg, _, err := resolveArgs(t, "--config-file", conf)
	if err != nil || !reflect.DeepEqual(cfg.TrustedProxies, []string{"10.0.0.0/8", "192.168.0.1"}) {
		t.Errorf("[allot] trusted_proxies: %v, %q", err, cfg.TrustedProxies)
	}
	t.Setenv("ALLOT_TRUSTED_PROXIES", "fd00::/8")
	if cfg, _, err = resolveArgs(t, "--config-file", conf); err != nil || !reflect.DeepEqual(cfg.TrustedProxies, []string{"fd00::/8"}) {
		t.Errorf("ALLOT_TRUSTED_PROXIES: %v, %q", err, cfg.TrustedProxies)
	}
	if cfg, _, err = resolveArgs(t, "--trusted-proxies", "127.0.0.1"); err != nil || !reflect.DeepEqual(cfg.TrustedProxies, []string{"127.0.0.1"}) {
		t.Errorf("--trusted-proxies: %v, %q", err, cfg.TrustedProxies)
	}

	db := filepath.Join(t.TempDir(), "never.db")
	r := runCLI(t, "", "serve", "--trusted-proxies", "10.0.0.0/8,proxy.example", "--db", "sqlite:"+db)
	if r.code != ExitUsage || !strings.Contains(r.stderr, `--trusted-proxies: trusted proxy "proxy.example"`) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the store was created anyway")
	}
}

// Serving an API on an address other hosts reach, with neither its public
// URL nor trusted proxies, is warned about at start (once per API); on
// loopback, or with either setting, it is not.
func TestServeWarnsWhenHostBuildsLinks(t *testing.T) {
	cases := []struct {
		name string
		cfg  ServeConfig
		want []string // APIs warned about
	}{
		{"loopback", ServeConfig{PlacementListen: "127.0.0.1:8778", BaremetalListen: "localhost:6385"}, nil},
		{"ipv6 loopback", ServeConfig{PlacementListen: "[::1]:8778"}, nil},
		{"all interfaces", ServeConfig{PlacementListen: ":8778", BaremetalListen: "0.0.0.0:6385"}, []string{"placement", "baremetal"}},
		{"one public url", ServeConfig{PlacementListen: ":8778", BaremetalListen: "10.0.0.1:6385", PublicPlacementURL: "https://cloud.example"}, []string{"baremetal"}},
		{"trusted proxies", ServeConfig{PlacementListen: ":8778", BaremetalListen: ":6385", TrustedProxies: []string{"10.0.0.2"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := trustedProxies(tc.cfg, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if _, rest, ok := strings.Cut(line, "api="); ok {
					got = append(got, strings.Fields(rest)[0])
					if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "Host header") {
						t.Errorf("line %q", line)
					}
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warned about %v, want %v:\n%s", got, tc.want, buf.String())
			}
		})
	}
}

// allot serve wires both listeners: net/http's own refusals are answered
// in each API's format, and X-Forwarded-* build links only from the
// configured trusted proxies.
func TestServeAnswersAndProxies(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		cfg := ServeConfig{PlacementListen: "127.0.0.1:0", BaremetalListen: "127.0.0.1:0", DB: "sqlite:" + filepath.Join(t.TempDir(), "allot.db"),
			PlacementAuth: auth.NoAuth2, BaremetalAuth: auth.NoAuth, AllocationWorkers: -1}
		if trusted {
			cfg.TrustedProxies = []string{"127.0.0.0/8"}
		}
		ctx, cancel := context.WithCancel(context.Background())
		bound := make(chan Listening, 1)
		done := make(chan error, 1)
		go func() {
			done <- Serve(ctx, cfg, slog.New(slog.DiscardHandler), func(l Listening) { bound <- l })
		}()
		var l Listening
		select {
		case l = <-bound:
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not start")
		}
		for _, addr := range []string{l.Placement, l.Baremetal} {
			resp, body := rawRoundTrip(t, addr, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n")
			if resp.StatusCode != http.StatusNotImplemented || resp.Header.Get("Content-Type") != "application/json" ||
				!bytes.Contains(body, []byte("Transfer-Encoding is not supported: only chunked is; send the body uncompressed")) {
				t.Errorf("%s: %d %v %s", addr, resp.StatusCode, resp.Header, body)
			}
			if addr == l.Placement && !bytes.HasPrefix(body, []byte(`{"errors":[`)) || addr == l.Baremetal && !bytes.HasPrefix(body, []byte(`{"error_message":`)) {
				t.Errorf("%s: not the API's envelope: %s", addr, body)
			}
		}
		resp, body := rawRoundTrip(t, l.Baremetal, "GET / HTTP/1.1\r\nHost: backend:6385\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: cloud.example\r\n\r\n")
		var doc struct {
			Default struct {
				Links []struct{ Href string } `json:"links"`
			} `json:"default_version"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || len(doc.Default.Links) != 1 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		want := "http://backend:6385/v1/"
		if trusted {
			want = "https://cloud.example/v1/"
		}
		if got := doc.Default.Links[0].Href; got != want {
			t.Errorf("trusted %v: link %q, want %q", trusted, got, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// rawRoundTrip writes a raw request and reads one answer.
func rawRoundTrip(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
