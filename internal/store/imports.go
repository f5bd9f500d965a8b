package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// Import runs attempt in one read-write transaction, committed only when the
// attempt says so. It runs again when it loses a race: a serialization failure,
// or another import that committed the same new competency code or idempotency
// key first. A row the database refuses is a *fault.Rejection.
func (s *Store) Import(ctx context.Context, attempt func(transfer.ImportTx) (*transfer.ImportAttempt, error)) (*transfer.ImportAttempt, error) {
	a, err := runTx(ctx, s.pool, lostImportRace, func(tx pgx.Tx) (*transfer.ImportAttempt, bool, error) {
		a, err := attempt(&importTx{tx: tx})
		return a, a != nil && a.Commit, err
	})
	return a, rejected(err)
}

// Constraints whose violation means another import won a race: on retry the
// import finds the winner's row and reuses it.
var raceConstraints = map[string]bool{
	"competencies_code_key":              true,
	"import_batches_idempotency_key_key": true,
}

func lostImportRace(err error) bool {
	var pgErr *pgconn.PgError
	return isRetryable(err) || errors.As(err, &pgErr) && pgErr.Code == "23505" && raceConstraints[pgErr.ConstraintName]
}

// rejected turns an integrity or data error (SQLSTATE classes 23 and 22) into a
// *fault.Rejection that names the constraint and the table, never the SQL.
func rejected(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !strings.HasPrefix(pgErr.Code, "23") && !strings.HasPrefix(pgErr.Code, "22") {
		return err
	}
	what := pgErr.ConstraintName
	if what == "" {
		what = pgErr.Code
	}
	return &fault.Rejection{Constraint: what, Table: pgErr.TableName, Err: err}
}

type importTx struct {
	tx pgx.Tx
}

func (t *importTx) LockKey(ctx context.Context, key string) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('import-key:' || $1, 0))`, key)
	return err
}

func (t *importTx) BatchByKey(ctx context.Context, key string) (*transfer.ImportBatch, error) {
	var (
		b              transfer.ImportBatch
		id, courseID   string
		email          *string
		counts, result []byte
	)
	err := t.tx.QueryRow(ctx, `
SELECT b.id::text, b.created_at, b.actor_id, b.actor_email, b.file_digest, b.counts, coalesce(b.course_id::text, ''),
       coalesce(b.result, ''::bytea) || coalesce((SELECT string_agg(p.part, ''::bytea ORDER BY p.seq)
                                                  FROM import_batch_result_parts p WHERE p.batch_id = b.id), ''::bytea)
FROM import_batches b WHERE b.idempotency_key = $1`, key).
		Scan(&id, &b.CreatedAt, &b.Actor.ID, &email, &b.Digest, &counts, &courseID, &result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch by key: %w", err)
	}
	b.ID, b.CourseID = uuid.MustParse(id), parseUUIDOrNil(courseID)
	if email != nil {
		b.Actor.Email = *email
	}
	b.IdempotencyKey, b.Counts, b.Result = key, counts, result
	return &b, nil
}

// maxEarlierBatches bounds the ALREADY_IMPORTED warnings of one analysis.
const maxEarlierBatches = 5

func (t *importTx) BatchesByDigest(ctx context.Context, digest string) ([]transfer.ImportBatch, error) {
	rows, err := t.tx.Query(ctx, `
SELECT id::text, created_at, coalesce(course_id::text, '')
FROM import_batches WHERE file_digest = $1
ORDER BY created_at DESC, id LIMIT $2`, digest, maxEarlierBatches)
	if err != nil {
		return nil, fmt.Errorf("batches by digest: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (transfer.ImportBatch, error) {
		var b transfer.ImportBatch
		var id, courseID string
		if err := row.Scan(&id, &b.CreatedAt, &courseID); err != nil {
			return b, err
		}
		b.ID, b.CourseID, b.Digest = uuid.MustParse(id), parseUUIDOrNil(courseID), digest
		return b, nil
	})
}

func (t *importTx) CompetenciesByCode(ctx context.Context, codes []string) (map[string]transfer.ExistingCompetency, error) {
	out := map[string]transfer.ExistingCompetency{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT code, id::text, name FROM competencies WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, fmt.Errorf("competencies by code: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var c transfer.ExistingCompetency
		if err := rows.Scan(&code, &c.ID, &c.Name); err != nil {
			return nil, err
		}
		out[code] = c
	}
	return out, rows.Err()
}

func (t *importTx) BankQuestions(ctx context.Context, competencyIDs []string) ([]transfer.ExistingBankQuestion, error) {
	rows, err := t.tx.Query(ctx, `
SELECT id::text, competency_id::text, position, text
FROM bank_questions WHERE competency_id = ANY($1::uuid[])`, competencyIDs)
	if err != nil {
		return nil, fmt.Errorf("bank questions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (transfer.ExistingBankQuestion, error) {
		var q transfer.ExistingBankQuestion
		err := row.Scan(&q.ID, &q.CompetencyID, &q.Position, &q.Text)
		return q, err
	})
}

func (t *importTx) CreateBatch(ctx context.Context, b *transfer.ImportBatch) error {
	_, err := t.tx.Exec(ctx, `
INSERT INTO import_batches (id, actor_id, actor_email, file_digest, counts, idempotency_key, course_id, result,
                            source_environment, source_course_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		b.ID, b.Actor.ID, nullIfEmpty(b.Actor.Email), b.Digest, json.RawMessage(b.Counts),
		nullIfEmpty(b.IdempotencyKey), b.CourseID, b.Result, b.SourceEnvironment, b.SourceCourseID)
	if err != nil {
		return fmt.Errorf("create batch: %w", err)
	}
	if b.ResultParts == nil {
		return nil
	}
	seq := int32(0)
	parts := func(yield func([]any) bool) {
		for part := range b.ResultParts {
			seq++
			if !yield([]any{pgtype.UUID{Bytes: b.ID, Valid: true}, seq, part}) {
				return
			}
		}
	}
	return copyRows(ctx, t.tx, "import_batch_result_parts", []string{"batch_id", "seq", "part"}, parts)
}

func (t *importTx) WriteCourse(ctx context.Context, c *contentv1.Course, batchID uuid.UUID, fileID func(id string) (string, bool)) error {
	return writeCourse(ctx, t.tx, c, provenance{batchID: pgtype.UUID{Bytes: batchID, Valid: true}, fileID: fileID})
}

func (t *importTx) WriteAudit(ctx context.Context, e *audit.Entry) error {
	return insertAudit(ctx, t.tx, e)
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func parseUUIDOrNil(s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil
	}
	return id
}
