package client

import (
	"context"
	"encoding/json"

	"allot/internal/model"
)

// ExplainPath is allot's explain extension (not part of OpenStack
// Placement: other Placement servers answer 404).
const ExplainPath = "/allot/v1/allocation_candidates/explain"

// Explanation is the answer of GET /allot/v1/allocation_candidates/explain:
// what the search for an allocation-candidates query removed, stage by
// stage (docs/api.md), in the server's own types.
type Explanation struct {
	model.Explanation
	// Raw is the response document.
	Raw json.RawMessage `json:"-"`
}

// ProviderRef names a provider in an explanation.
type ProviderRef = model.ProviderRef

// ExplainCandidates explains an allocation-candidates query.
func (p *Placement) ExplainCandidates(ctx context.Context, q CandidateQuery) (*Explanation, error) {
	var out Explanation
	resp, err := p.get(ctx, ExplainPath, q.Values(), &out)
	if err != nil {
		return nil, err
	}
	out.Raw = resp.Body
	return &out, nil
}
