package api

import (
	"encoding/json"
	"html"
	"net/http"

	"allot/internal/model"
)

// ErrorInfo is everything an error envelope may show.
type ErrorInfo struct {
	Status    int
	Title     string
	Detail    string
	Code      string
	RequestID string
	// Version is the negotiated version; zero when negotiation failed.
	Version model.Version
	// VersionFailed is set when the error is the negotiation's own.
	VersionFailed bool
	// Gate is set for a route's version gate.
	Gate bool
}

// ErrorFormat renders error responses in one API's envelope.
type ErrorFormat interface {
	WriteError(w http.ResponseWriter, r *http.Request, info ErrorInfo)
}

// StatusOf maps an error kind to an HTTP status.
func StatusOf(k model.Kind) int {
	switch k {
	case model.KindBadRequest:
		return http.StatusBadRequest
	case model.KindNotFound:
		return http.StatusNotFound
	case model.KindConflict:
		return http.StatusConflict
	case model.KindForbidden:
		return http.StatusForbidden
	case model.KindUnauthorized:
		return http.StatusUnauthorized
	case model.KindNotAcceptable:
		return http.StatusNotAcceptable
	case model.KindUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case model.KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case model.KindUnavailable:
		return http.StatusServiceUnavailable
	case model.KindRequestTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// PlacementErrors renders {"errors":[...]} with codes from microversion 1.23.
// When the client's Accept header rules out JSON, it falls back to HTML or
// plain text as Placement (webob) does.
type PlacementErrors struct {
	// MinVersion and MaxVersion are added to a failed negotiation's 406.
	MinVersion, MaxVersion model.Version
}

// WriteError implements ErrorFormat.
func (f PlacementErrors) WriteError(w http.ResponseWriter, r *http.Request, info ErrorInfo) {
	h := w.Header()
	switch errorMediaType(r) {
	case "text/html":
		h.Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(info.Status)
		w.Write([]byte("<html>\n <head>\n  <title>" + itoa(info.Status) + " " + html.EscapeString(info.Title) +
			"</title>\n </head>\n <body>\n  <h1>" + itoa(info.Status) + " " + html.EscapeString(info.Title) +
			"</h1>\n  " + html.EscapeString(info.Detail) + "<br /><br />\n\n\n\n </body>\n</html>"))
		return
	case "text/plain":
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(info.Status)
		w.Write([]byte(itoa(info.Status) + " " + info.Title + "\n\n" + info.Detail + "\n\n"))
		return
	}
	e := map[string]any{"status": info.Status, "title": info.Title, "detail": info.Detail}
	if info.RequestID != "" {
		e["request_id"] = info.RequestID
	}
	if !info.VersionFailed && info.Version.AtLeast(model.V(1, 23)) {
		code := info.Code
		if code == "" {
			code = model.CodeUndefined
		}
		e["code"] = code
	}
	if info.VersionFailed && info.Status == http.StatusNotAcceptable {
		e["min_version"] = f.MinVersion.String()
		e["max_version"] = f.MaxVersion.String()
	}
	WriteJSON(w, info.Status, map[string]any{"errors": []any{e}})
}

// errorMediaType picks the media type of an error body from Accept:
// JSON unless the client accepts only HTML or plain text.
func errorMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" || acceptsJSON(accept) {
		return "application/json"
	}
	if acceptsType(accept, "text/html") {
		return "text/html"
	}
	return "text/plain"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// IronicErrors renders Ironic's envelope: {"error_message": "<JSON text>"},
// the inner document being {"faultcode", "faultstring", "debuginfo"} for
// ordinary errors, and {"code", "title", "description"} for version gates
// and failed negotiation.
type IronicErrors struct{}

// WriteError implements ErrorFormat.
func (IronicErrors) WriteError(w http.ResponseWriter, r *http.Request, info ErrorInfo) {
	var inner map[string]any
	if info.Gate || info.VersionFailed {
		inner = map[string]any{"code": info.Status, "title": info.Title, "description": info.Detail}
	} else {
		fault := "Client"
		if info.Status >= 500 {
			fault = "Server"
		}
		inner = map[string]any{"faultcode": fault, "faultstring": info.Detail, "debuginfo": nil}
	}
	text, _ := json.Marshal(inner)
	WriteJSON(w, info.Status, map[string]any{"error_message": string(text)})
}
