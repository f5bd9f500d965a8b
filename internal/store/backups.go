package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/educacao-continuada/content-transfer/internal/backup"
)

// sqlStartRun records a run. A scheduled run's slot is unique: of the replicas
// that insert the same slot, one gets its row back and runs the backup.
const sqlStartRun = `
INSERT INTO backup_runs (trigger, slot, runner, destination)
VALUES ($1, $2, $3, $4)
ON CONFLICT (slot) DO NOTHING
RETURNING id, started_at`

const sqlFinishRun = `
UPDATE backup_runs
SET status = $2, finished_at = now(), backup_name = $3, size_bytes = $4, error_code = $5, error_detail = $6
WHERE id = $1`

// sqlListRuns reads the latest runs. A run still RUNNING a day after it started
// was cut short (its process died): it reads as FAILED, INTERRUPTED.
const sqlListRuns = `
SELECT id, trigger, slot, runner, started_at, finished_at,
       CASE WHEN status = 'RUNNING' AND started_at < now() - interval '1 day' THEN 'FAILED' ELSE status END,
       destination, backup_name, size_bytes,
       CASE WHEN status = 'RUNNING' AND started_at < now() - interval '1 day' THEN 'INTERRUPTED' ELSE error_code END,
       error_detail
FROM backup_runs
ORDER BY started_at DESC, id
LIMIT $1`

// maxErrorDetail bounds the error text kept with a run.
const maxErrorDetail = 4000

// StartBackupRun records run as RUNNING; see backup.RunLog.
func (s *Store) StartBackupRun(ctx context.Context, run *backup.Run) (bool, error) {
	var slot *time.Time
	if !run.Slot.IsZero() {
		slot = &run.Slot
	}
	err := s.pool.QueryRow(ctx, sqlStartRun, string(run.Trigger), slot, run.Runner, run.Destination).Scan(&run.ID, &run.StartedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case isUndefinedTable(err):
		return false, backup.ErrNoRunLog
	case err != nil:
		return false, fmt.Errorf("record backup run: %w", dbError(err))
	}
	run.Status = backup.RunRunning
	return true, nil
}

// FinishBackupRun records how run ended.
func (s *Store) FinishBackupRun(ctx context.Context, run *backup.Run) error {
	detail := run.ErrorDetail
	if len(detail) > maxErrorDetail {
		detail = detail[:maxErrorDetail]
	}
	_, err := s.pool.Exec(ctx, sqlFinishRun, run.ID, string(run.Status), nullIfEmpty(run.BackupName),
		nullIfZero(run.SizeBytes), nullIfEmpty(run.ErrorCode), nullIfEmpty(strings.ToValidUTF8(strings.ReplaceAll(detail, "\x00", ""), "?")))
	if err != nil {
		return fmt.Errorf("record end of backup run: %w", dbError(err))
	}
	return nil
}

// ListBackupRuns returns the latest runs, newest first.
func (s *Store) ListBackupRuns(ctx context.Context, limit int) ([]backup.Run, error) {
	rows, err := s.pool.Query(ctx, sqlListRuns, limit)
	if err != nil {
		if isUndefinedTable(err) {
			return nil, backup.ErrNoRunLog
		}
		return nil, fmt.Errorf("list backup runs: %w", dbError(err))
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (backup.Run, error) {
		var (
			r                  backup.Run
			trigger, status    string
			slot, finished     pgtype.Timestamptz
			name, code, detail pgtype.Text
			size               pgtype.Int8
		)
		if err := row.Scan(&r.ID, &trigger, &slot, &r.Runner, &r.StartedAt, &finished, &status, &r.Destination,
			&name, &size, &code, &detail); err != nil {
			return r, err
		}
		r.Trigger, r.Status = backup.Trigger(trigger), backup.RunStatus(status)
		r.Slot, r.FinishedAt = slot.Time, finished.Time
		r.BackupName, r.SizeBytes, r.ErrorCode, r.ErrorDetail = name.String, size.Int64, code.String, detail.String
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list backup runs: %w", dbError(err))
	}
	return runs, nil
}

func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

func nullIfZero(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}
