package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// execer is what a pool and a transaction share.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// RecordAudit writes an audit log entry on its own.
func (s *Store) RecordAudit(ctx context.Context, e *transfer.AuditEntry) error {
	return dbError(insertAudit(ctx, s.pool, e))
}

const sqlInsertAudit = `
INSERT INTO audit_logs (actor_id, actor_email, action, target_type, target_id, outcome, details)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// AuditStatement is the INSERT that records an audit entry ($1 actor id, $2
// email, $3 action, $4 target type, $5 target id, $6 outcome, $7 details): what a
// benchmark replays beside an export's reads, since every export writes one.
func AuditStatement() string { return sqlInsertAudit }

func insertAudit(ctx context.Context, db execer, e *transfer.AuditEntry) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, sqlInsertAudit,
		e.Actor.ID, nullIfEmpty(e.Actor.Email), e.Action, e.TargetType, e.TargetID, e.Outcome, json.RawMessage(raw))
	if err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}
