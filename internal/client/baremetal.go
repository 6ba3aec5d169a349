package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaremetalURL is where "allot serve" listens for the Bare Metal API.
const DefaultBaremetalURL = "http://127.0.0.1:6385"

// Baremetal is a client of the OpenStack Bare Metal API (Ironic's, or
// allot's Ironic-compatible one). Every request carries
// "X-OpenStack-Ironic-API-Version: <version>" (Latest by default) and, when
// a token is given, X-Auth-Token; Ironic's noauth mode needs none. Nodes and
// allocations may be named by UUID or by name wherever the API allows it.
type Baremetal struct {
	c *Client
}

// NewBaremetal returns a Bare Metal client for the endpoint at baseURL, the
// API's root ("http://host:6385"); a trailing "/v1" is accepted and dropped.
func NewBaremetal(baseURL string, opts Options) (*Baremetal, error) {
	root := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1")
	c, err := newClient(root, "baremetal", []versionHeader{{name: "X-OpenStack-Ironic-API-Version"}}, opts)
	if err != nil {
		return nil, err
	}
	return &Baremetal{c: c}, nil
}

// Client returns the underlying HTTP client, for requests the typed methods
// do not cover.
func (b *Baremetal) Client() *Client { return b.c }

// Do sends a raw request to the Bare Metal endpoint (see Client.Do); path
// includes the "/v1" prefix.
func (b *Baremetal) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	return b.c.Do(ctx, method, path, query, body)
}

// call sends a request and, when out is not nil and the server sent a body,
// decodes it into out.
func (b *Baremetal) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := b.c.Do(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	if out == nil || len(resp.Body) == 0 {
		return nil
	}
	return resp.Decode(out)
}

// PatchOp is one JSON-patch (RFC 6902) operation, as the Bare Metal API's
// PATCH endpoints take them: op is add, replace or remove; path is e.g.
// "/extra/owner"; Value is not sent for remove.
type PatchOp struct {
	Op    string
	Path  string
	Value any
}

// MarshalJSON writes {"op", "path", "value"}, without value for remove.
func (p PatchOp) MarshalJSON() ([]byte, error) {
	m := map[string]any{"op": p.Op, "path": p.Path}
	if p.Op != "remove" {
		m["value"] = p.Value
	}
	return json.Marshal(m)
}

// decodeRaw decodes a JSON object keeping numbers exact (json.Number), for
// the Raw fields of nodes and allocations.
func decodeRaw(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode the server's answer: %w", err)
	}
	return m, nil
}

// ListOptions are the paging and sorting options of the Bare Metal lists.
type ListOptions struct {
	// Limit is the most items to return in all (0: every item).
	Limit int
	// PageSize is the limit sent with each request (0: Limit when set, else
	// the server's default page); the client follows "next" links.
	PageSize int
	// Marker is the UUID of the item to start after.
	Marker string
	// SortKey and SortDir ("asc" or "desc") sort on the server.
	SortKey, SortDir string
	// Fields asks for only these fields (the server adds "links").
	Fields []string
}

// values adds the options to q.
func (o ListOptions) values(q url.Values) {
	size := o.PageSize
	if size == 0 {
		size = o.Limit
	}
	if size > 0 {
		q.Set("limit", strconv.Itoa(size))
	}
	if o.Marker != "" {
		q.Set("marker", o.Marker)
	}
	if o.SortKey != "" {
		q.Set("sort_key", o.SortKey)
	}
	if o.SortDir != "" {
		q.Set("sort_dir", o.SortDir)
	}
	if len(o.Fields) > 0 {
		q.Set("fields", strings.Join(o.Fields, ","))
	}
}

// listAll GETs a Bare Metal collection page by page, following the "next"
// links, until there is no next page or limit items were read (limit 0:
// all). key names the collection in the answer ("nodes", "allocations").
func listAll[T any](ctx context.Context, b *Baremetal, path, key string, q url.Values, limit int) ([]T, error) {
	out := []T{}
	seen := map[string]bool{}
	for {
		var doc map[string]json.RawMessage
		if err := b.call(ctx, http.MethodGet, path, q, nil, &doc); err != nil {
			return out, err
		}
		var items []T
		if raw, ok := doc[key]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return out, fmt.Errorf("decode the %s list: %w", key, err)
			}
		}
		for _, it := range items {
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
			out = append(out, it)
		}
		var next string
		if raw, ok := doc["next"]; ok {
			_ = json.Unmarshal(raw, &next)
		}
		if next == "" || len(items) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		u, err := url.Parse(next)
		if err != nil {
			return out, fmt.Errorf("the server's next link %q: %w", next, err)
		}
		q = u.Query()
		// A server repeating a marker would loop forever: stop instead.
		marker := q.Get("marker")
		if marker == "" || seen[marker] {
			return out, nil
		}
		seen[marker] = true
	}
}

// WaitTimeoutError says that a wait gave up before the object reached the
// state wanted.
type WaitTimeoutError struct {
	// What names the object ("allocation web-1", "node n1").
	What string
	// Want is the state waited for; State is the last one seen.
	Want, State string
	Timeout     time.Duration
}

// Error implements error.
func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("%s did not become %s within %s (its state is still %q)", e.What, e.Want, e.Timeout, e.State)
}

// StateFailedError says that an object reached a failure state while
// waited for; LastError is the server's explanation.
type StateFailedError struct {
	What, State, LastError string
}

// Error implements error.
func (e *StateFailedError) Error() string {
	msg := e.LastError
	if msg == "" {
		msg = "no error message given"
	}
	return fmt.Sprintf("%s failed (state %s): %s", e.What, e.State, msg)
}

// Poll intervals of the waits: the first check is immediate, then the
// interval grows from the first to the last.
const (
	firstPollInterval = 50 * time.Millisecond
	maxPollInterval   = time.Second
)

// waitFor calls check until it reports done or an error, or until timeout
// (0: no limit) has passed; then it returns a *WaitTimeoutError built from
// the state check last reported.
func waitFor(ctx context.Context, what, want string, timeout time.Duration, check func() (state string, done bool, err error)) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	interval := firstPollInterval
	for {
		state, done, err := check()
		if err != nil || done {
			return err
		}
		if !deadline.IsZero() && time.Now().Add(interval).After(deadline) {
			if rest := time.Until(deadline); rest > 0 {
				interval = rest
			} else {
				return &WaitTimeoutError{What: what, Want: want, State: state, Timeout: timeout}
			}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-t.C:
		}
		interval = min(2*interval, maxPollInterval)
	}
}

// fieldsQuery asks a show request for only these fields (none: all).
func fieldsQuery(fields []string) url.Values {
	if len(fields) == 0 {
		return nil
	}
	return url.Values{"fields": {strings.Join(fields, ",")}}
}
