package client

import (
	"context"
	"net/http"
	"sort"

	"allot/internal/model"
)

// ProviderAllocation is what a consumer holds on one provider.
type ProviderAllocation struct {
	// Generation is the provider's generation (in GET answers).
	Generation *int64           `json:"generation,omitempty"`
	Resources  map[string]int64 `json:"resources"`
}

// ConsumerAllocations is the answer of GET /allocations/{consumer}.
type ConsumerAllocations struct {
	// Allocations is keyed by provider UUID; empty for an unknown consumer.
	Allocations map[string]ProviderAllocation `json:"allocations"`
	// ProjectID and UserID are set from microversion 1.12 when the consumer
	// has allocations.
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// ConsumerGeneration is set from microversion 1.28 when the consumer
	// exists; nil means the consumer does not exist.
	ConsumerGeneration *int64 `json:"consumer_generation,omitempty"`
	// ConsumerType is set from microversion 1.38 ("unknown" for consumers
	// written before it).
	ConsumerType string `json:"consumer_type,omitempty"`
	// Version is the microversion the server answered with.
	Version model.Version `json:"-"`
}

func allocationsPath(consumer string) string { return "/allocations/" + pathEscape(consumer) }

// GetAllocations returns a consumer's allocations.
func (p *Placement) GetAllocations(ctx context.Context, consumer string) (ConsumerAllocations, error) {
	var out ConsumerAllocations
	resp, err := p.get(ctx, allocationsPath(consumer), nil, &out)
	if resp != nil {
		out.Version = resp.Version
	}
	if out.Allocations == nil {
		out.Allocations = map[string]ProviderAllocation{}
	}
	return out, err
}

// AllocationWrite is a consumer's complete set of allocations to write.
type AllocationWrite struct {
	// Allocations maps provider UUID -> resource class -> amount. Empty
	// releases everything (microversion 1.28+).
	Allocations map[string]map[string]int64
	// ProjectID and UserID are required from microversion 1.8.
	ProjectID string
	UserID    string
	// ConsumerGeneration is the consumer's current generation, nil when the
	// consumer is expected not to exist yet (microversion 1.28+).
	ConsumerGeneration *int64
	// ConsumerType (e.g. INSTANCE) is required from microversion 1.38.
	ConsumerType string
	// Mappings (request group suffix -> provider UUIDs) is sent from 1.34
	// when not empty.
	Mappings map[string][]string
}

// Body shapes the write as the API takes it at microversion v.
func (w AllocationWrite) Body(v model.Version) map[string]any {
	body := map[string]any{}
	if v.Less(model.V(1, 12)) {
		rps := make([]string, 0, len(w.Allocations))
		for rp := range w.Allocations {
			rps = append(rps, rp)
		}
		sort.Strings(rps)
		list := make([]any, 0, len(rps))
		for _, rp := range rps {
			list = append(list, map[string]any{"resource_provider": map[string]string{"uuid": rp}, "resources": w.Allocations[rp]})
		}
		body["allocations"] = list
	} else {
		m := map[string]any{}
		for rp, res := range w.Allocations {
			m[rp] = map[string]any{"resources": res}
		}
		body["allocations"] = m
	}
	if v.AtLeast(model.V(1, 8)) {
		body["project_id"] = w.ProjectID
		body["user_id"] = w.UserID
	}
	if v.AtLeast(model.V(1, 28)) {
		body["consumer_generation"] = w.ConsumerGeneration
	}
	if v.AtLeast(model.V(1, 34)) && len(w.Mappings) > 0 {
		body["mappings"] = w.Mappings
	}
	if v.AtLeast(model.V(1, 38)) {
		body["consumer_type"] = w.ConsumerType
	}
	return body
}

// SetAllocations replaces a consumer's allocations, shaping the body for the
// microversion in use.
func (p *Placement) SetAllocations(ctx context.Context, consumer string, w AllocationWrite) error {
	v, err := p.Version(ctx)
	if err != nil {
		return err
	}
	_, err = p.send(ctx, http.MethodPut, allocationsPath(consumer), w.Body(v), nil)
	return err
}

// DeleteAllocations removes every allocation of a consumer (a 404 if it has
// none).
func (p *Placement) DeleteAllocations(ctx context.Context, consumer string) error {
	_, err := p.send(ctx, http.MethodDelete, allocationsPath(consumer), nil, nil)
	return err
}
