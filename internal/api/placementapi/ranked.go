package placementapi

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"allot/internal/api"
	"allot/internal/engine"
	"allot/internal/model"
	"allot/internal/query"
)

// GET /allot/v1/allocation_candidates is GET /allocation_candidates with a
// ranking chosen per request:
//
//	strategy=default|pack|spread|random   (absent: the server's --candidate-order)
//	prefer_trait=NAME[:WEIGHT][,NAME[:WEIGHT]...]        (repeatable)
//	prefer_member_of=AGG_UUID[:WEIGHT][,AGG_UUID[:WEIGHT]...] (repeatable)
//
// Every other parameter is the standard endpoint's, validated and answered
// by the same code at the microversion the request names (1.10 or later),
// or the latest when it names none, as for POST /allot/v1/claims; an
// unknown parameter is the standard endpoint's 400. A weight is a finite
// number, 1 when left out; a tree meeting a preference gains its weight
// (engine/rank.go). An unknown preferred trait is a 400, as in required; an
// aggregate no provider is in matches nothing, as in member_of.

// rankedParams are the extension's own query parameters.
var rankedParams = map[string]bool{"strategy": true, "prefer_trait": true, "prefer_member_of": true}

// rankedRoutes is the route table of the ranked-candidates extension.
func (h *handlers) rankedRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Pattern: ExtensionPrefix + "/allocation_candidates", Policy: ruleCandidates, Handler: h.rankedCandidates},
	}
}

func (h *handlers) rankedCandidates(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	v := claimVersion(r)
	if !v.AtLeast(model.V(1, 10)) {
		return model.BadRequest("%s/allocation_candidates needs microversion 1.10 or later, or none (the latest): its query is that of GET /allocation_candidates.", ExtensionPrefix)
	}
	std, order, prefer, err := parseRankedQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	return h.answerCandidates(w, r, v, std, func(ctx context.Context, q query.Candidates) (*engine.Result, error) {
		return h.svc.RankedCandidates(ctx, q, order, prefer)
	})
}

// parseRankedQuery takes the extension's parameters out of a raw query
// string, leaving the standard query as it came.
func parseRankedQuery(raw string) (std string, order *engine.Order, prefer []engine.Preference, err error) {
	var kept []string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(part, "=")
		key, kerr := url.QueryUnescape(rawKey)
		if kerr != nil || !rankedParams[key] {
			kept = append(kept, part) // the standard parser judges it
			continue
		}
		value, verr := url.QueryUnescape(rawValue)
		if verr != nil {
			return "", nil, nil, model.BadRequest("Invalid query string parameters: %s has a malformed escape.", key)
		}
		switch key {
		case "strategy":
			if order != nil {
				return "", nil, nil, model.BadRequest("Invalid query string parameters: strategy is given more than once.")
			}
			o, perr := engine.ParseOrder(value)
			if perr != nil || value == "" {
				return "", nil, nil, model.BadRequest("Invalid query string parameters: strategy %q: use default, pack, spread or random.", model.Clip(value, 200))
			}
			order = &o
		case "prefer_trait", "prefer_member_of":
			ps, perr := parsePreferences(key, value)
			if perr != nil {
				return "", nil, nil, prefixError("Invalid query string parameters: ", perr)
			}
			prefer = append(prefer, ps...)
		}
	}
	return strings.Join(kept, "&"), order, prefer, nil
}

// parsePreferences reads NAME[:WEIGHT][,...] of prefer_trait or
// prefer_member_of: the value of a parameter of GET
// /allot/v1/allocation_candidates, or an entry of the same field of a
// claim's body. Its 400s name the key and the value; the caller says
// where they came from (prefixError).
func parsePreferences(key, value string) ([]engine.Preference, error) {
	var out []engine.Preference
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		name, weight := item, 1.0
		if i := strings.LastIndexByte(item, ':'); i >= 0 {
			name = item[:i]
			w, err := strconv.ParseFloat(item[i+1:], 64)
			if err != nil || math.IsInf(w, 0) || math.IsNaN(w) {
				return nil, model.BadRequest("%s %q: the weight after ':' must be a finite number.", key, model.Clip(item, 200))
			}
			weight = w
		}
		if name == "" {
			return nil, model.BadRequest("%s %q: expected NAME[:WEIGHT], comma-separated.", key, model.Clip(value, 200))
		}
		p := engine.Preference{Weight: weight}
		if key == "prefer_trait" {
			p.Trait = name
		} else {
			u, ok := model.NormalizeUUID(name)
			if !ok {
				return nil, model.BadRequest("%s %q is not an aggregate uuid.", key, model.Clip(name, 200))
			}
			p.Aggregate = u
		}
		out = append(out, p)
	}
	return out, nil
}

// prefixError says where a 400 came from by prefixing its message.
func prefixError(prefix string, err error) error {
	if e, ok := model.AsError(err); ok {
		out := *e
		out.Message = prefix + e.Message
		return &out
	}
	return err
}
