package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The limits come from flags, ALLOT_ variables and [allot] keys like every
// setting.
func TestServeLimitsSettings(t *testing.T) {
	conf := writeConf(t, "[allot]\nmax_connections = 7\nbody_timeout = 2s\nmin_transfer_rate = 1000\n")
	t.Setenv("ALLOT_WRITE_TIMEOUT", "3s")
	t.Setenv("ALLOT_MAX_CONNECTIONS", "8")
	cfg, _, err := resolveArgs(t, "--config-file", conf, "--idle-timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	want := ServeLimits{MaxConnections: 8, ReadHeaderTimeout: 30 * time.Second, BodyTimeout: 2 * time.Second,
		WriteTimeout: 3 * time.Second, MinTransferRate: 1000, IdleTimeout: 5 * time.Second}
	if cfg.Limits != want {
		t.Errorf("limits %+v, want %+v", cfg.Limits, want)
	}
}

// resolve fills zero values with the defaults, turns negative ones off,
// derives the cap from the open-file limit and warns about a cap above it.
func TestServeLimitsResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   ServeLimits
		want func(ServeLimits) bool
		log  string
	}{
		{"zero: defaults and a derived cap", ServeLimits{}, func(l ServeLimits) bool {
			return l.MaxConnections >= 1 && l.MaxConnections <= 10000 && l.BodyTimeout == 30*time.Second &&
				l.WriteTimeout == 30*time.Second && l.MinTransferRate == 256<<10 && l.IdleTimeout == 2*time.Minute
		}, "connection limits"},
		{"negative: off", ServeLimits{MaxConnections: -1, BodyTimeout: -1, WriteTimeout: -1, MinTransferRate: -1, IdleTimeout: -1, ReadHeaderTimeout: -1},
			func(l ServeLimits) bool { return l == ServeLimits{} }, "max_connections=0"},
		{"explicit", ServeLimits{MaxConnections: 20, BodyTimeout: time.Second}, func(l ServeLimits) bool {
			return l.MaxConnections == 20 && l.BodyTimeout == time.Second
		}, "max_connections=20"},
		{"above the file limit", ServeLimits{MaxConnections: 1 << 30}, func(l ServeLimits) bool { return l.MaxConnections == 1<<30 },
			"--max-connections exceeds what the open-file limit allows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			got, err := tc.in.resolve(2, 27, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil || !tc.want(got) || !strings.Contains(logs.String(), tc.log) {
				t.Errorf("resolve = %+v, %v; log %q", got, err, logs.String())
			}
		})
	}
}
