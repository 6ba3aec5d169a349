package api_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"allot/internal/api"
	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
)

func TestParseTrustedProxies(t *testing.T) {
	p, err := api.ParseTrustedProxies([]string{"10.0.0.0/8", " 192.168.1.5 ", "", "fd00::/8", "::ffff:172.16.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.1.2.3:5000":         true,
		"192.168.1.5:1":         true,
		"192.168.1.6:1":         false,
		"[fd00::1]:80":          true,
		"[::ffff:10.0.0.1]:80":  true,
		"172.16.0.1:9":          true,
		"127.0.0.1:80":          false,
		"not an address":        false,
		"[fe80::1%eth0]:80":     false,
		"[::ffff:192.168.1.5]:": false,
	} {
		if got := p.Trusts(addr); got != want {
			t.Errorf("Trusts(%q) = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/x"} {
		if _, err := api.ParseTrustedProxies([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Origin's rules, one request at a time.
func TestOriginBase(t *testing.T) {
	trusted, _ := api.ParseTrustedProxies([]string{"10.0.0.0/8"})
	local := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8778}
	cases := []struct {
		name    string
		origin  api.Origin
		remote  string
		host    string
		tls     bool
		headers map[string]string
		want    string
	}{
		{"request host", api.Origin{}, "198.51.100.1:1", "placement.example:8778", false, nil, "http://placement.example:8778"},
		{"tls", api.Origin{}, "198.51.100.1:1", "placement.example", true, nil, "https://placement.example"},
		{"ipv6 host", api.Origin{}, "198.51.100.1:1", "[2001:db8::1]:8778", false, nil, "http://[2001:db8::1]:8778"},
		{"public url wins", api.Origin{Public: "https://cloud.example/placement/", Proxies: trusted}, "10.0.0.1:1", "evil.example",
			false, map[string]string{"X-Forwarded-Host": "evil2.example", "X-Forwarded-Proto": "http"}, "https://cloud.example/placement"},
		{"forwarded proto from anyone is ignored", api.Origin{}, "198.51.100.1:1", "h.example", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "Forwarded": "proto=https;host=evil.example"}, "http://h.example"},
		{"x-forwarded from a trusted proxy", api.Origin{Proxies: trusted}, "10.1.1.1:1", "backend:8778", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cloud.example, backend"}, "https://cloud.example"},
		{"forwarded from a trusted proxy wins over x-forwarded", api.Origin{Proxies: trusted}, "10.1.1.1:1", "backend:8778", false,
			map[string]string{"Forwarded": `for=198.51.100.1;proto=https;host="cloud.example:443", for=10.0.0.2`, "X-Forwarded-Host": "other.example"}, "https://cloud.example:443"},
		{"forwarded proto only", api.Origin{Proxies: trusted}, "10.1.1.1:1", "backend:8778", false,
			map[string]string{"X-Forwarded-Proto": "HTTPS"}, "https://backend:8778"},
		{"invalid forwarded values are ignored", api.Origin{Proxies: trusted}, "10.1.1.1:1", "backend", false,
			map[string]string{"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "a@evil.example"}, "http://backend"},
		{"host with userinfo falls back to the listener", api.Origin{}, "198.51.100.1:1", "user@evil.example", false, nil, "http://192.0.2.7:8778"},
		{"host with a path falls back to the listener", api.Origin{}, "198.51.100.1:1", "evil.example/x", false, nil, "http://192.0.2.7:8778"},
		{"no host (HTTP/1.0) falls back to the listener", api.Origin{}, "198.51.100.1:1", "", false, nil, "http://192.0.2.7:8778"},
		{"bad port falls back to the listener", api.Origin{}, "198.51.100.1:1", "h.example:80x", false, nil, "http://192.0.2.7:8778"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
			r.RemoteAddr, r.Host = tc.remote, tc.host
			if !tc.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := tc.origin.Base(r); got != tc.want {
				t.Errorf("Base = %q, want %q", got, tc.want)
			}
		})
	}
}

// Over real listeners: Location headers (Placement) and links (Ironic)
// follow the public URL when one is set, whatever the request says; the
// request's host otherwise; X-Forwarded-* only from a trusted proxy; a
// Host that is no host[:port] is replaced by the listener's address.
func TestLinksAndLocationsOverLoopback(t *testing.T) {
	loopback, _ := api.ParseTrustedProxies([]string{"127.0.0.0/8"})
	type setup struct {
		name  string
		popts placementapi.Options
		bopts baremetalapi.Options
	}
	setups := []setup{
		{"plain", placementapi.Options{}, baremetalapi.Options{}},
		{"public", placementapi.Options{PublicURL: "https://cloud.example/placement"}, baremetalapi.Options{PublicURL: "https://cloud.example/baremetal"}},
		{"trusted loopback", placementapi.Options{TrustedProxies: loopback}, baremetalapi.Options{TrustedProxies: loopback}},
	}
	const forwarded = "X-Forwarded-Proto: https\r\nX-Forwarded-Host: cloud.example\r\n"
	for _, s := range setups {
		ls := startBothWith(t, s.popts, s.bopts)
		for _, tc := range []struct {
			host, extra string
			want        map[string]string // setup name -> base
		}{
			{"evil.example", forwarded, map[string]string{"plain": "http://evil.example", "public": "https://cloud.example/", "trusted loopback": "https://cloud.example"}},
			{"api.example:8778", "", map[string]string{"plain": "http://api.example:8778", "public": "https://cloud.example/", "trusted loopback": "http://api.example:8778"}},
			{"evil.example;x=(1)", "", map[string]string{"plain": "http://127.0.0.1:", "public": "https://cloud.example/", "trusted loopback": "http://127.0.0.1:"}},
		} {
			want := tc.want[s.name]
			for _, l := range ls {
				var got string
				if l.name == "placement" {
					raw := "PUT /traits/CUSTOM_T" + strings.ToUpper(regexp.MustCompile(`\W`).ReplaceAllString(tc.host, "_")) +
						" HTTP/1.1\r\nHost: " + tc.host + "\r\nX-Auth-Token: admin\r\nOpenStack-API-Version: placement 1.6\r\n" + tc.extra + "\r\n"
					resp, body := roundTrip(t, l.addr, raw)
					if resp.StatusCode != http.StatusCreated {
						t.Fatalf("%s %s: %d %s", s.name, tc.host, resp.StatusCode, body)
					}
					got = resp.Header.Get("Location")
				} else {
					raw := "GET / HTTP/1.1\r\nHost: " + tc.host + "\r\n" + tc.extra + "\r\n"
					resp, body := roundTrip(t, l.addr, raw)
					var doc struct {
						Default struct {
							Links []struct{ Href string } `json:"links"`
						} `json:"default_version"`
					}
					if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || len(doc.Default.Links) != 1 {
						t.Fatalf("%s %s: %d %s", s.name, tc.host, resp.StatusCode, body)
					}
					got = doc.Default.Links[0].Href
				}
				if !strings.HasPrefix(got, want) {
					t.Errorf("%s/%s Host %s: link %q, want it to start with %q", s.name, l.name, tc.host, got, want)
				}
			}
		}
	}
}
