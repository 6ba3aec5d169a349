package placementapi

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"allot/internal/api"
	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/policy"
	"allot/internal/query"
)

const (
	rcPattern   = `^[A-Z0-9_]+$`
	uuidPattern = `^[0-9a-fA-F-]{36}$`
	resourcesJS = `{"type": "object", "minProperties": 1,
		"patternProperties": {"` + rcPattern + `": {"type": "integer", "minimum": 1}}, "additionalProperties": false}`
	projectUserJS = `"project_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"user_id": {"type": "string", "minLength": 1, "maxLength": 255}`
	mappingsJS = `"mappings": {"type": "object", "minProperties": 1, "patternProperties": {
		"^[a-zA-Z0-9_-]{1,64}$": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "uuid"}}}}`
	consumerTypeJS = `"consumer_type": {"type": "string", "pattern": "^[A-Z0-9_]+$", "minLength": 1, "maxLength": 255}`
	consumerGenJS  = `"consumer_generation": {"type": ["integer", "null"]}`
)

// allocsDictJS is the 1.12+ allocations object; minProps 1 for PUT before
// 1.28, 0 where {} means "release everything".
func allocsDictJS(minProps string) string {
	return `"allocations": {"type": "object", "minProperties": ` + minProps + `,
		"patternProperties": {"` + uuidPattern + `": {"type": "object", "properties": {
			"generation": {"type": "integer"}, "resources": ` + resourcesJS + `},
			"required": ["resources"], "additionalProperties": false}},
		"additionalProperties": false}`
}

// consumerBodyJS is one consumer's body from 1.12 on.
func consumerBodyJS(minProps string, extra []string, required []string) string {
	props := []string{allocsDictJS(minProps), projectUserJS}
	props = append(props, extra...)
	req := append([]string{`"allocations"`, `"project_id"`, `"user_id"`}, required...)
	return `{"type": "object", "properties": {` + strings.Join(props, ", ") + `},
		"additionalProperties": false, "required": [` + strings.Join(req, ", ") + `]}`
}

func postBodyJS(consumer string) string {
	return `{"type": "object", "minProperties": 1, "additionalProperties": false,
		"patternProperties": {"` + uuidPattern + `": ` + consumer + `}}`
}

const listAllocsJS = `"allocations": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
	"resource_provider": {"type": "object", "properties": {"uuid": {"type": "string", "format": "uuid"}},
		"additionalProperties": false, "required": ["uuid"]},
	"resources": ` + resourcesJS + `},
	"required": ["resource_provider", "resources"], "additionalProperties": false}}`

var (
	putAllocations10 = api.MustSchema(`{"type": "object", "properties": {` + listAllocsJS + `},
		"required": ["allocations"], "additionalProperties": false}`)
	putAllocations18 = api.MustSchema(`{"type": "object", "properties": {` + listAllocsJS + `, ` + projectUserJS + `},
		"required": ["allocations", "project_id", "user_id"], "additionalProperties": false}`)
	putAllocations112 = api.MustSchema(consumerBodyJS("1", nil, nil))
	putAllocations128 = api.MustSchema(consumerBodyJS("0", []string{consumerGenJS}, []string{`"consumer_generation"`}))
	putAllocations134 = api.MustSchema(consumerBodyJS("0", []string{consumerGenJS, mappingsJS}, []string{`"consumer_generation"`}))
	putAllocations138 = api.MustSchema(consumerBodyJS("0", []string{consumerGenJS, mappingsJS, consumerTypeJS},
		[]string{`"consumer_generation"`, `"consumer_type"`}))

	postAllocations113 = api.MustSchema(postBodyJS(consumerBodyJS("0", nil, nil)))
	postAllocations128 = api.MustSchema(postBodyJS(consumerBodyJS("0", []string{consumerGenJS}, []string{`"consumer_generation"`})))
	postAllocations134 = api.MustSchema(postBodyJS(consumerBodyJS("0", []string{consumerGenJS, mappingsJS}, []string{`"consumer_generation"`})))
	postAllocations138 = api.MustSchema(postBodyJS(consumerBodyJS("0", []string{consumerGenJS, mappingsJS, consumerTypeJS},
		[]string{`"consumer_generation"`, `"consumer_type"`})))
)

var (
	usagesSchema = api.MustSchema(`{"type": "object", "properties": {
		"project_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"user_id": {"type": "string", "minLength": 1, "maxLength": 255}},
		"required": ["project_id"], "additionalProperties": false}`)
	usagesSchema138 = api.MustSchema(`{"type": "object", "properties": {
		"project_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"user_id": {"type": "string", "minLength": 1, "maxLength": 255},
		"consumer_type": {"type": "string", "pattern": "^[A-Z0-9_]+$|^all|^unknown$", "minLength": 1, "maxLength": 255}},
		"required": ["project_id"], "additionalProperties": false}`)
)

// putSchema returns the PUT /allocations/{c} schema for a version.
func putSchema(r *http.Request) *api.Schema {
	switch {
	case at(r, 1, 38):
		return putAllocations138
	case at(r, 1, 34):
		return putAllocations134
	case at(r, 1, 28):
		return putAllocations128
	case at(r, 1, 12):
		return putAllocations112
	case at(r, 1, 8):
		return putAllocations18
	default:
		return putAllocations10
	}
}

func postSchema(r *http.Request) *api.Schema {
	switch {
	case at(r, 1, 38):
		return postAllocations138
	case at(r, 1, 34):
		return postAllocations134
	case at(r, 1, 28):
		return postAllocations128
	default:
		return postAllocations113
	}
}

// consumerFromJSON reads one consumer's (validated) body in either format.
func consumerFromJSON(r *http.Request, consumer string, body map[string]any) placement.ConsumerAllocations {
	out := placement.ConsumerAllocations{ConsumerUUID: consumer}
	out.ProjectID, _ = body["project_id"].(string)
	out.UserID, _ = body["user_id"].(string)
	out.ConsumerType, _ = body["consumer_type"].(string)
	if at(r, 1, 28) {
		out.CheckGeneration = true
		if g, ok := body["consumer_generation"]; ok && g != nil {
			n := jsonInt(g)
			out.ConsumerGeneration = &n
		}
	}
	switch allocs := body["allocations"].(type) {
	case []any: // before 1.12: a list of {resource_provider: {uuid}, resources}
		index := map[string]int{}
		for _, item := range allocs {
			m := item.(map[string]any)
			rp, _ := m["resource_provider"].(map[string]any)["uuid"].(string)
			rp, _ = model.NormalizeUUID(rp)
			res := resourcesFromJSON(m["resources"])
			if i, ok := index[rp]; ok { // a later entry for the same provider wins
				out.Allocations[i].Resources = res
				continue
			}
			index[rp] = len(out.Allocations)
			out.Allocations = append(out.Allocations, placement.ProviderResources{ProviderUUID: rp, Resources: res})
		}
	case map[string]any:
		keys := make([]string, 0, len(allocs))
		for k := range allocs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rp, _ := model.NormalizeUUID(k)
			out.Allocations = append(out.Allocations, placement.ProviderResources{
				ProviderUUID: rp, Resources: resourcesFromJSON(allocs[k].(map[string]any)["resources"]),
			})
		}
	}
	return out
}

func resourcesFromJSON(v any) []placement.ClassAmount {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]placement.ClassAmount, 0, len(m))
	for _, k := range keys {
		out = append(out, placement.ClassAmount{Class: k, Amount: jsonInt(m[k])})
	}
	return out
}

func (h *handlers) putAllocations(w http.ResponseWriter, r *http.Request) error {
	if err := api.RequireJSON(r); err != nil {
		return err
	}
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	consumer, ok := model.NormalizeUUID(r.PathValue("consumer"))
	if !ok {
		return model.BadRequest("Malformed consumer_uuid: %s", model.Clip(r.PathValue("consumer"), 200))
	}
	body, err := api.ReadBody(r)
	if err != nil {
		return err
	}
	raw, err := api.DecodeBody(body, putSchema(r), nil)
	if err != nil {
		return err
	}
	req := consumerFromJSON(r, consumer, raw.(map[string]any))
	if err := h.svc.WriteAllocations(r.Context(), []placement.ConsumerAllocations{req}, placement.WriteOptions{SingleConsumer: true}); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) postAllocations(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	raw, err := api.DecodeBody(body, postSchema(r), nil)
	if err != nil {
		return err
	}
	m := raw.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	reqs := make([]placement.ConsumerAllocations, 0, len(m))
	for _, k := range keys {
		consumer, _ := model.NormalizeUUID(k)
		reqs = append(reqs, consumerFromJSON(r, consumer, m[k].(map[string]any)))
	}
	if err := h.svc.WriteAllocations(r.Context(), reqs, placement.WriteOptions{}); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) getAllocations(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	consumer := r.PathValue("consumer")
	if norm, ok := model.NormalizeUUID(consumer); ok {
		consumer = norm
	}
	cv, err := h.svc.GetConsumerAllocations(r.Context(), consumer)
	if err != nil {
		return err
	}
	allocs := map[string]any{}
	var last time.Time
	for _, a := range cv.Allocations {
		entry, ok := allocs[a.ProviderUUID].(map[string]any)
		if !ok {
			entry = map[string]any{"resources": map[string]any{}, "generation": a.ProviderGeneration}
			allocs[a.ProviderUUID] = entry
		}
		entry["resources"].(map[string]any)[a.ResourceClass] = a.Used
		if t := modified(a.CreatedAt, a.UpdatedAt); t.After(last) {
			last = t
		}
	}
	out := map[string]any{"allocations": allocs}
	if len(cv.Allocations) > 0 && at(r, 1, 12) {
		out["project_id"] = cv.Consumer.ProjectID
		out["user_id"] = cv.Consumer.UserID
		if at(r, 1, 28) {
			out["consumer_generation"] = cv.Consumer.Generation
		}
		if at(r, 1, 38) {
			out["consumer_type"] = placement.ConsumerTypeName(cv.Consumer.ConsumerType)
		}
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func modified(created, updated time.Time) time.Time {
	if !updated.IsZero() {
		return updated
	}
	return created
}

func (h *handlers) deleteAllocations(w http.ResponseWriter, r *http.Request) error {
	if err := api.Authorize(r, nil); err != nil {
		return err
	}
	consumer := r.PathValue("consumer")
	if norm, ok := model.NormalizeUUID(consumer); ok {
		consumer = norm
	}
	if err := h.svc.DeleteConsumerAllocations(r.Context(), consumer); err != nil {
		return err
	}
	api.WriteEmpty(w, http.StatusNoContent)
	return nil
}

func (h *handlers) providerAllocations(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	pv, err := h.svc.GetProviderAllocations(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	allocs := map[string]any{}
	var last time.Time
	for _, a := range pv.Allocations {
		entry, ok := allocs[a.ConsumerUUID].(map[string]any)
		if !ok {
			entry = map[string]any{"resources": map[string]any{}}
			if at(r, 1, 28) {
				entry["consumer_generation"] = a.ConsumerGeneration
			}
			allocs[a.ConsumerUUID] = entry
		}
		entry["resources"].(map[string]any)[a.ResourceClass] = a.Used
		if t := modified(a.CreatedAt, a.UpdatedAt); t.After(last) {
			last = t
		}
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, last)
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"allocations": allocs, "resource_provider_generation": pv.Provider.Generation})
}

func (h *handlers) providerUsages(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	pi, err := h.svc.ProviderUsages(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	usages := map[string]any{}
	for _, inv := range pi.Inventories {
		usages[inv.ResourceClass] = inv.Used
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, time.Now())
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"resource_provider_generation": pi.Provider.Generation, "usages": usages})
}

func (h *handlers) usages(w http.ResponseWriter, r *http.Request) error {
	if err := api.CheckAccept(r); err != nil {
		return err
	}
	params, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return err
	}
	// The usages of a project: its readers may see them (the target is the
	// project asked for, None when absent, as in Placement).
	target := policy.Target{"project_id": nil}
	if params.Has("project_id") {
		target["project_id"] = params.Get("project_id")
	}
	if err := api.Authorize(r, target); err != nil {
		return err
	}
	schema := usagesSchema
	if at(r, 1, 38) {
		schema = usagesSchema138
	}
	if err := api.ValidateQuery(params.Last(), schema); err != nil {
		return err
	}
	q := placement.UsageQuery{ProjectID: params.Get("project_id"), UserID: params.Get("user_id"), ConsumerType: params.Get("consumer_type")}
	if !at(r, 1, 38) {
		q.ConsumerType = "all" // one sum over every consumer
	}
	groups, err := h.svc.Usages(r.Context(), q)
	if err != nil {
		return err
	}
	if at(r, 1, 15) {
		api.SetLastModified(w, time.Now())
	}
	if !at(r, 1, 38) {
		usages := groups["all"].Used
		if usages == nil {
			usages = map[string]int64{}
		}
		return api.WriteJSON(w, http.StatusOK, map[string]any{"usages": usages})
	}
	out := make(map[string]map[string]int64, len(groups))
	for key, g := range groups {
		m := make(map[string]int64, len(g.Used)+1)
		for class, n := range g.Used {
			m[class] = n
		}
		m["consumer_count"] = g.Consumers
		out[key] = m
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"usages": out})
}

// jsonInt reads a validated integer from a decoded JSON value.
func jsonInt(v any) int64 {
	switch n := v.(type) {
	case interface{ Int64() (int64, error) }:
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, ok := v.(interface{ Float64() (float64, error) }); ok {
			x, _ := f.Float64()
			return int64(x)
		}
	case float64:
		return int64(n)
	}
	return 0
}
