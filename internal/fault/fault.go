// Package fault holds the error kinds the service layer reports. Each kind is a
// sentinel; an *Error adds a stable machine code, the path of the culprit and a
// message for course managers in Portuguese. The transport edge turns the kind into
// a gRPC status (and so an HTTP status); nothing below it knows about either.
package fault

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
)

// The error kinds. Test with errors.Is.
var (
	// ErrInvalidArgument: the caller sent something malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: a dependency (the database) cannot be reached right now.
	ErrUnavailable = errors.New("unavailable")
	// ErrConflict: the request clashes with earlier ones (an idempotency key reused
	// for another file).
	ErrConflict = errors.New("conflict")
	// ErrFailedPrecondition: the request is well formed but its precondition does
	// not hold (the file is not the one that was analysed).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrTooLarge: the request exceeds a configured size limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnauthenticated: no credentials, or credentials that do not check out.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermissionDenied: valid credentials that may not do this.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnsupportedMediaType: a request body of a type the route does not take
	// (REST only).
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrMethodNotAllowed: a route asked with a method it does not answer (REST only).
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrRejected: the database refused data the caller sent (a constraint or a
	// value it cannot store), though checks let it through.
	ErrRejected = errors.New("rejected by the database")
)

// Rejection is an ErrRejected from the database: which constraint (or SQLSTATE
// when no constraint is named) of which table refused a row.
type Rejection struct {
	Constraint, Table string
	Err               error
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("rejected by the database: %s on %s: %v", r.Constraint, r.Table, r.Err)
}

// Unwrap makes errors.Is(err, ErrRejected) hold, and keeps the cause.
func (r *Rejection) Unwrap() []error { return []error{ErrRejected, r.Err} }

// Error is an error for the caller: a kind, a stable code, the path of the culprit
// (a request field or JSON path, may be empty) and a pt-BR message.
type Error struct {
	Kind    error
	Code    string
	Path    string
	Message string
	// Details are messages that travel with the error to the caller (an import
	// report, say).
	Details []proto.Message
}

// New returns an *Error of the given kind.
func New(kind error, code, path, message string) *Error {
	return &Error{Kind: kind, Code: code, Path: path, Message: message}
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + " at " + e.Path + ": " + e.Message
}

// Unwrap makes errors.Is(err, kind) hold.
func (e *Error) Unwrap() error { return e.Kind }

// kindNames are the machine codes of errors that carry no code of their own:
// the names of the matching gRPC status codes, so that an API error, a log line
// and an audit outcome say the same.
var kindNames = []struct {
	kind error
	name string
}{
	{ErrInvalidArgument, "INVALID_ARGUMENT"},
	{ErrUnsupportedMediaType, "INVALID_ARGUMENT"},
	{ErrRejected, "INVALID_ARGUMENT"},
	{ErrNotFound, "NOT_FOUND"},
	{ErrUnavailable, "UNAVAILABLE"},
	{ErrConflict, "ABORTED"},
	{ErrFailedPrecondition, "FAILED_PRECONDITION"},
	{ErrTooLarge, "RESOURCE_EXHAUSTED"},
	{ErrUnauthenticated, "UNAUTHENTICATED"},
	{ErrPermissionDenied, "PERMISSION_DENIED"},
	{ErrMethodNotAllowed, "UNIMPLEMENTED"},
	{context.Canceled, "CANCELLED"},
	{context.DeadlineExceeded, "DEADLINE_EXCEEDED"},
}

// CodeOf is the machine code of err: an *Error's own code, else the name of
// its kind, else INTERNAL (an error nobody expected); "" for nil.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) && fe.Code != "" {
		return fe.Code
	}
	for _, kn := range kindNames {
		if errors.Is(err, kn.kind) {
			return kn.name
		}
	}
	return "INTERNAL"
}

// Excerpt is s cut to n characters, marked "…" when cut: how a message quotes
// what a caller sent, which may be of any length. The common short case
// allocates nothing.
func Excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
