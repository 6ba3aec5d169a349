package placementapi

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"allot/internal/api"
	"allot/internal/engine"
	"allot/internal/model"
	"allot/internal/query"
)

// Query schemas of GET /allocation_candidates, per microversion (as
// Placement validates them, so that errors read the same).
const (
	acLimit   = `"limit": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, "minLength": 1}`
	acPolicy  = `"group_policy": {"type": "string", "enum": ["none", "isolate"]}`
	acRootReq = `"root_required": {"type": ["string"]}`
	acSubtree = `"same_subtree": {"type": ["string"]}`
)

func acGroupPatterns(suffix string, keys ...string) string {
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += `"^` + k + `(` + suffix + `)?$": {"type": "string"}`
	}
	return out
}

func acSchema(props []string, patterns string, required string) *api.Schema {
	text := `{"type": "object", "properties": {`
	for i, p := range props {
		if i > 0 {
			text += ", "
		}
		text += p
	}
	text += `}, "additionalProperties": false`
	if patterns != "" {
		text += `, "patternProperties": {` + patterns + `}`
	}
	if required != "" {
		text += `, "required": [` + required + `]`
	}
	return api.MustSchema(text + `}`)
}

var acSchemas = []struct {
	min    model.Version
	schema *api.Schema
}{
	{model.V(1, 36), acSchema([]string{acLimit, acPolicy, acRootReq, acSubtree}, acGroupPatterns("[a-zA-Z0-9_-]{1,64}", "resources", "required", "member_of", "in_tree"), "")},
	{model.V(1, 35), acSchema([]string{acLimit, acPolicy, acRootReq}, acGroupPatterns("[a-zA-Z0-9_-]{1,64}", "resources", "required", "member_of", "in_tree"), "")},
	{model.V(1, 33), acSchema([]string{acLimit, acPolicy}, acGroupPatterns("[a-zA-Z0-9_-]{1,64}", "resources", "required", "member_of", "in_tree"), "")},
	{model.V(1, 31), acSchema([]string{acLimit, acPolicy}, acGroupPatterns("[1-9][0-9]*", "resources", "required", "member_of", "in_tree"), "")},
	{model.V(1, 25), acSchema([]string{acLimit, acPolicy}, acGroupPatterns("[1-9][0-9]*", "resources", "required", "member_of"), "")},
	{model.V(1, 21), acSchema([]string{`"resources": {"type": "string"}`, acLimit, `"required": {"type": ["string"]}`, `"member_of": {"type": ["string"]}`}, "", `"resources"`)},
	{model.V(1, 17), acSchema([]string{`"resources": {"type": "string"}`, acLimit, `"required": {"type": ["string"]}`}, "", `"resources"`)},
	{model.V(1, 16), acSchema([]string{`"resources": {"type": "string"}`, acLimit}, "", `"resources"`)},
	{model.V(1, 10), acSchema([]string{`"resources": {"type": "string"}`}, "", `"resources"`)},
}

func (h *handlers) allocationCandidates(w http.ResponseWriter, r *http.Request) error {
	if err := forRead(r); err != nil {
		return err
	}
	return h.answerCandidates(w, r, api.VersionOf(r), r.URL.RawQuery, h.svc.AllocationCandidates)
}

// candidateSearch runs an allocation-candidates query.
type candidateSearch func(ctx context.Context, q query.Candidates) (*engine.Result, error)

// answerCandidates validates rawQuery as GET /allocation_candidates does
// at microversion v, runs search over it and writes the answer in v's
// format: the standard endpoint and its /allot/v1 extension share it
// (policy is the caller's).
func (h *handlers) answerCandidates(w http.ResponseWriter, r *http.Request, v model.Version, rawQuery string, search candidateSearch) error {
	q, err := parseCandidatesQuery(rawQuery, v)
	if err != nil {
		return err
	}
	res, err := search(r.Context(), q)
	if err != nil {
		return err
	}
	if res.Truncated {
		w.Header().Set("X-Allot-Candidates-Truncated", "true")
	}
	if v.AtLeast(model.V(1, 15)) {
		api.SetLastModified(w, time.Now())
	}
	buf := getBuffer(answerSize(res))
	body := renderCandidates(buf[:0], res, q, v, h.memo)
	res.Release()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	putBuffer(body)
	return err
}

// parseCandidatesQuery validates and parses the query string of GET
// /allocation_candidates at microversion v: the standard endpoint and the
// /allot/v1 extensions that take its query share it.
func parseCandidatesQuery(rawQuery string, v model.Version) (query.Candidates, error) {
	params, err := query.ParseParams(rawQuery)
	if err != nil {
		return query.Candidates{}, err
	}
	for _, s := range acSchemas {
		if v.AtLeast(s.min) {
			if err := api.ValidateQuery(params.Last(), s.schema); err != nil {
				return query.Candidates{}, err
			}
			break
		}
	}
	return query.ParseCandidates(params, v)
}

// answerSize estimates the size of res rendered: about 300 bytes per
// request (a host and a NUMA node, or a host and a sharing pool, with
// their mappings) and per provider summary (two or three classes, a trait
// and the tree uuids), the sizes of the answers of BenchmarkBigAnswers.
// An estimate too large costs more than one too small: a buffer is zeroed
// when allocated, and one over maxPooledBuffer is not recycled, while a
// buffer that grows is kept in its larger size.
func answerSize(res *engine.Result) int {
	return 320*(len(res.Requests)+len(res.Summaries)) + 1024
}

// responseBuffers recycles response buffers: allocating (and zeroing) a
// buffer for every response costs more than rendering it (an answer to
// nova's default limit of 1000 candidates is about 1 MB, the full answer
// of a 7,000-provider nested cloud 2.4 MB; BenchmarkBigAnswers). Unlike a
// sync.Pool it survives garbage collections, so it is bounded: at most
// pooledBuffers buffers of at most maxPooledBuffer bytes each and
// pooledBytes in all. Larger answers get a buffer of their own that the
// collector frees.
var responseBuffers = bufferPool{limit: pooledBytes, count: pooledBuffers}

const (
	// maxPooledBuffer bounds one pooled buffer: answers capped at the
	// default 10,000 candidates fit (5-21 MB in BenchmarkGrowthHTTP; an
	// answer of 21 MB in a fresh buffer took 2.3x the CPU of one in a
	// recycled buffer).
	maxPooledBuffer = 32 << 20
	// pooledBytes bounds what the pool holds in all: two such answers.
	pooledBytes = 64 << 20
	// pooledBuffers bounds how many buffers it holds.
	pooledBuffers = 8
)

// bufferPool keeps free buffers by capacity, the smallest first, within a
// total of limit bytes and count buffers. A buffer is handed out for an
// answer when it fits the estimate (the smallest that does); room for a
// buffer given back is made by dropping smaller ones, so that buffers of
// small answers do not keep out those of large ones. Safe for concurrent
// use.
type bufferPool struct {
	mu           sync.Mutex
	free         [][]byte // by capacity, ascending
	held         int      // the sum of their capacities
	limit, count int
}

// get returns an empty buffer of at least estimate bytes of capacity.
func (p *bufferPool) get(estimate int) []byte {
	if estimate <= maxPooledBuffer {
		p.mu.Lock()
		i, _ := slices.BinarySearchFunc(p.free, estimate, func(b []byte, n int) int { return cmp.Compare(cap(b), n) })
		if i < len(p.free) {
			b := p.free[i]
			p.free = slices.Delete(p.free, i, i+1)
			p.held -= cap(b)
			p.mu.Unlock()
			return b[:0]
		}
		p.mu.Unlock()
	}
	return make([]byte, 0, estimate)
}

// put gives b back to the pool, which keeps it if it is within the bounds
// once smaller buffers are dropped; b must not be used afterwards.
func (p *bufferPool) put(b []byte) {
	if cap(b) > maxPooledBuffer || cap(b) > p.limit {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.free) > 0 && cap(p.free[0]) < cap(b) && (p.held+cap(b) > p.limit || len(p.free) >= p.count) {
		p.held -= cap(p.free[0])
		p.free = slices.Delete(p.free, 0, 1)
	}
	if p.held+cap(b) > p.limit || len(p.free) >= p.count {
		return
	}
	i, _ := slices.BinarySearchFunc(p.free, cap(b), func(f []byte, n int) int { return cmp.Compare(cap(f), n) })
	p.free = slices.Insert(p.free, i, b[:0])
	p.held += cap(b)
}

func getBuffer(estimate int) []byte { return responseBuffers.get(estimate) }

func putBuffer(b []byte) { responseBuffers.put(b) }

// jsonPlain marks the bytes a JSON string can hold as they are (printable
// ASCII other than the quote and the backslash).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// renderCandidates writes the response by hand: it can be megabytes, and
// this is the hot path of every scheduler. Summaries are taken from and
// kept in memo (nil: rendered every time).
func renderCandidates(b []byte, res *engine.Result, q query.Candidates, v model.Version, memo *summaryMemo) []byte {
	dict := v.AtLeast(model.V(1, 12))
	mappings := v.AtLeast(model.V(1, 34))
	allClasses := v.AtLeast(model.V(1, 27))
	traits := v.AtLeast(model.V(1, 17))
	nested := v.AtLeast(model.V(1, 29))
	requested := map[string]bool{}
	if !allClasses {
		for _, g := range q.Groups {
			for _, a := range g.Resources {
				requested[a.Class] = true
			}
		}
	}
	b = append(b, `{"allocation_requests": [`...)
	for i, req := range res.Requests {
		if i > 0 {
			b = append(b, ", "...)
		}
		if dict {
			b = append(b, `{"allocations": {`...)
			for j, pa := range req.Allocations {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = appendString(b, pa.UUID)
				b = append(b, `: {"resources": {`...)
				b = appendAmounts(b, pa.Amounts)
				b = append(b, "}}"...)
			}
			b = append(b, '}')
			if mappings {
				b = append(b, `, "mappings": {`...)
				for j, m := range req.Mappings {
					if j > 0 {
						b = append(b, ", "...)
					}
					b = appendString(b, m.Suffix)
					b = append(b, ": ["...)
					for k, u := range m.Providers {
						if k > 0 {
							b = append(b, ", "...)
						}
						b = appendString(b, u)
					}
					b = append(b, ']')
				}
				b = append(b, '}')
			}
			b = append(b, '}')
		} else {
			b = append(b, `{"allocations": [`...)
			for j, pa := range req.Allocations {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = append(b, `{"resource_provider": {"uuid": `...)
				b = appendString(b, pa.UUID)
				b = append(b, `}, "resources": {`...)
				b = appendAmounts(b, pa.Amounts)
				b = append(b, "}}"...)
			}
			b = append(b, "]}"...)
		}
	}
	b = append(b, `], "provider_summaries": {`...)
	// A summary's rendering is kept in the memo until the provider
	// changes (one format with tree uuids, one without); formats listing
	// only requested classes are rendered every time.
	format := -1
	if allClasses && traits && memo != nil {
		format = 0
		if nested {
			format = 1
		}
	}
	for i := range res.Summaries {
		s := &res.Summaries[i]
		if i > 0 {
			b = append(b, ", "...)
		}
		if format < 0 || s.Version == 0 {
			b = appendSummary(b, s, requested, allClasses, traits, nested)
			continue
		}
		if frag := memo.get(s.Version, format); frag != nil {
			b = append(b, frag...)
			continue
		}
		start := len(b)
		b = appendSummary(b, s, requested, allClasses, traits, nested)
		memo.put(s.Version, format, append([]byte(nil), b[start:]...))
	}
	return append(b, "}}"...)
}

// appendSummary renders `"uuid": {...}` for one provider summary.
func appendSummary(b []byte, s *engine.Summary, requested map[string]bool, allClasses, traits, nested bool) []byte {
	b = appendString(b, s.UUID)
	b = append(b, `: {"resources": {`...)
	n := 0
	for _, r := range s.Resources {
		if !allClasses && !requested[r.Class] {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendString(b, r.Class)
		b = append(b, `: {"capacity": `...)
		b = strconv.AppendInt(b, r.Capacity, 10)
		b = append(b, `, "used": `...)
		b = strconv.AppendInt(b, r.Used, 10)
		b = append(b, '}')
	}
	b = append(b, '}')
	if traits {
		b = append(b, `, "traits": [`...)
		for j, t := range s.Traits {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	if nested {
		b = append(b, `, "parent_provider_uuid": `...)
		if s.ParentUUID == "" {
			b = append(b, "null"...)
		} else {
			b = appendString(b, s.ParentUUID)
		}
		b = append(b, `, "root_provider_uuid": `...)
		b = appendString(b, s.RootUUID)
	}
	return append(b, '}')
}

func appendAmounts(b []byte, amounts []engine.ClassAmount) []byte {
	for k, a := range amounts {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = appendString(b, a.Class)
		b = append(b, ": "...)
		b = strconv.AppendInt(b, a.Amount, 10)
	}
	return b
}

// appendString appends s as a JSON string: a straight copy for the plain
// ASCII of UUIDs, class and trait names, escaped properly otherwise.
func appendString(b []byte, s string) []byte {
	if !isJSONPlain(s) {
		enc, _ := json.Marshal(s)
		return append(b, enc...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// isJSONPlain reports whether every byte of s is in jsonPlain. It tests
// eight bytes at a time: a word has no byte to escape when it has none at
// or above 0x80, none below 0x20 and no quote or backslash. The word tests
// never miss such a byte (a rare false alarm only costs the escaping path).
func isJSONPlain(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		bad := w | (w-ones*0x20) & ^w | (quote-ones) & ^quote | (backslash-ones) & ^backslash
		if bad&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			return false
		}
	}
	return true
}
