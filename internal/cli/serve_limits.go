package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"allot/internal/api"
)

// ServeLimits bound each connection of both listeners, so that slow or
// abusive clients cannot hold the server's descriptors and memory. A zero
// field takes its default (see defaultLimits); a negative one turns that
// limit off.
type ServeLimits struct {
	// MaxConnections caps the connections open at once on each listener
	// (0: derived from the open-file limit, see api.DefaultMaxConnections).
	MaxConnections int
	// ReadHeaderTimeout bounds the arrival of a request's headers, from
	// its first byte.
	ReadHeaderTimeout time.Duration
	// BodyTimeout and WriteTimeout are the graces of the request body and
	// of the answer, MinTransferRate (bytes/s) the pace expected of larger
	// transfers beyond them (see api.Deadlines).
	BodyTimeout     time.Duration
	WriteTimeout    time.Duration
	MinTransferRate int
	// IdleTimeout closes keep-alive connections left idle.
	IdleTimeout time.Duration
}

// defaultLimits are the flags' defaults. The header and idle timeouts are
// net/http's usual ones for a service; the body and write graces are half
// the request timeout; 256 KiB/s lets the grace cover the size of any
// usual answer (a 5 MB candidates list needs a client reading at 100 KB/s:
// 30 s + 20 s) while a client that never reads holds its answer for
// under a minute.
var defaultLimits = ServeLimits{
	ReadHeaderTimeout: 30 * time.Second,
	BodyTimeout:       30 * time.Second,
	WriteTimeout:      30 * time.Second,
	MinTransferRate:   256 << 10,
	IdleTimeout:       idleTimeout,
}

// limitOr is v, def when v is zero, and 0 (off) when v is negative.
func limitOr[T int | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// resolve fills the defaults; listeners is the number of APIs served and
// storeFiles the store's most open files, for the connection cap.
func (l ServeLimits) resolve(listeners, storeFiles int, logger *slog.Logger) (ServeLimits, error) {
	d := defaultLimits
	r := ServeLimits{
		MaxConnections:    l.MaxConnections,
		ReadHeaderTimeout: limitOr(l.ReadHeaderTimeout, d.ReadHeaderTimeout),
		BodyTimeout:       limitOr(l.BodyTimeout, d.BodyTimeout),
		WriteTimeout:      limitOr(l.WriteTimeout, d.WriteTimeout),
		MinTransferRate:   limitOr(l.MinTransferRate, d.MinTransferRate),
		IdleTimeout:       limitOr(l.IdleTimeout, d.IdleTimeout),
	}
	auto, limit, err := api.DefaultMaxConnections(api.FileBudget{Listeners: listeners, Store: storeFiles})
	switch {
	case r.MaxConnections < 0:
		r.MaxConnections = 0
	case r.MaxConnections > 0 && err == nil && r.MaxConnections > auto:
		logger.Warn("--max-connections exceeds what the open-file limit allows: at their caps the listeners may run out of descriptors",
			"max_connections", r.MaxConnections, "open_file_limit", limit, "fits", auto)
	case r.MaxConnections == 0 && err != nil:
		return r, fmt.Errorf("--max-connections: %w; raise the limit (ulimit -n) or set a cap", err)
	case r.MaxConnections == 0:
		r.MaxConnections = auto
	}
	logger.Info("connection limits", "max_connections", r.MaxConnections, "open_file_limit", limit,
		"read_header_timeout", r.ReadHeaderTimeout.String(), "body_timeout", r.BodyTimeout.String(),
		"write_timeout", r.WriteTimeout.String(), "min_transfer_rate", r.MinTransferRate, "idle_timeout", r.IdleTimeout.String())
	return r, nil
}

// storeFiles estimates the store's open files: PostgreSQL's pool, or
// SQLite's nine connections with their database, journal and shared
// memory files.
func storeFiles(cfg ServeConfig) int {
	return max(cfg.DBMaxConns, 9*3)
}

// listener caps ln's connections; name and busy name the API and render
// its 503.
func (l ServeLimits) listener(ln net.Listener, name string, busy api.Answerer, logger *slog.Logger) net.Listener {
	return api.LimitConnections(ln, api.ConnLimit{Max: l.MaxConnections, Name: name, Logger: logger, Busy: busy})
}

// server builds the http.Server of one API with the deadlines.
func (l ServeLimits) server(h http.Handler, logger *slog.Logger) *http.Server {
	d := api.Deadlines{Body: l.BodyTimeout, Write: l.WriteTimeout, MinRate: int64(l.MinTransferRate)}
	return &http.Server{Handler: d.Handler(h), ReadHeaderTimeout: l.ReadHeaderTimeout, IdleTimeout: l.IdleTimeout,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
