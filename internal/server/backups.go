package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
)

// backupService adapts the backup overview and the integrity service to the
// generated gRPC interface.
type backupService struct {
	contentv1.UnimplementedBackupServiceServer
	backups   *backup.Overviewer
	integrity *integrity.Service
}

func (h *backupService) ListBackups(ctx context.Context, req *contentv1.ListBackupsRequest) (*contentv1.ListBackupsResponse, error) {
	o, err := h.backups.List(ctx, int(req.GetRunLimit()))
	if err != nil {
		return nil, err
	}
	resp := &contentv1.ListBackupsResponse{Destination: o.Destination, Keep: int32(o.Keep)}
	if o.Schedule != nil {
		resp.Schedule = &contentv1.BackupSchedule{Cron: o.Schedule.Spec, TimeZone: o.Schedule.Location.String(), NextRunAt: timestamp(o.Next)}
	}
	if o.BackupsErr != nil {
		resp.DestinationError = backup.FailureMessage(backup.CodeDestinationFailed)
	}
	for _, e := range o.Backups {
		resp.Backups = append(resp.Backups, backupProto(e))
	}
	for _, r := range o.Runs {
		resp.Runs = append(resp.Runs, runProto(r))
	}
	if last := o.LastSuccess(); last != nil {
		resp.LastSuccessAt = timestamp(last.FinishedAt)
	}
	return resp, nil
}

func (h *backupService) GetIntegrityReport(ctx context.Context, _ *contentv1.GetIntegrityReportRequest) (*contentv1.GetIntegrityReportResponse, error) {
	r, err := h.integrity.Report(ctx)
	if err != nil {
		return nil, err
	}
	return &contentv1.GetIntegrityReportResponse{Report: integrityProto(r)}, nil
}

func backupProto(e backup.Entry) *contentv1.Backup {
	b := &contentv1.Backup{Name: e.Name}
	m := e.Manifest
	if m == nil {
		b.Problem = backup.FailureMessage(backup.CodeManifestInvalid)
		return b
	}
	b.CreatedAt, b.SizeBytes, b.Sha256 = timestamp(m.CreatedAt), m.SizeBytes, m.SHA256
	b.ServerVersion, b.PgDumpVersion, b.MigrationVersion = m.ServerVersion, m.PgDumpVersion, m.Integrity.MigrationVersion
	b.Schemas, b.AllSchemas, b.DurationSeconds = m.Scope.Schemas, m.Scope.All, m.DurationSeconds
	b.Trigger = triggerProto(m.Trigger)
	return b
}

func runProto(r backup.Run) *contentv1.BackupRun {
	p := &contentv1.BackupRun{
		Id: r.ID.String(), Trigger: triggerProto(r.Trigger), Slot: timestamp(r.Slot), Runner: r.Runner,
		StartedAt: timestamp(r.StartedAt), FinishedAt: timestamp(r.FinishedAt), BackupName: r.BackupName,
		SizeBytes: r.SizeBytes, ErrorCode: r.ErrorCode,
	}
	switch r.Status {
	case backup.RunRunning:
		p.Status = contentv1.BackupRunStatus_BACKUP_RUN_STATUS_RUNNING
	case backup.RunSucceeded:
		p.Status = contentv1.BackupRunStatus_BACKUP_RUN_STATUS_SUCCEEDED
	case backup.RunFailed:
		p.Status = contentv1.BackupRunStatus_BACKUP_RUN_STATUS_FAILED
	}
	if r.ErrorCode != "" {
		p.ErrorMessage = backup.FailureMessage(r.ErrorCode)
	}
	return p
}

func triggerProto(t backup.Trigger) contentv1.BackupTrigger {
	return contentv1.BackupTrigger(contentv1.BackupTrigger_value["BACKUP_TRIGGER_"+string(t)])
}

func integrityProto(r *integrity.Report) *contentv1.IntegrityReport {
	p := &contentv1.IntegrityReport{TakenAt: timestamp(r.TakenAt), ServerVersion: r.ServerVersion,
		MigrationVersion: r.MigrationVersion, OrphanRows: r.OrphanRows()}
	for _, t := range r.Tables {
		p.Tables = append(p.Tables, &contentv1.TableCount{Schema: t.Schema, Name: t.Name, Rows: t.Rows, Label: t.Label})
	}
	for _, o := range r.Orphans {
		p.OrphanChecks = append(p.OrphanChecks, &contentv1.OrphanCheck{Constraint: o.Constraint, Table: o.Table,
			Columns: o.Columns, Parent: o.Parent, Rows: o.Rows})
	}
	return p
}

// timestamp is t as a message, nil for the zero time.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// backupStatus is what /readyz says of backups: the schedule, the last run and
// the last success, so that a failed or missing weekly backup shows without
// reading logs. It never makes the service unready: a failed backup is no
// reason to stop serving.
func (s *Server) backupStatus(ctx context.Context) map[string]any {
	o, err := s.backups.Overview(ctx, backup.DefaultRunLimit, false)
	if err != nil {
		s.log.WarnContext(ctx, "readiness: backup runs unreadable", "error", err.Error())
		return map[string]any{"error": "the backup runs could not be read"}
	}
	out := map[string]any{"destination": o.Destination, "keep": o.Keep}
	if o.Schedule != nil {
		out["schedule"], out["timeZone"], out["nextRunAt"] = o.Schedule.Spec, o.Schedule.Location.String(), o.Next
	}
	if r := o.LastRun(); r != nil {
		last := map[string]any{"trigger": r.Trigger, "status": r.Status, "startedAt": r.StartedAt}
		if !r.FinishedAt.IsZero() {
			last["finishedAt"] = r.FinishedAt
		}
		if r.BackupName != "" {
			last["backup"] = r.BackupName
		}
		if r.ErrorCode != "" {
			last["errorCode"] = r.ErrorCode
		}
		out["lastRun"] = last
	}
	if r := o.LastSuccess(); r != nil {
		out["lastSuccessAt"] = r.FinishedAt
	}
	return out
}
