package transfer

import (
	"context"

	"github.com/educacao-continuada/content-transfer/internal/audit"
)

// Audited actions.
const (
	ActionExportCourse  = "EXPORT_COURSE"
	ActionAnalyzeImport = "IMPORT_ANALYZE"
	ActionApplyImport   = "IMPORT_APPLY"
)

// audit records what the actor of ctx did and how it ended (opErr, nil for
// success), and returns opErr joined with the audit failure, if any.
func (s *Service) audit(ctx context.Context, e *audit.Entry, opErr error) error {
	return audit.Record(ctx, s.store, e, opErr)
}
