package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/jackc/pgx/v5/pgconn"
)

// execer is what a pool and a transaction share.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// RecordAudit writes an audit log entry on its own.
func (s *Store) RecordAudit(ctx context.Context, e *audit.Entry) error {
	return dbError(insertAudit(ctx, s.pool, e))
}

const sqlInsertAudit = `
INSERT INTO audit_logs (actor_id, actor_email, action, target_type, target_id, outcome, details)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// AuditStatement is the INSERT that records an audit entry ($1 actor id, $2
// email, $3 action, $4 target type, $5 target id, $6 outcome, $7 details): what a
// benchmark replays beside an export's reads, since every export writes one.
func AuditStatement() string { return sqlInsertAudit }

// sqlInsertAuditIfCourse records an export ($1..$7 as sqlInsertAudit) only if
// the course $8 exists; it follows the export's snapshot in the same batch.
const sqlInsertAuditIfCourse = `
INSERT INTO audit_logs (actor_id, actor_email, action, target_type, target_id, outcome, details)
SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM courses WHERE id = $8)`

// auditArgs are the parameters $1..$7 of an audit INSERT.
func auditArgs(e *audit.Entry) ([]any, error) {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	return []any{e.Actor.ID, nullIfEmpty(e.Actor.Email), e.Action, e.TargetType, e.TargetID, e.Outcome, json.RawMessage(raw)}, nil
}

func insertAudit(ctx context.Context, db execer, e *audit.Entry) error {
	args, err := auditArgs(e)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, sqlInsertAudit, args...); err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}
