package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"allot/internal/model"
)

// Latest asks the server for its highest microversion.
const Latest = "latest"

// DefaultTimeout bounds one HTTP request when Options.HTTPClient is nil.
const DefaultTimeout = 5 * time.Minute

// Options configures a Client.
type Options struct {
	// Token is sent as X-Auth-Token when not empty.
	Token string
	// Version is the microversion to request, "X.Y" or Latest (the default).
	Version string
	// HTTPClient sends the requests; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// UserAgent is sent as User-Agent when not empty.
	UserAgent string
}

// Client sends requests to one service endpoint. It is safe for concurrent
// use. Service-specific clients (Placement) wrap it.
type Client struct {
	baseURL string
	service string
	// versionHeaders are the request headers that carry the microversion;
	// each value is formatted by versionValue.
	versionHeaders []versionHeader
	opts           Options
	http           *http.Client
}

// versionHeader is one way of sending the microversion: OpenStack-API-Version
// takes "SERVICE X.Y", X-OpenStack-Ironic-API-Version takes "X.Y".
type versionHeader struct {
	name        string
	withService bool
}

// newClient builds a Client for the service at baseURL.
func newClient(baseURL, service string, headers []versionHeader, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: want an absolute http(s) URL such as http://127.0.0.1:8778", service, baseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s URL %q: the scheme must be http or https", service, baseURL)
	}
	if opts.Version == "" {
		opts.Version = Latest
	}
	if opts.Version != Latest {
		if _, ok := model.ParseVersion(opts.Version); !ok {
			return nil, fmt.Errorf("%s API version %q: want X.Y (e.g. 1.39) or %q", service, opts.Version, Latest)
		}
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{
		baseURL:        strings.TrimRight(baseURL, "/"),
		service:        service,
		versionHeaders: headers,
		opts:           opts,
		http:           hc,
	}, nil
}

// BaseURL returns the endpoint the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// RequestedVersion returns the microversion the client asks for ("X.Y" or
// Latest).
func (c *Client) RequestedVersion() string { return c.opts.Version }

// Response is a raw HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Version is the microversion the server answered with (from the
	// OpenStack-API-Version response header), or the zero Version when the
	// server did not say.
	Version model.Version
}

// Decode unmarshals the JSON body into out.
func (r *Response) Decode(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decode the server's answer (HTTP %d): %w", r.Status, err)
	}
	return nil
}

// Do sends one request. path is relative to the base URL and may carry no
// query (give query instead); body, when not nil, is sent as JSON (a
// json.RawMessage or []byte is sent as is). A status of 400 or more is
// returned as an *APIError; the Response is returned in every case where the
// server answered.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	target := c.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		var data []byte
		switch b := body.(type) {
		case json.RawMessage:
			data = b
		case []byte:
			data = b
		default:
			var err error
			if data, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("encode the %s %s body: %w", method, path, err)
			}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("build the %s %s request: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.opts.Token != "" {
		req.Header.Set("X-Auth-Token", c.opts.Token)
	}
	if c.opts.UserAgent != "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	for _, h := range c.versionHeaders {
		v := c.opts.Version
		if h.withService {
			v = c.service + " " + v
		}
		req.Header.Set(h.name, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", method, target, err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, Version: c.answeredVersion(resp.Header)}
	if resp.StatusCode >= 400 {
		return out, newAPIError(method, target, resp.StatusCode, resp.Header, data)
	}
	return out, nil
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// answeredVersion reads the microversion from the response headers; when the
// server says nothing it is the requested one if that was explicit.
func (c *Client) answeredVersion(h http.Header) model.Version {
	for _, value := range h.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(value, ",") {
			svc, ver, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && strings.EqualFold(svc, c.service) {
				if v, ok := model.ParseVersion(strings.TrimSpace(ver)); ok {
					return v
				}
			}
		}
	}
	for _, vh := range c.versionHeaders {
		if vh.withService {
			continue
		}
		if v, ok := model.ParseVersion(strings.TrimSpace(h.Get(vh.name))); ok {
			return v
		}
	}
	if v, ok := model.ParseVersion(c.opts.Version); ok {
		return v
	}
	return model.Version{}
}
