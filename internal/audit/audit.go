// Package audit holds what every audited operation shares: who asked (the actor,
// carried in the request context), the entry written to audit_logs, and how an
// operation's outcome is named. The services decide what to audit; the store
// writes it.
package audit

import (
	"context"
	"errors"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Entry is one audit log row.
type Entry struct {
	Actor      Actor
	Action     string
	TargetType string
	TargetID   string
	// Outcome is "OK" or the machine code of the error that ended the operation.
	Outcome string
	Details map[string]any
}

// Actor is who asks for an operation.
type Actor struct {
	ID    string
	Email string
}

type actorKey struct{}

// WithActor returns a context that carries the actor of the request.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the request, or "anonymous".
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.ID != "" {
		return a
	}
	return Actor{ID: "anonymous"}
}

// Recorder writes audit entries outside any transaction of the operation.
type Recorder interface {
	RecordAudit(ctx context.Context, e *Entry) error
}

// recordTimeout bounds the audit write that follows a cancelled operation.
const recordTimeout = 5 * time.Second

// Record writes e for the actor of ctx with the outcome of opErr (nil for
// success), and returns opErr — joined with the audit failure, if any, so that an
// operation is never reported done without its audit entry. The entry is written
// even when the operation ended because the request did.
func Record(ctx context.Context, rec Recorder, e *Entry, opErr error) error {
	e.Actor = ActorFrom(ctx)
	e.Outcome = Outcome(opErr)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := rec.RecordAudit(actx, e); err != nil {
		return errors.Join(opErr, err)
	}
	return opErr
}

// Outcome is "OK", or the machine code of an error: the code the caller got.
func Outcome(err error) string {
	if err == nil {
		return "OK"
	}
	return fault.CodeOf(err)
}
