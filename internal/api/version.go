package api

import (
	"net/http"
	"strings"

	"allot/internal/model"
)

// Versions is how one API negotiates microversions.
type Versions struct {
	// Service is the service type in "OpenStack-API-Version: <service> X.Y".
	Service string
	// LegacyHeader is an extra header holding just "X.Y" (Ironic's
	// X-OpenStack-Ironic-API-Version); empty when the API has none.
	LegacyHeader string
	Min, Max     model.Version
	// Default is used when the request names no version (the minimum for
	// both OpenStack APIs).
	Default model.Version
	// Echo writes the negotiated version onto a response.
	Echo func(h http.Header, v model.Version)
	// Reject, when set, words a failed negotiation: raw is what the client
	// asked for, malformed says it was not a version at all. It returns the
	// status and message (default: 400 malformed, 406 out of range).
	Reject func(raw string, malformed bool) (status int, text string)
}

// Header is the request header a client sends to ask for version v: the
// API's own legacy header when it has one (what its clients send), else
// "OpenStack-API-Version: <service> X.Y".
func (vs Versions) Header(v model.Version) string {
	if vs.LegacyHeader != "" {
		return vs.LegacyHeader + ": " + v.String()
	}
	return "OpenStack-API-Version: " + vs.Service + " " + v.String()
}

// versionError is a negotiation failure: 400 for a malformed version, 406
// for one out of range.
type versionError struct {
	status int
	text   string
}

// Negotiate picks the version a request asks for.
func (vs Versions) Negotiate(r *http.Request) (model.Version, *versionError) {
	raw, found := "", false
	// OpenStack-API-Version: comma-folded values, scanned right to left for
	// our service; entries for other services are ignored.
	values := r.Header.Values("Openstack-Api-Version")
	for i := len(values) - 1; i >= 0 && !found; i-- {
		items := strings.Split(values[i], ",")
		for j := len(items) - 1; j >= 0; j-- {
			fields := strings.Fields(items[j])
			if len(fields) == 0 || !strings.EqualFold(fields[0], vs.Service) {
				continue
			}
			raw, found = strings.Join(fields[1:], " "), true
			break
		}
	}
	if !found && vs.LegacyHeader != "" {
		if v := r.Header.Get(vs.LegacyHeader); v != "" {
			raw, found = strings.TrimSpace(v), true
		}
	}
	if !found {
		return vs.Default, nil
	}
	if strings.EqualFold(raw, "latest") {
		return vs.Max, nil
	}
	v, ok := model.ParseVersion(raw)
	if !ok || v.Less(vs.Min) || vs.Max.Less(v) {
		raw = Clip(raw) // the error quotes at most a short prefix of the header
	}
	if !ok {
		if vs.Reject != nil {
			status, text := vs.Reject(raw, true)
			return model.Version{}, &versionError{status: status, text: text}
		}
		return model.Version{}, &versionError{status: http.StatusBadRequest, text: "invalid version string: " + raw}
	}
	if v.Less(vs.Min) || vs.Max.Less(v) {
		if vs.Reject != nil {
			status, text := vs.Reject(raw, false)
			return model.Version{}, &versionError{status: status, text: text}
		}
		return model.Version{}, &versionError{status: http.StatusNotAcceptable, text: "Unacceptable version header: " + raw}
	}
	return v, nil
}
