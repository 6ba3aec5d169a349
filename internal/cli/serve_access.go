package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"allot/internal/api"
	"allot/internal/api/baremetalapi"
	"allot/internal/api/placementapi"
	"allot/internal/auth"
	"allot/internal/policy"
)

// access is how one API identifies callers and decides their rights.
type access struct {
	Auth      api.Authenticator // nil: noauth
	Challenge string
	Policy    *policy.Enforcer
	// SignIn forwards password sign-ins to Keystone (keystone only).
	SignIn placementapi.SignInFunc
}

// accessControl builds both APIs' access from the configuration: the auth
// strategies (one Keystone validator, and so one token cache, serves
// both) and the policy enforcers over each API's defaults. A malformed
// policy file or an unknown strategy is an error at start.
func accessControl(cfg ServeConfig, logger *slog.Logger) (placementAccess, baremetalAccess access, err error) {
	var keystone *auth.KeystoneAuth
	authFor := func(api, serviceType, strategy string, allowed ...string) (access, error) {
		ok := false
		for _, a := range allowed {
			ok = ok || a == strategy
		}
		if !ok {
			return access{}, usageError{fmt.Errorf("%s auth strategy %q: use %v", api, strategy, allowed)}
		}
		switch strategy {
		case auth.NoAuth:
			return access{}, nil
		case auth.NoAuth2:
			return access{Auth: auth.NoAuth2Credentials}, nil
		}
		if keystone == nil {
			k, err := auth.NewKeystone(cfg.Keystone, logger)
			if err != nil {
				return access{}, usageError{err}
			}
			keystone = k
		}
		return access{Auth: keystone.ForService(serviceType), Challenge: keystone.Challenge(), SignIn: keystone.SignIn}, nil
	}
	if cfg.PlacementListen != "" {
		if placementAccess, err = authFor("Placement", "placement", orDefault(cfg.PlacementAuth, auth.NoAuth2), auth.NoAuth2, auth.Keystone); err != nil {
			return
		}
		if placementAccess.Policy, err = loadPolicy("Placement", placementapi.PolicyDefaults(), cfg.Policy, logger); err != nil {
			return
		}
	}
	if cfg.BaremetalListen != "" {
		if baremetalAccess, err = authFor("Bare Metal", "baremetal", orDefault(cfg.BaremetalAuth, auth.NoAuth), auth.NoAuth, auth.NoAuth2, auth.Keystone); err != nil {
			return
		}
		opts := cfg.Policy
		opts.PolicyFile = cfg.BaremetalPolicyFile
		if baremetalAccess.Policy, err = loadPolicy("Bare Metal", baremetalapi.PolicyDefaults(), opts, logger); err != nil {
			return
		}
	}
	return placementAccess, baremetalAccess, nil
}

// loadPolicy builds an enforcer and reports the policy file's rules that
// change nothing (a misspelt rule name grants or denies nothing) and what
// oslo.policy would warn about.
func loadPolicy(api string, defaults []policy.Rule, opts policy.Options, logger *slog.Logger) (*policy.Enforcer, error) {
	if opts.PolicyFile != "" {
		if _, err := os.Stat(opts.PolicyFile); errors.Is(err, fs.ErrNotExist) {
			// As oslo.policy: a policy file that is not there leaves the
			// defaults in force (placement.conf often names one that
			// only exists once an operator writes it).
			logger.Info("the policy file does not exist; the default rules apply", "api", api, "file", opts.PolicyFile)
			opts.PolicyFile = ""
		}
	}
	enf, err := policy.New(defaults, opts)
	if err != nil {
		return nil, usageError{fmt.Errorf("the %s policy: %w", api, err)}
	}
	for _, name := range enf.Unknown() {
		logger.Warn("the policy file sets a rule that this API does not have and no rule refers to: it changes nothing (a misspelt name?)",
			"api", api, "file", opts.PolicyFile, "rule", name)
	}
	for _, w := range enf.Warnings() {
		logger.Warn("policy: "+w, "api", api, "file", opts.PolicyFile)
	}
	return enf, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
