package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// ProviderUsages is a provider's usage per resource class it has
// inventory of.
type ProviderUsages struct {
	Generation int64            `json:"resource_provider_generation"`
	Usages     map[string]int64 `json:"usages"`
}

// GetProviderUsages returns a provider's usages.
func (p *Placement) GetProviderUsages(ctx context.Context, uuid string) (ProviderUsages, error) {
	var out ProviderUsages
	_, err := p.get(ctx, "/resource_providers/"+pathEscape(uuid)+"/usages", nil, &out)
	return out, err
}

// UsageQuery selects consumers in Usages.
type UsageQuery struct {
	// ProjectID is required.
	ProjectID string
	UserID    string
	// ConsumerType (1.38+) is a type name, "all" or "unknown".
	ConsumerType string
}

// UsageGroup is the usage of one consumer type (microversion 1.38).
type UsageGroup struct {
	ConsumerCount int64
	Usages        map[string]int64
}

// Usages is the answer of GET /usages: Totals before microversion 1.38,
// ByConsumerType from it.
type Usages struct {
	Totals         map[string]int64
	ByConsumerType map[string]UsageGroup
}

// GetUsages returns the usage of a project's (and user's) consumers
// (microversion 1.9).
func (p *Placement) GetUsages(ctx context.Context, q UsageQuery) (Usages, error) {
	v := url.Values{}
	v.Set("project_id", q.ProjectID)
	if q.UserID != "" {
		v.Set("user_id", q.UserID)
	}
	if q.ConsumerType != "" {
		v.Set("consumer_type", q.ConsumerType)
	}
	var doc struct {
		Usages map[string]json.RawMessage `json:"usages"`
	}
	if _, err := p.get(ctx, "/usages", v, &doc); err != nil {
		return Usages{}, err
	}
	var out Usages
	for key, raw := range doc.Usages {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			var m map[string]int64
			if err := json.Unmarshal(raw, &m); err != nil {
				return Usages{}, fmt.Errorf("decode usages of consumer type %s: %w", key, err)
			}
			g := UsageGroup{ConsumerCount: m["consumer_count"], Usages: map[string]int64{}}
			for class, n := range m {
				if class != "consumer_count" {
					g.Usages[class] = n
				}
			}
			if out.ByConsumerType == nil {
				out.ByConsumerType = map[string]UsageGroup{}
			}
			out.ByConsumerType[key] = g
			continue
		}
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return Usages{}, fmt.Errorf("decode usage of %s: %w", key, err)
		}
		if out.Totals == nil {
			out.Totals = map[string]int64{}
		}
		out.Totals[key] = n
	}
	return out, nil
}
