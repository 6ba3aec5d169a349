package client

import (
	"context"
	"net/http"

	"allot/internal/model"
)

// ClaimPath is allot's atomic claim extension (not part of OpenStack
// Placement: other Placement servers answer 404).
const ClaimPath = "/allot/v1/claims"

// ClaimConsumer is a consumer an atomic claim gives allocations to.
type ClaimConsumer struct {
	UUID         string `json:"uuid"`
	ProjectID    string `json:"project_id"`
	UserID       string `json:"user_id"`
	ConsumerType string `json:"consumer_type,omitempty"`
	// ConsumerGeneration is the generation last seen; nil: a new consumer.
	ConsumerGeneration *int64 `json:"consumer_generation"`
}

// ClaimRequest is a POST /allot/v1/claims request: one consumer, or
// several claimed all or nothing (a gang).
type ClaimRequest struct {
	Consumers []ClaimConsumer
	// Query is the allocation-candidates query the candidates come from.
	Query CandidateQuery
	// Strategy orders the candidates: default, pack, spread or random
	// (empty: the server's order).
	Strategy string
	// PreferTraits and PreferMemberOf rank the candidates of trees having
	// a trait, or in an aggregate (by UUID), first, by the weight.
	PreferTraits, PreferMemberOf []Preference
	// Distinct is a gang's spread rule: root, aggregate or
	// trait_prefix:PREFIX (empty: none).
	Distinct string
	// IdempotencyKey makes the claim safe to resend (empty: none).
	IdempotencyKey string
}

// ClaimedConsumer is what one consumer of a claim received, in the
// server's own type.
type ClaimedConsumer = model.ClaimedConsumer

// ClaimResult is the answer of a claim.
type ClaimResult struct {
	Claims []ClaimedConsumer `json:"claims"`
	// Replayed is set when the server answered from the idempotency key:
	// this call claimed nothing new.
	Replayed bool `json:"-"`
	// Raw is the response document.
	Raw []byte `json:"-"`
}

// Claim chooses candidates and writes their allocations in one call
// (POST /allot/v1/claims, an allot extension). A 409 means nothing fits
// any more (or a consumer generation or idempotency key conflict).
func (p *Placement) Claim(ctx context.Context, req ClaimRequest) (*ClaimResult, error) {
	body := map[string]any{
		"consumers": req.Consumers,
		"query":     req.Query.Values().Encode(),
	}
	if req.Strategy != "" {
		body["strategy"] = req.Strategy
	}
	for key, ps := range map[string][]Preference{"prefer_trait": req.PreferTraits, "prefer_member_of": req.PreferMemberOf} {
		if len(ps) > 0 {
			values := make([]string, len(ps))
			for i, p := range ps {
				values[i] = p.String()
			}
			body[key] = values
		}
	}
	if req.Distinct != "" {
		body["distinct"] = req.Distinct
	}
	if req.IdempotencyKey != "" {
		body["idempotency_key"] = req.IdempotencyKey
	}
	var out ClaimResult
	resp, err := p.send(ctx, http.MethodPost, ClaimPath, body, &out)
	if err != nil {
		return nil, err
	}
	out.Replayed = resp.Header.Get("X-Allot-Claim-Replayed") == "true"
	out.Raw = resp.Body
	return &out, nil
}
