package integrity

import (
	"context"

	"github.com/educacao-continuada/content-transfer/internal/audit"
)

// ActionReport is the audited action of a report asked for through the API.
const ActionReport = "INTEGRITY_REPORT"

// Reader reads reports from the database.
type Reader interface {
	IntegrityReport(ctx context.Context, scope Scope, orphans bool) (*Report, error)
}

// Service answers the integrity reports of the API: the application's schemas,
// orphan checks included, every call audited.
type Service struct {
	DB    Reader
	Audit audit.Recorder
	Scope Scope
}

// Report reads the report of the service's scope and records who asked.
func (s *Service) Report(ctx context.Context) (*Report, error) {
	r, err := s.DB.IntegrityReport(ctx, s.Scope, true)
	entry := &audit.Entry{Action: ActionReport, TargetType: "database"}
	if r != nil {
		entry.Details = map[string]any{"tables": len(r.Tables), "orphanRows": r.OrphanRows(), "migrationVersion": r.MigrationVersion}
	}
	if err := audit.Record(ctx, s.Audit, entry, err); err != nil {
		return nil, err
	}
	return r, nil
}
