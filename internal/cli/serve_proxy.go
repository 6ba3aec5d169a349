package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"allot/internal/api"
)

// trustedProxies reads --trusted-proxies and warns, for each API served on
// an address other clients can reach, when its links and Location headers
// follow each request's Host header because neither its public URL nor a
// trusted proxy is configured.
func trustedProxies(cfg ServeConfig, logger *slog.Logger) (api.TrustedProxies, error) {
	proxies, err := api.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if len(proxies) > 0 {
		return proxies, nil
	}
	for _, l := range []struct{ name, listen, public, flag string }{
		{"placement", cfg.PlacementListen, cfg.PublicPlacementURL, "--public-placement-url"},
		{"baremetal", cfg.BaremetalListen, cfg.PublicBaremetalURL, "--public-baremetal-url"},
	} {
		if l.listen == "" || l.public != "" || loopbackOnly(l.listen) {
			continue
		}
		logger.Warn("links and Location headers are built from each request's Host header; set "+l.flag+
			" (and --trusted-proxies for a reverse proxy's X-Forwarded-Proto/X-Forwarded-Host) so that clients cannot choose them",
			"api", l.name, "listen", l.listen)
	}
	return nil, nil
}

// loopbackOnly reports whether a listen address accepts connections from
// this host only (a loopback address or localhost).
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
