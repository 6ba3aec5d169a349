package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an error answer (HTTP status >= 400) from the server, with the
// message the server gave.
type APIError struct {
	Method string
	URL    string
	Status int
	// Code is the Placement error code (e.g. placement.concurrent_update),
	// when the server sent one.
	Code string
	// Title is the status text the server sent ("Conflict").
	Title string
	// Detail is the server's explanation, whitespace-normalized.
	Detail    string
	RequestID string
}

// Error returns the server's message and the status, e.g. "No resource
// provider with uuid X found (HTTP 404)".
func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" && e.Code != "placement.undefined_code" {
		return fmt.Sprintf("%s (HTTP %d, %s)", msg, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// IsStatus reports whether err is an *APIError with the given HTTP status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return IsStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is a 409 answer.
func IsConflict(err error) bool { return IsStatus(err, http.StatusConflict) }

// newAPIError reads an error body in either API's format: Placement's
// {"errors": [{"status", "title", "detail", "code", "request_id"}]} or
// Ironic's {"error_message": "<JSON with faultstring>"}; anything else is
// shown as text.
func newAPIError(method, url string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{Method: method, URL: url, Status: status, Title: http.StatusText(status)}
	e.RequestID = h.Get("X-Openstack-Request-Id")
	var placement struct {
		Errors []struct {
			Title     string `json:"title"`
			Detail    string `json:"detail"`
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
		} `json:"errors"`
	}
	var ironic struct {
		ErrorMessage json.RawMessage `json:"error_message"`
	}
	switch {
	case json.Unmarshal(body, &placement) == nil && len(placement.Errors) > 0:
		var details []string
		for _, pe := range placement.Errors {
			if d := cleanDetail(pe.Detail, pe.Title); d != "" {
				details = append(details, d)
			}
		}
		first := placement.Errors[0]
		e.Detail = strings.Join(details, "; ")
		e.Code = first.Code
		if first.Title != "" {
			e.Title = first.Title
		}
		if first.RequestID != "" {
			e.RequestID = first.RequestID
		}
	case json.Unmarshal(body, &ironic) == nil && len(ironic.ErrorMessage) > 0:
		e.Detail = ironicMessage(ironic.ErrorMessage)
	default:
		e.Detail = normalizeSpace(string(body))
		if len(e.Detail) > 500 {
			e.Detail = e.Detail[:500] + "..."
		}
	}
	return e
}

// cleanDetail drops the generic first line Placement puts before the real
// message ("The resource could not be found.\n\n No resource provider...")
// and normalizes whitespace.
func cleanDetail(detail, title string) string {
	lines := strings.Split(strings.TrimSpace(detail), "\n")
	var kept []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	if len(kept) > 1 && isGenericLine(kept[0], title) {
		kept = kept[1:]
	}
	return normalizeSpace(strings.Join(kept, " "))
}

// isGenericLine recognizes webob's boilerplate first lines.
func isGenericLine(line, title string) bool {
	switch line {
	case "The resource could not be found.",
		"The server could not comply with the request since it is either malformed or otherwise incorrect.",
		"There was a conflict when trying to complete your request.",
		"Access was denied to this resource.":
		return true
	}
	return title != "" && strings.TrimSuffix(line, ".") == title
}

// ironicMessage reads Ironic's error_message: a JSON string (or object)
// that holds {"faultstring": ...} for ordinary errors and {"code", "title",
// "description"} for the version gates.
func ironicMessage(raw json.RawMessage) string {
	doc := []byte(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		doc = []byte(s)
	}
	var fault struct {
		Faultstring string `json:"faultstring"`
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	if json.Unmarshal(doc, &fault) == nil {
		for _, msg := range []string{fault.Faultstring, fault.Description, fault.Title} {
			if msg != "" {
				return normalizeSpace(msg)
			}
		}
	}
	return normalizeSpace(string(doc))
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
