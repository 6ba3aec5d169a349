package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/policy"
)

// HandlerFunc is an API handler: it writes a success response or returns
// an error that the adapter renders in the API's envelope.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of an API's route table.
type Route struct {
	Method string
	// Pattern is a net/http pattern path such as /resource_providers/{uuid}.
	Pattern string
	// Since is the first microversion the route serves and the answer
	// below it (the zero Since serves every version).
	Since Since
	// Max is the last microversion the route serves (zero: no upper bound).
	Max model.Version
	// Public routes need no authentication and name no policy.
	Public bool
	// Policy names the policy rule that governs the route (every route
	// that is not Public names one; a test walks the route tables).
	// Handlers enforce it with Authorize at the point where the API they
	// copy checks policy.
	Policy  string
	Handler HandlerFunc
}

// Since is a route's version gate: the first microversion it serves, and
// the error a request below that version gets instead.
type Since struct {
	Min model.Version
	// Status is the status below Min: 404 or 405 (405 answers with the
	// path's Allow header).
	Status int
	// Message is the error's message below Min, verbatim (it may be empty).
	Message string
}

// notFound is Placement's and Ironic's wording of an unknown resource.
const notFound = "The resource could not be found."

// SinceVersion gates a route at min: below it the route does not exist
// (404, "The resource could not be found.").
func SinceVersion(min model.Version) Since {
	return Since{Min: min, Status: http.StatusNotFound, Message: notFound}
}

// serves reports whether rt serves microversion v.
func (rt *Route) serves(v model.Version) bool {
	return v.AtLeast(rt.Since.Min) && (rt.Max == (model.Version{}) || !rt.Max.Less(v))
}

// Identity is the caller, as the auth hook determined it: the credentials
// that policy rules read.
type Identity = policy.Credentials

// Authenticator identifies a caller; it returns an error of KindUnauthorized
// when the request carries no acceptable credentials (KindUnavailable when
// the identity service cannot be asked).
type Authenticator func(r *http.Request) (Identity, error)

// Service describes one API: its versions, errors, auth and routes.
type Service struct {
	Name     string
	Versions Versions
	Errors   ErrorFormat
	// Auth identifies callers; nil trusts everyone and enforces no policy
	// (Ironic's noauth).
	Auth Authenticator
	// Challenge, when set, is the WWW-Authenticate header of a 401
	// (Keystone's `Keystone uri="..."`).
	Challenge string
	// Policy decides the routes' rules; nil with a non-nil Auth refuses
	// every rule (fail closed).
	Policy *policy.Enforcer
	// Denied words the 403 of a refused rule in the API's own terms.
	Denied func(rule string) string
	Routes []Route
	Logger *slog.Logger
	// Timeout bounds each request's context (default 60 s).
	Timeout time.Duration
	// MaxBody caps request bodies (default 10 MiB).
	MaxBody int64
	// Before runs after version negotiation and before routing (e.g.
	// Placement's content-length / content-type rule); it may fail the
	// request.
	Before func(r *http.Request) error
	// Headers may add headers to every response, negotiated or not.
	Headers func(h http.Header)
	// IgnoreTrailingSlash routes /a/b/ like /a/b, as Ironic does (its
	// clients list with /v1/nodes/?...). Placement does not.
	IgnoreTrailingSlash bool
	// RequestIDHeaders name the response headers that carry the request
	// id (default X-Openstack-Request-Id, Placement's only one).
	RequestIDHeaders []string
	// Metrics counts the requests by route pattern (nil: not counted).
	Metrics *metrics.HTTP
}

// GateError is the error of a version gate (a route below its minimum
// microversion); some APIs word it differently from handler errors.
type GateError struct{ Err *model.Error }

// Error implements error.
func (g GateError) Error() string { return g.Err.Error() }

// Unwrap exposes the model error.
func (g GateError) Unwrap() error { return g.Err }

// Gate builds a GateError.
func Gate(kind model.Kind, format string, args ...any) error {
	return GateError{model.Errorf(kind, format, args...)}
}

type stateKey struct{}

// State is per-request information that handlers may read.
type State struct {
	RequestID string
	Version   model.Version
	Identity  Identity
	Service   *Service
	// Route is the matched route (nil before routing).
	Route *Route
	// Pattern is the route table's pattern the path matched ("" when
	// none did), whatever the method and version: the metrics' route.
	Pattern string
}

// StateOf returns the request's state.
func StateOf(r *http.Request) *State {
	if s, ok := r.Context().Value(stateKey{}).(*State); ok {
		return s
	}
	return &State{}
}

// VersionOf returns the negotiated microversion of r.
func VersionOf(r *http.Request) model.Version { return StateOf(r).Version }

// Handler builds the http.Handler of a service.
func (s *Service) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Timeout == 0 {
		s.Timeout = 60 * time.Second
	}
	if s.MaxBody == 0 {
		s.MaxBody = 10 << 20
	}
	if s.RequestIDHeaders == nil {
		s.RequestIDHeaders = []string{"X-Openstack-Request-Id"}
	}
	if err := s.CheckRoutes(); err != nil {
		panic(err) // a route table's bug, caught by any test that builds the handler
	}
	mux := http.NewServeMux()
	byPattern := map[string][]*Route{}
	var patterns []string
	for i := range s.Routes {
		rt := &s.Routes[i]
		if _, ok := byPattern[rt.Pattern]; !ok {
			patterns = append(patterns, rt.Pattern)
		}
		byPattern[rt.Pattern] = append(byPattern[rt.Pattern], rt)
	}
	for _, p := range patterns {
		routes := byPattern[p]
		muxPattern := p
		if strings.HasSuffix(p, "/") {
			muxPattern = p + "{$}" // exact, not a prefix
		}
		mux.Handle(muxPattern, s.dispatch(routes))
	}
	mux.Handle("/", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return model.NotFound("%s", notFound)
	}))
	return s.outer(s.canonical(mux, hasSlashPatterns(s.Routes)))
}

// CheckRoutes verifies the route table: every route that is not public
// names a policy rule, and (when the service has an enforcer) a rule the
// enforcer registers by default, so that no route can be added without
// one; every version gate answers 404 or 405. Handler panics on a
// violation.
func (s *Service) CheckRoutes() error {
	var problems []string
	for _, rt := range s.Routes {
		switch {
		case rt.Public && rt.Policy != "":
			problems = append(problems, fmt.Sprintf("%s %s is public but names rule %q", rt.Method, rt.Pattern, rt.Policy))
		case rt.Public:
		case rt.Policy == "":
			problems = append(problems, fmt.Sprintf("%s %s names no policy rule", rt.Method, rt.Pattern))
		case s.Policy != nil && !s.Policy.Has(rt.Policy):
			problems = append(problems, fmt.Sprintf("%s %s names %q, which is not a registered rule", rt.Method, rt.Pattern, rt.Policy))
		}
		if rt.Since.Min != (model.Version{}) && rt.Since.Status != http.StatusNotFound && rt.Since.Status != http.StatusMethodNotAllowed {
			problems = append(problems, fmt.Sprintf("%s %s is gated at %s with status %d, not 404 or 405", rt.Method, rt.Pattern, rt.Since.Min, rt.Since.Status))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the %s route table: %s", s.Name, strings.Join(problems, "; "))
	}
	return nil
}

// outer assigns the request id, recovers panics, logs, authenticates and
// negotiates the version before routing.
func (s *Service) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		observe := s.Metrics.Start()
		st := &State{RequestID: newRequestID(), Service: s}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), stateKey{}, st), s.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		for _, name := range s.RequestIDHeaders {
			rec.Header().Set(name, st.RequestID)
		}
		if s.Headers != nil {
			s.Headers(rec.Header())
		}
		defer func() {
			if p := recover(); p != nil {
				s.Logger.Error("panic while serving a request", "request_id", st.RequestID, "method", r.Method,
					"path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wrote {
					s.writeError(rec, r, &model.Error{Kind: model.KindInternal, Message: "internal error; the request id names it in the server log"})
				}
			}
			if rec.wrote && rec.Header().Get("Content-Length") != "" {
				// The whole answer is in net/http's buffers: send it now,
				// so that the client does not wait for the log line. (An
				// answer of unknown length is left to net/http: flushing
				// it early would force chunked encoding.)
				http.NewResponseController(rec).Flush()
			}
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", st.RequestID),
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
				slog.String("version", st.Version.String()), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
			observe(st.Pattern, r.Method, rec.status)
		}()
		r.Body = http.MaxBytesReader(rec, r.Body, s.MaxBody)
		if s.IgnoreTrailingSlash && len(r.URL.Path) > 1 && strings.HasSuffix(r.URL.Path, "/") {
			u := *r.URL
			u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
			if u.Path == "" {
				u.Path = "/"
			}
			r.URL = &u
		}
		if s.Auth != nil && !s.isPublicPath(r) {
			id, err := s.Auth(r)
			if err != nil {
				s.writeErrorNoVersion(rec, r, err)
				return
			}
			st.Identity = id
		}
		v, verr := s.Versions.Negotiate(r)
		if verr != nil {
			title := http.StatusText(verr.status)
			s.Errors.WriteError(rec, r, ErrorInfo{Status: verr.status, Title: title, Detail: verr.text,
				RequestID: st.RequestID, VersionFailed: true})
			return
		}
		st.Version = v
		s.Versions.Echo(rec.Header(), v)
		if s.Before != nil {
			if err := s.Before(r); err != nil {
				s.writeError(rec, r, err)
				return
			}
		}
		next.ServeHTTP(rec, r)
	})
}

// isPublicPath reports whether every route of the request's path is public.
func (s *Service) isPublicPath(r *http.Request) bool {
	for i := range s.Routes {
		if s.Routes[i].Public && s.Routes[i].Pattern == r.URL.Path {
			return true
		}
	}
	return false
}

// dispatch picks the route of a pattern by method and version, answering
// 405 with Allow for other methods.
func (s *Service) dispatch(routes []*Route) http.Handler {
	methods := map[string]bool{}
	for _, rt := range routes {
		methods[rt.Method] = true
	}
	var allow []string
	for m := range methods {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	allowHeader := strings.Join(allow, ", ")
	pattern := routes[0].Pattern
	return s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		StateOf(r).Pattern = pattern
		var sameMethod []*Route
		for _, rt := range routes {
			if rt.Method == r.Method {
				sameMethod = append(sameMethod, rt)
			}
		}
		if len(sameMethod) == 0 {
			w.Header().Set("Allow", allowHeader)
			return model.Errorf(model.KindMethodNotAllowed, "The method %s is not allowed for this resource.", r.Method)
		}
		v := VersionOf(r)
		var chosen, gate *Route
		for _, rt := range sameMethod {
			if rt.serves(v) {
				chosen = rt
				break
			}
			if gate == nil && v.Less(rt.Since.Min) {
				gate = rt // the first route the version is below answers
			}
		}
		if chosen == nil {
			if gate == nil { // above every route's Max
				return Gate(model.KindNotFound, "%s", notFound)
			}
			// The API's own words, then which version serves the route and
			// the header that asks for it.
			hint := model.HintMicroversion(r.Method+" "+gate.Pattern, gate.Since.Min, s.Versions.Max, s.Versions.Header(gate.Since.Min))
			kind := model.KindNotFound
			if gate.Since.Status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", allowHeader)
				kind = model.KindMethodNotAllowed
			}
			return GateError{model.Errorf(kind, "%s", gate.Since.Message).WithHint(hint)}
		}
		StateOf(r).Route = chosen
		if err := CheckRequestStrings(r, chosen.Pattern); err != nil {
			return err // what no store can hold is a 400 before any store sees it
		}
		return chosen.Handler(w, r)
	})
}

// Authorize enforces the matched route's policy rule on target (nil: the
// caller's own project and user, oslo.policy's default target) and returns
// the API's 403 when it refuses. Handlers call it where the API they copy
// checks policy (after its own input checks).
func Authorize(r *http.Request, target policy.Target) error {
	st := StateOf(r)
	if st.Route == nil || st.Route.Public {
		return nil
	}
	return Enforce(r, st.Route.Policy, target)
}

// Enforce is Authorize for a named rule: operations that check a second
// rule (Ironic's list_all, create_restricted) name it.
func Enforce(r *http.Request, rule string, target policy.Target) error {
	st := StateOf(r)
	s := st.Service
	if s == nil || s.Auth == nil {
		return nil // noauth: no identity, no policy
	}
	if target == nil {
		target = policy.Target{"project_id": st.Identity.ProjectID, "user_id": st.Identity.UserID}
	}
	if s.Policy != nil {
		if s.Policy.Enforce(rule, target, st.Identity) == nil {
			return nil
		}
	}
	msg := "Policy does not allow " + rule + " to be performed."
	if s.Denied != nil {
		msg = s.Denied(rule)
	}
	return model.Errorf(model.KindForbidden, "%s", msg)
}

// Allowed reports whether the caller passes rule on target, without an
// error (for answers that narrow rather than refuse, such as a list).
func Allowed(r *http.Request, rule string, target policy.Target) bool {
	return Enforce(r, rule, target) == nil
}

// IdentityOf returns the caller of r, and whether there is one (false
// under noauth, which trusts every caller).
func IdentityOf(r *http.Request) (Identity, bool) {
	st := StateOf(r)
	return st.Identity, st.Service != nil && st.Service.Auth != nil
}

// adapt turns a HandlerFunc into an http.Handler that renders its error.
func (s *Service) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if AnswerCut(err) { // the connection is gone: nothing to answer
				s.Logger.Info("the client did not take the answer", "request_id", StateOf(r).RequestID, "error", err)
				return
			}
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil { // the client left or missed a deadline
				s.Logger.Info("the request was abandoned: its connection ended", "request_id", StateOf(r).RequestID, "error", err)
				return
			}
			s.writeError(w, r, err)
		}
	})
}

func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := StateOf(r)
	info := s.errorInfo(r, err)
	info.Version = st.Version
	s.challenge(w, info.Status)
	s.Errors.WriteError(w, r, info)
}

func (s *Service) writeErrorNoVersion(w http.ResponseWriter, r *http.Request, err error) {
	info := s.errorInfo(r, err)
	s.challenge(w, info.Status)
	s.Errors.WriteError(w, r, info)
}

// challenge names the identity service on a 401, as keystonemiddleware does.
func (s *Service) challenge(w http.ResponseWriter, status int) {
	if status == http.StatusUnauthorized && s.Challenge != "" {
		w.Header().Set("WWW-Authenticate", s.Challenge)
	}
}

func (s *Service) errorInfo(r *http.Request, err error) ErrorInfo {
	st := StateOf(r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = model.Errorf(model.KindRequestTooLarge, "the request body is larger than the limit of %d bytes", mbe.Limit)
	}
	var gate GateError
	isGate := errors.As(err, &gate)
	e, ok := model.AsError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			e = &model.Error{Kind: model.KindUnavailable, Message: "the request took too long and was abandoned; retry", Err: err}
		} else {
			e = &model.Error{Kind: model.KindInternal, Message: "internal error; the request id names it in the server log", Err: err}
		}
	}
	status := StatusOf(e.Kind)
	if status >= 500 {
		s.Logger.Error("request failed", "request_id", st.RequestID, "method", r.Method, "path", r.URL.Path, "error", err)
	}
	return ErrorInfo{Status: status, Title: http.StatusText(status), Detail: model.Clip(e.Detail(), MaxDetail), Code: e.Code, RequestID: st.RequestID, Gate: isGate}
}

// recorder remembers the status for logging.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
