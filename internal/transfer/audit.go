package transfer

import (
	"context"
	"errors"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Audited actions.
const (
	ActionExportCourse  = "EXPORT_COURSE"
	ActionAnalyzeImport = "IMPORT_ANALYZE"
	ActionApplyImport   = "IMPORT_APPLY"
)

// Auditor records audit log entries outside any transaction of the operation.
type Auditor interface {
	RecordAudit(ctx context.Context, e *AuditEntry) error
}

// auditTimeout bounds the audit write that follows a cancelled operation.
const auditTimeout = 5 * time.Second

// audit records what the actor of ctx did and how it ended (opErr, nil for
// success), and returns opErr — joined with the audit failure, if any, so that
// an operation is never reported done without its audit entry.
func (s *Service) audit(ctx context.Context, e *AuditEntry, opErr error) error {
	e.Actor = ActorFrom(ctx)
	e.Outcome = outcome(opErr)
	// The entry is written even when the operation ended because the request did.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := s.store.RecordAudit(actx, e); err != nil {
		return errors.Join(opErr, err)
	}
	return opErr
}

// outcome is "OK", or the machine code of an error.
func outcome(err error) string {
	var fe *fault.Error
	switch {
	case err == nil:
		return "OK"
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, context.Canceled):
		return "CANCELED"
	case errors.Is(err, context.DeadlineExceeded):
		return "DEADLINE_EXCEEDED"
	case errors.Is(err, fault.ErrUnavailable):
		return "UNAVAILABLE"
	}
	return "INTERNAL"
}
