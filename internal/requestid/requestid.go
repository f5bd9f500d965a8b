// Package requestid carries the id of a request — the caller's X-Request-Id
// (x-request-id over gRPC) when it is a sensible one, else a new UUID — through
// the context into every log line written for the request, and back to the
// caller in the response.
package requestid

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
)

// Header is the HTTP header, and MetadataKey the gRPC metadata key, of the id.
const (
	Header      = "X-Request-Id"
	MetadataKey = "x-request-id"
)

// maxLen bounds an id taken from a caller.
const maxLen = 128

// Valid says whether an id from a caller may be kept: 1 to 128 characters,
// letters, digits and . _ - : / + = only (what proxies and tracers send), so
// that it cannot forge a log line or a header.
func Valid(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == ':', c == '/', c == '+', c == '=':
		default:
			return false
		}
	}
	return true
}

// FromCaller is the caller's id if Valid, else a new one.
func FromCaller(id string) string {
	if Valid(id) {
		return id
	}
	return uuid.NewString()
}

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From is the id ctx carries, "" if none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// LogHandler adds the request_id of the context to every record logged with
// one (slog's …Context methods, and Log).
func LogHandler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}
func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
