package client

import (
	"context"
	"net/http"
)

// ProviderAggregates is a provider's aggregates; Generation is set from
// microversion 1.19 (HasGeneration tells).
type ProviderAggregates struct {
	Aggregates    []string `json:"aggregates"`
	Generation    int64    `json:"resource_provider_generation"`
	HasGeneration bool     `json:"-"`
}

func aggregatesPath(uuid string) string {
	return "/resource_providers/" + pathEscape(uuid) + "/aggregates"
}

func decodeAggregates(resp *Response) (ProviderAggregates, error) {
	var raw struct {
		Aggregates []string `json:"aggregates"`
		Generation *int64   `json:"resource_provider_generation"`
	}
	if err := resp.Decode(&raw); err != nil {
		return ProviderAggregates{}, err
	}
	out := ProviderAggregates{Aggregates: raw.Aggregates}
	if raw.Generation != nil {
		out.Generation, out.HasGeneration = *raw.Generation, true
	}
	if out.Aggregates == nil {
		out.Aggregates = []string{}
	}
	return out, nil
}

// GetProviderAggregates returns the aggregates a provider is in.
func (p *Placement) GetProviderAggregates(ctx context.Context, uuid string) (ProviderAggregates, error) {
	resp, err := p.get(ctx, aggregatesPath(uuid), nil, nil)
	if err != nil {
		return ProviderAggregates{}, err
	}
	return decodeAggregates(resp)
}

// SetProviderAggregates replaces the aggregates of a provider. From
// microversion 1.19 the API needs the provider's generation: pass it, or
// nil to send the bare list older versions take.
func (p *Placement) SetProviderAggregates(ctx context.Context, uuid string, generation *int64, aggregates []string) (ProviderAggregates, error) {
	if aggregates == nil {
		aggregates = []string{}
	}
	var body any = aggregates
	if generation != nil {
		body = map[string]any{"aggregates": aggregates, "resource_provider_generation": *generation}
	}
	resp, err := p.send(ctx, http.MethodPut, aggregatesPath(uuid), body, nil)
	if err != nil {
		return ProviderAggregates{}, err
	}
	return decodeAggregates(resp)
}
