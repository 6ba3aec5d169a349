package model

import (
	"errors"
	"fmt"
)

// Kind classifies an Error so that each API can map it to a status code.
// The enum is append-only: never renumber or reuse a value.
type Kind int

// The kinds of error. Internal is the zero value so that an unclassified
// error is never mistaken for a client error.
const (
	KindInternal Kind = iota
	KindBadRequest
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthorized
	KindNotAcceptable
	KindUnsupportedMediaType
	KindMethodNotAllowed
	KindUnavailable
	KindRequestTooLarge
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindBadRequest:
		return "bad_request"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	case KindUnauthorized:
		return "unauthorized"
	case KindNotAcceptable:
		return "not_acceptable"
	case KindUnsupportedMediaType:
		return "unsupported_media_type"
	case KindMethodNotAllowed:
		return "method_not_allowed"
	case KindUnavailable:
		return "unavailable"
	case KindRequestTooLarge:
		return "request_too_large"
	default:
		return "internal"
	}
}

// Placement error codes (reported from microversion 1.23).
const (
	CodeUndefined               = "placement.undefined_code"
	CodeInventoryInUse          = "placement.inventory.inuse"
	CodeConcurrentUpdate        = "placement.concurrent_update"
	CodeDuplicateName           = "placement.duplicate_name"
	CodeProviderInUse           = "placement.resource_provider.inuse"
	CodeProviderCannotDelParent = "placement.resource_provider.cannot_delete_parent"
	CodeProviderNotFound        = "placement.resource_provider.not_found"
	CodeQueryDuplicateKey       = "placement.query.duplicate_key"
	CodeQueryBadValue           = "placement.query.bad_value"
	CodeQueryMissingValue       = "placement.query.missing_value"
)

// Error is the one error type of allot. Message is meant for the API client
// and must say what was wrong and how to fix it; Err keeps the cause for logs.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Hint is what a person needs beyond the API's own wording (which
	// clients and tests may depend on): what to do next, the names meant,
	// the numbers behind a refusal (see hint.go). Detail puts it after the
	// message.
	Hint string
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" && e.Hint == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Detail() + ": " + e.Err.Error()
	}
	return e.Detail()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// WithCode returns a copy of e carrying the given Placement error code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// BadRequest is a shorthand for a KindBadRequest error.
func BadRequest(format string, args ...any) *Error { return Errorf(KindBadRequest, format, args...) }

// NotFound is a shorthand for a KindNotFound error.
func NotFound(format string, args ...any) *Error { return Errorf(KindNotFound, format, args...) }

// Conflict is a shorthand for a KindConflict error.
func Conflict(format string, args ...any) *Error { return Errorf(KindConflict, format, args...) }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// KindOf returns the Kind of err (KindInternal when err is not an *Error).
func KindOf(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err is an *Error of the given kind.
func IsKind(err error, k Kind) bool { return err != nil && KindOf(err) == k }
