package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the addresses of the reverse proxies whose
// X-Forwarded-Proto, X-Forwarded-Host and Forwarded headers are honoured:
// from any other client those headers are ignored, as anyone can send them.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads addresses and CIDR ranges (10.0.0.5,
// 10.0.0.0/24, fd00::/8).
func ParseTrustedProxies(items []string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or a CIDR range (e.g. 10.0.0.0/24): %w", item, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or a CIDR range (e.g. 10.0.0.5): %w", item, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Trusts reports whether the peer of a connection (a RemoteAddr, host:port)
// is a trusted proxy.
func (t TrustedProxies) Trusts(remoteAddr string) bool {
	if len(t) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Origin builds the scheme and host of absolute links and Location headers.
//
// With a public URL, links use it and nothing of the request. Without one,
// they use the request's scheme and host, as Placement does (WSGI's
// HTTP_HOST), under these rules:
//   - the scheme is https on a TLS connection, http otherwise;
//   - from a trusted proxy only, the first entry of Forwarded (proto=,
//     host=) or else X-Forwarded-Proto and X-Forwarded-Host replace them
//     (oslo.middleware's HTTPProxyToWSGI reads the same headers, but from
//     anyone once enabled);
//   - a host is used only when it is a syntactically valid host[:port] (a
//     DNS name, an IPv4 address or a bracketed IPv6 address, and digits
//     for the port); otherwise, and when the request names none (HTTP/1.0),
//     the address of the listener that accepted the connection is used.
type Origin struct {
	// Public is the configured external URL ("" for none).
	Public  string
	Proxies TrustedProxies
}

// Base returns scheme://host (or the public URL) without a trailing slash;
// under a Mount, scheme://host and the mount's prefix.
func (o Origin) Base(r *http.Request) string {
	if o.Public != "" {
		return strings.TrimSuffix(o.Public, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if o.Proxies.Trusts(r.RemoteAddr) {
		proto, fwdHost := forwarded(r.Header)
		if proto == "http" || proto == "https" {
			scheme = proto
		}
		if fwdHost != "" && validHostPort(fwdHost) {
			host = fwdHost
		}
	}
	if !validHostPort(host) {
		host = listenerHost(r)
	}
	return scheme + "://" + host + mountedAt(r)
}

// forwarded returns the protocol and host a proxy says the client used:
// the first entry of Forwarded (RFC 7239), else the first values of
// X-Forwarded-Proto and X-Forwarded-Host.
func forwarded(h http.Header) (proto, host string) {
	if f := h.Get("Forwarded"); f != "" {
		first, _, _ := strings.Cut(f, ",")
		for _, pair := range strings.Split(first, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "proto":
				proto = strings.ToLower(v)
			case "host":
				host = v
			}
		}
		return proto, host
	}
	first := func(name string) string {
		v, _, _ := strings.Cut(h.Get(name), ",")
		return strings.TrimSpace(v)
	}
	return strings.ToLower(first("X-Forwarded-Proto")), first("X-Forwarded-Host")
}

// validHostPort reports whether s is a host[:port] fit for a URL: a DNS
// name, an IPv4 address or a bracketed IPv6 address, and an optional port
// of digits.
func validHostPort(s string) bool {
	if s == "" || len(s) > 261 {
		return false
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		rest := s[end+1:]
		if rest == "" {
			return true
		}
		if rest[0] != ':' {
			return false
		}
		return validPort(rest[1:])
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if !validPort(port) {
			return false
		}
	}
	return validDNSName(host)
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// validDNSName accepts letters, digits, hyphens and underscores in
// dot-separated labels (an IPv4 address is such a name).
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// listenerHost is the address of the listener that accepted the request's
// connection (its local address), for requests whose host cannot be used.
func listenerHost(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()).String()
		}
		return a.String()
	}
	return "localhost"
}
