package client

import (
	"context"
	"encoding/json"
)

// ExplainPath is allot's explain extension (not part of OpenStack
// Placement: other Placement servers answer 404).
const ExplainPath = "/allot/v1/allocation_candidates/explain"

// Explanation is the answer of GET /allot/v1/allocation_candidates/explain:
// what the search for an allocation-candidates query removed, stage by
// stage (docs/api.md).
type Explanation struct {
	Providers           int                `json:"providers"`
	Trees               int                `json:"trees"`
	Candidates          int                `json:"candidates"`
	Generated           int                `json:"generated"`
	Limited             bool               `json:"limited"`
	Capped              bool               `json:"capped"`
	OutOfTime           bool               `json:"out_of_time"`
	TreesWithCandidates int                `json:"trees_with_candidates"`
	TreeStages          []StageCount       `json:"tree_stages"`
	Groups              []GroupExplanation `json:"groups"`
	NearestMisses       []Miss             `json:"nearest_misses"`
	// Raw is the response document.
	Raw json.RawMessage `json:"-"`
}

// GroupExplanation accounts for every provider in one request group.
type GroupExplanation struct {
	Suffix       string       `json:"suffix"`
	Providers    int          `json:"providers"`
	InCandidates int          `json:"in_candidates"`
	Passed       int          `json:"passed"`
	Stages       []StageCount `json:"stages"`
	TreeStages   []StageCount `json:"tree_stages"`
	NotExamined  int          `json:"not_examined"`
}

// StageCount is what one stage removed, with a few example providers.
type StageCount struct {
	Stage    string        `json:"stage"`
	Removed  int           `json:"removed"`
	Examples []ProviderRef `json:"examples"`
}

// ProviderRef names a provider.
type ProviderRef struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// Miss is a tree that came close, with the requirements it misses.
type Miss struct {
	Root      ProviderRef `json:"root"`
	Stage     string      `json:"stage"`
	Unmet     []string    `json:"unmet"`
	Shortfall int64       `json:"shortfall"`
}

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
