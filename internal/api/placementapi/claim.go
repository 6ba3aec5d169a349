package placementapi

import (
	"net/http"
	"strings"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
)

// POST /allot/v1/claims: the atomic claim of issue 16 (docs/api.md, "allot
// extensions"). One call chooses allocation candidates for one consumer,
// or for several all or nothing (a gang claim), and writes them in one
// store transaction; see placement.Service.Claim.

// claimSchema is the body of POST /allot/v1/claims.
var claimSchema = api.MustSchema(`{"type": "object", "properties": {
	"consumers": {"type": "array", "minItems": 1, "maxItems": 256, "items": {"type": "object", "properties": {
		"uuid": {"type": "string", "format": "uuid"},
		"project_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"user_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"consumer_type": {"type": "string", "pattern": "^[A-Z0-9_]+$", "minLength": 1, "maxLength": 255},
		"consumer_generation": {"type": ["integer", "null"], "minimum": 0}},
		"required": ["uuid", "project_id", "user_id"], "additionalProperties": false}},
	"query": {"type": "string", "minLength": 1, "maxLength": 65536},
	"strategy": {"type": "string", "enum": ["default", "pack", "spread", "random"]},
	"prefer_trait": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 65536}},
	"prefer_member_of": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 65536}},
	"distinct": {"type": "string", "minLength": 1, "maxLength": 255},
	"idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255}},
	"required": ["consumers", "query"], "additionalProperties": false}`)

// claimBody is the decoded body of POST /allot/v1/claims.
type claimBody struct {
	Consumers []struct {
		UUID               string `json:"uuid"`
		ProjectID          string `json:"project_id"`
		UserID             string `json:"user_id"`
		ConsumerType       string `json:"consumer_type"`
		ConsumerGeneration *int64 `json:"consumer_generation"`
	} `json:"consumers"`
	Query          string   `json:"query"`
	Strategy       string   `json:"strategy"`
	PreferTrait    []string `json:"prefer_trait"`
	PreferMemberOf []string `json:"prefer_member_of"`
	Distinct       string   `json:"distinct"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// claimRoutes is the route table of the atomic claim.
func (h *handlers) claimRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Pattern: ExtensionPrefix + "/claims", Policy: ruleAllocationManage, Handler: h.claim},
	}
}

// ParseClaim reads the body of POST /allot/v1/claims into a claim
// request; v is the microversion whose rules parse the candidates query
// (as GET /allocation_candidates at that version). Errors are 400s that
// name the field.
func ParseClaim(body []byte, v model.Version) (placement.ClaimRequest, error) {
	var req placement.ClaimRequest
	var b claimBody
	if _, err := api.DecodeBody(body, claimSchema, &b); err != nil {
		return req, err
	}
	if !v.AtLeast(model.V(1, 10)) {
		return req, model.BadRequest("A claim's query is parsed as GET /allocation_candidates, which needs placement microversion 1.10 or later, not %s", v)
	}
	raw := strings.TrimPrefix(b.Query, "?")
	var err error
	if req.Query, err = parseCandidatesQuery(raw, v); err != nil {
		return req, claimQueryError(err)
	}
	req.QueryString = raw
	req.Strategy = b.Strategy
	for _, f := range []struct {
		key    string
		values []string
	}{{"prefer_trait", b.PreferTrait}, {"prefer_member_of", b.PreferMemberOf}} {
		for _, v := range f.values {
			ps, err := parsePreferences(f.key, v)
			if err != nil {
				return req, prefixError("Invalid preference in the claim: ", err)
			}
			req.Prefer = append(req.Prefer, ps...)
		}
	}
	if req.Distinct, err = placement.ParseDistinct(b.Distinct); err != nil {
		return req, err
	}
	req.IdempotencyKey = b.IdempotencyKey
	for _, c := range b.Consumers {
		uuid, _ := model.NormalizeUUID(c.UUID)
		req.Consumers = append(req.Consumers, placement.ClaimConsumer{
			UUID: uuid, ProjectID: c.ProjectID, UserID: c.UserID, ConsumerType: c.ConsumerType, Generation: c.ConsumerGeneration,
		})
	}
	return req, nil
}

// claimQueryError says that an error is about the body's query string.
func claimQueryError(err error) error {
	return prefixError("Invalid query in the claim: ", err)
}

// claimVersion is the microversion a claim's query is parsed at: the one
// the request names, or the latest when it names none (a claim is not a
// Placement operation, so it need not start from 1.0).
func claimVersion(r *http.Request) model.Version {
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		if strings.Contains(strings.ToLower(h), "placement") {
			return api.VersionOf(r)
		}
	}
	return MaxVersion
}

func (h *handlers) claim(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	req, err := ParseClaim(body, claimVersion(r))
	if err != nil {
		return err
	}
	out, err := h.svc.Claim(r.Context(), req)
	if err != nil {
		return err
	}
	if out.Replayed {
		w.Header().Set("X-Allot-Claim-Replayed", "true")
	}
	return api.WriteJSON(w, http.StatusOK, out.Answer)
}
