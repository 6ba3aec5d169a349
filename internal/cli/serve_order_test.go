package cli

import (
	"strings"
	"testing"

	"allot/internal/engine"
)

// --candidate-order comes from the flag, the environment or the [allot]
// section; --randomize-candidates (randomize_allocation_candidates) means
// random and conflicts with pack and spread.
func TestServeCandidateOrder(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		conf    string
		args    []string
		want    engine.Order
		wantErr string
	}{
		{name: "default", want: engine.OrderDefault},
		{name: "flag", args: []string{"--candidate-order", "pack"}, want: engine.OrderPack},
		{name: "environment", env: "spread", want: engine.OrderSpread},
		{name: "file", conf: "[allot]\ncandidate_order = spread\n", want: engine.OrderSpread},
		{name: "flag over file", conf: "[allot]\ncandidate_order = spread\n", args: []string{"--candidate-order", "pack"}, want: engine.OrderPack},
		{name: "random", args: []string{"--candidate-order", "random"}, want: engine.OrderRandom},
		{name: "randomize flag", args: []string{"--randomize-candidates"}, want: engine.OrderRandom},
		{name: "placement.conf randomize", conf: "[placement]\nrandomize_allocation_candidates = true\n", want: engine.OrderRandom},
		{name: "randomize and random", args: []string{"--randomize-candidates", "--candidate-order", "random"}, want: engine.OrderRandom},
		{name: "randomize and pack", args: []string{"--randomize-candidates", "--candidate-order", "pack"}, wantErr: "conflicts with --candidate-order pack"},
		{name: "unknown", args: []string{"--candidate-order", "fullest"}, wantErr: `unknown candidate order "fullest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("ALLOT_CANDIDATE_ORDER", tt.env)
			}
			args := tt.args
			if tt.conf != "" {
				args = append([]string{"--config-file", writeConf(t, tt.conf)}, args...)
			}
			cfg, _, err := resolveArgs(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := candidateOrder(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("order %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}
