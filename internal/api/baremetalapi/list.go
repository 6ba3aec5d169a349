package baremetalapi

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"allot/internal/model"
	"allot/internal/query"
)

// maxLimit is the largest page (Ironic's default api.max_limit).
const maxLimit = 1000

// page is the pagination part of a list query.
type page struct {
	limit   int
	marker  string
	sortKey string
	desc    bool
}

// checkParams refuses query parameters the endpoint does not know.
func checkParams(p query.Params, allowed ...string) error {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var extra []string
	for _, k := range p.Keys() {
		if !ok[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		return model.BadRequest("Unexpected arguments: %s", model.Clip(strings.Join(extra, ", "), 200))
	}
	return nil
}

// parsePage reads limit, marker, sort_key and sort_dir. sortable says
// whether a key can be sorted on; unsortable lists keys refused with
// Ironic's "invalid field for sorting" wording.
func parsePage(p query.Params, sortable func(string) bool, unsortable []string) (page, error) {
	pg := page{limit: maxLimit, sortKey: "id"}
	if p.Has("limit") {
		raw := p.Get("limit")
		n, err := strconv.Atoi(raw)
		if err != nil {
			return pg, model.BadRequest("Expected an integer for limit: %s", model.Clip(raw, 200))
		}
		if n <= 0 {
			return pg, model.BadRequest("Limit must be positive")
		}
		pg.limit = min(n, maxLimit)
	}
	if p.Has("marker") {
		m, ok := model.NormalizeUUID(p.Get("marker"))
		if !ok {
			return pg, model.BadRequest("Expected UUID for marker: %s", model.Clip(p.Get("marker"), 200))
		}
		pg.marker = m
	}
	if p.Has("sort_key") {
		k := p.Get("sort_key")
		for _, u := range unsortable {
			if k == u {
				return pg, model.BadRequest("The sort_key value %s is an invalid field for sorting", model.Clip(k, 200))
			}
		}
		if !sortable(k) {
			return pg, model.BadRequest("The sort_key value %q is an invalid field for sorting", model.Clip(k, 200))
		}
		pg.sortKey = k
	}
	if p.Has("sort_dir") {
		switch d := p.Get("sort_dir"); d {
		case "asc":
		case "desc":
			pg.desc = true
		default:
			return pg, model.BadRequest("Invalid sort direction: %s. Acceptable values are 'asc' or 'desc'", model.Clip(d, 200))
		}
	}
	return pg, nil
}

// nextLink is the link to the page after the last item, keeping every
// filter of the request (Ironic drops them; allot keeps them).
func (h *handlers) nextLink(r *http.Request, p query.Params, pg page, lastUUID string) string {
	v := url.Values{}
	for _, k := range p.Keys() {
		if k == "marker" || k == "limit" {
			continue
		}
		v[k] = p.All(k)
	}
	v.Set("sort_key", pg.sortKey)
	if pg.desc {
		v.Set("sort_dir", "desc")
	} else {
		v.Set("sort_dir", "asc")
	}
	v.Set("limit", strconv.Itoa(pg.limit))
	v.Set("marker", lastUUID)
	return h.base(r) + r.URL.Path + "?" + v.Encode()
}

// parseFields reads ?fields=a,b against the fields known at the request's
// version: unknown → 400, known but newer → 406.
func parseFields(r *http.Request, p query.Params, known map[string]int) ([]string, error) {
	if !p.Has("fields") {
		return nil, nil
	}
	var out, bad []string
	newer := false
	for _, f := range strings.Split(p.Get("fields"), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		minor, ok := known[f]
		switch {
		case !ok:
			bad = append(bad, f)
		case !at(r, minor):
			newer = true
		default:
			out = append(out, f)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, model.BadRequest("Field(s) \"%s\" are not valid", model.Clip(strings.Join(bad, ", "), 200))
	}
	if newer {
		return nil, notAcceptable()
	}
	return out, nil
}

// pick keeps only the wanted fields (and links) of a rendered object.
func pick(obj map[string]any, fields []string) map[string]any {
	if fields == nil {
		return obj
	}
	out := map[string]any{"links": obj["links"]}
	for _, f := range fields {
		out[f] = obj[f]
	}
	return out
}

// boolParam reads a boolean query parameter as Ironic does.
func boolParam(p query.Params, key string) (*bool, error) {
	if !p.Has(key) {
		return nil, nil
	}
	switch strings.ToLower(p.Get(key)) {
	case "true", "1", "yes", "y", "on", "t":
		b := true
		return &b, nil
	case "false", "0", "no", "n", "off", "f":
		b := false
		return &b, nil
	}
	return nil, model.BadRequest("Invalid value for %s: %q is not a boolean", key, model.Clip(p.Get(key), 200))
}

// setNext adds the link to the next page: Ironic's "next", and the same
// link as "<collection>_links" with rel next, which is where gophercloud's
// pagers look (without it they would silently stop after the first page).
func setNext(doc map[string]any, collection, next string) {
	doc["next"] = next
	doc[collection+"_links"] = []any{map[string]string{"href": next, "rel": "next"}}
}

// showFields reads the query of a show request: only ?fields= is allowed,
// naming fields among known.
func showFields(r *http.Request, known map[string]int) ([]string, error) {
	p, err := query.ParseParams(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if err := checkParams(p, "fields"); err != nil {
		return nil, err
	}
	return parseFields(r, p, known)
}

// optString is an optional query parameter's value, nil when absent.
func optString(p query.Params, key string) *string {
	if !p.Has(key) {
		return nil
	}
	v := p.Get(key)
	return &v
}
