package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"allot/internal/model"
)

// Resource is an amount of one resource class.
type Resource struct {
	Class  string
	Amount int64
}

// FormatResources writes resources as the API's "RC:N,RC:N".
func FormatResources(rs []Resource) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Class + ":" + strconv.FormatInt(r.Amount, 10)
	}
	return strings.Join(parts, ",")
}

// RequestGroup is one request group of an allocation-candidates query: the
// unsuffixed group (Suffix "") or a granular one (Suffix "1", "_NIC", ...).
// Values use the API's syntax.
type RequestGroup struct {
	Suffix    string
	Resources []Resource
	// Required: each entry is one required<Suffix> parameter ("T1,!T2" or
	// "in:T1,T2"); entries AND together (repetition needs 1.39).
	Required []string
	// MemberOf: each entry is one member_of<Suffix> parameter ("AGG",
	// "in:A,B", "!AGG", "!in:A,B"); entries AND together.
	MemberOf []string
	// InTree is a provider UUID (in_tree<Suffix>, microversion 1.31).
	InTree string
}

// CandidateQuery is a GET /allocation_candidates request.
type CandidateQuery struct {
	Groups []RequestGroup
	// RootRequired is the root_required value ("T1,!T2"; 1.35).
	RootRequired string
	// SameSubtree: each entry is one same_subtree parameter, a comma list
	// of suffixes (1.36).
	SameSubtree []string
	// GroupPolicy is "none" or "isolate" (1.25), empty to send none.
	GroupPolicy string
	// Limit caps the number of candidates (1.16); 0 sends none.
	Limit int
	// Ranking, when set, asks allot's extension GET
	// /allot/v1/allocation_candidates for this order and these
	// preferences (Values leaves it out: it is not Placement's).
	Ranking *Ranking
}

// Ranking is allot's per-request order of allocation candidates.
type Ranking struct {
	// Strategy is default, pack, spread or random ("": the server's).
	Strategy string
	// PreferTraits and PreferMemberOf rank the trees having a trait, or
	// in an aggregate (by UUID), higher by the weight.
	PreferTraits   []Preference
	PreferMemberOf []Preference
}

// Preference is a trait or aggregate name with its weight.
type Preference struct {
	Name   string
	Weight float64
}

// String writes the API's NAME:WEIGHT.
func (p Preference) String() string {
	return p.Name + ":" + strconv.FormatFloat(p.Weight, 'g', -1, 64)
}

// values adds the ranking's parameters to v.
func (r Ranking) values(v url.Values) {
	if r.Strategy != "" {
		v.Set("strategy", r.Strategy)
	}
	for _, p := range r.PreferTraits {
		v.Add("prefer_trait", p.String())
	}
	for _, p := range r.PreferMemberOf {
		v.Add("prefer_member_of", p.String())
	}
}

// Values encodes the query as the API's parameters.
func (q CandidateQuery) Values() url.Values {
	v := url.Values{}
	for _, g := range q.Groups {
		if len(g.Resources) > 0 {
			v.Set("resources"+g.Suffix, FormatResources(g.Resources))
		}
		for _, r := range g.Required {
			v.Add("required"+g.Suffix, r)
		}
		for _, m := range g.MemberOf {
			v.Add("member_of"+g.Suffix, m)
		}
		if g.InTree != "" {
			v.Set("in_tree"+g.Suffix, g.InTree)
		}
	}
	if q.RootRequired != "" {
		v.Set("root_required", q.RootRequired)
	}
	for _, s := range q.SameSubtree {
		v.Add("same_subtree", s)
	}
	if q.GroupPolicy != "" {
		v.Set("group_policy", q.GroupPolicy)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// AllocationRequest is one candidate: what each provider would give. It is
// read from either format the API uses (a list before 1.12, an object
// after).
type AllocationRequest struct {
	// Allocations maps provider UUID -> resource class -> amount.
	Allocations map[string]map[string]int64
	// Mappings maps request group suffix ("" for the unsuffixed group) ->
	// provider UUIDs (microversion 1.34).
	Mappings map[string][]string
}

// UnmarshalJSON reads both the list (before 1.12) and the object format.
func (a *AllocationRequest) UnmarshalJSON(data []byte) error {
	var raw struct {
		Allocations json.RawMessage     `json:"allocations"`
		Mappings    map[string][]string `json:"mappings"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	a.Mappings = raw.Mappings
	a.Allocations = map[string]map[string]int64{}
	if bytes.HasPrefix(bytes.TrimSpace(raw.Allocations), []byte("[")) {
		var list []struct {
			ResourceProvider struct {
				UUID string `json:"uuid"`
			} `json:"resource_provider"`
			Resources map[string]int64 `json:"resources"`
		}
		if err := json.Unmarshal(raw.Allocations, &list); err != nil {
			return err
		}
		for _, item := range list {
			a.Allocations[item.ResourceProvider.UUID] = item.Resources
		}
		return nil
	}
	var m map[string]struct {
		Resources map[string]int64 `json:"resources"`
	}
	if err := json.Unmarshal(raw.Allocations, &m); err != nil {
		return err
	}
	for rp, v := range m {
		a.Allocations[rp] = v.Resources
	}
	return nil
}

// ResourceUsage is a provider summary's view of one resource class.
type ResourceUsage struct {
	Capacity int64 `json:"capacity"`
	Used     int64 `json:"used"`
}

// ProviderSummary describes a provider of the candidates' trees.
type ProviderSummary struct {
	Resources map[string]ResourceUsage `json:"resources"`
	// Traits is set from microversion 1.17.
	Traits []string `json:"traits"`
	// ParentProviderUUID and RootProviderUUID are set from 1.29.
	ParentProviderUUID string `json:"parent_provider_uuid"`
	RootProviderUUID   string `json:"root_provider_uuid"`
}

// Candidates is the answer of GET /allocation_candidates.
type Candidates struct {
	AllocationRequests []AllocationRequest        `json:"allocation_requests"`
	ProviderSummaries  map[string]ProviderSummary `json:"provider_summaries"`
	// Raw is the document exactly as the server sent it.
	Raw json.RawMessage `json:"-"`
	// Version is the microversion the server answered with.
	Version model.Version `json:"-"`
}

// AllocationCandidates runs an allocation-candidates query: on allot's
// extension when q has a Ranking, else on GET /allocation_candidates.
func (p *Placement) AllocationCandidates(ctx context.Context, q CandidateQuery) (*Candidates, error) {
	if q.Ranking != nil {
		v := q.Values()
		q.Ranking.values(v)
		return p.candidatesAt(ctx, "/allot/v1/allocation_candidates", v)
	}
	return p.AllocationCandidatesQuery(ctx, q.Values())
}

// AllocationCandidatesQuery runs an allocation-candidates query given as
// raw parameters.
func (p *Placement) AllocationCandidatesQuery(ctx context.Context, q url.Values) (*Candidates, error) {
	return p.candidatesAt(ctx, "/allocation_candidates", q)
}

// candidatesAt runs an allocation-candidates query on path.
func (p *Placement) candidatesAt(ctx context.Context, path string, q url.Values) (*Candidates, error) {
	var out Candidates
	resp, err := p.get(ctx, path, q, &out)
	if err != nil {
		if resp != nil && resp.Status < 400 {
			return nil, fmt.Errorf("allocation candidates: %w", err)
		}
		return nil, err
	}
	out.Raw = resp.Body
	out.Version = resp.Version
	return &out, nil
}
