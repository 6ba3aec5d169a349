package importer

import (
	"context"
	"fmt"

	"allot/internal/client"
	"allot/internal/model"
)

// MaxVersion is the highest Placement microversion the importer speaks.
var MaxVersion = model.V(1, 39)

// Minimum microversions: a source must show providers with their parents
// and consumers with their projects and users; a target must take consumer
// generations, so that every consumer write is conditional.
var (
	MinSourceVersion = model.V(1, 14)
	MinTargetVersion = model.V(1, 28)
)

// Endpoint names one Placement service: its URL and how to reach it. The
// microversion in Options is ignored: Connect negotiates it.
type Endpoint struct {
	URL     string
	Options client.Options
}

// Service is a Placement endpoint at the microversion both sides speak.
type Service struct {
	// Client sends requests at Version.
	Client  *client.Placement
	Version model.Version
	ep      Endpoint
}

// Connect reads the service's root document and returns a client at the
// highest microversion both it and the importer speak, refusing a service
// older than min. role ("source" or "target") names the service in errors.
func Connect(ctx context.Context, role string, ep Endpoint, min model.Version) (*Service, error) {
	opts := ep.Options
	opts.Version = client.Latest
	probe, err := client.NewPlacement(ep.URL, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	docs, err := probe.Versions(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the root document: %w", role, ep.URL, err)
	}
	var max model.Version
	for _, d := range docs {
		if v, ok := model.ParseVersion(d.MaxVersion); ok && max.Less(v) {
			max = v
		}
	}
	if max == (model.Version{}) {
		max = model.V(1, 0) // a root document without max_version: Placement 1.0
	}
	if max.Less(min) {
		return nil, fmt.Errorf("%s %s speaks Placement up to microversion %s; the import needs %s or later", role, ep.URL, max, min)
	}
	if MaxVersion.Less(max) {
		max = MaxVersion
	}
	return at(ep, max)
}

// at returns a client of ep at microversion v.
func at(ep Endpoint, v model.Version) (*Service, error) {
	opts := ep.Options
	opts.Version = v.String()
	p, err := client.NewPlacement(ep.URL, opts)
	if err != nil {
		return nil, err
	}
	return &Service{Client: p, Version: v, ep: ep}, nil
}

// has reports whether the service speaks microversion v.
func (s *Service) has(v model.Version) bool { return s.Version.AtLeast(v) }
