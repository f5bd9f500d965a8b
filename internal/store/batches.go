package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// sqlListBatches reads a page of imports, newest first, with the course each
// created as it is now (gone when it was deleted).
const sqlListBatches = `
SELECT b.id::text, b.created_at, b.actor_id, coalesce(b.actor_email, ''), b.source_environment, b.source_course_id,
       b.file_digest, coalesce(c.id::text, ''), coalesce(c.title, ''), coalesce(c.status, ''), b.counts
FROM import_batches b LEFT JOIN courses c ON c.id = b.course_id
WHERE NOT $1 OR (b.created_at, b.id) < ($2, $3::uuid)
ORDER BY b.created_at DESC, b.id DESC
LIMIT $4`

// ListImportBatches returns imports newest first; see transfer.ContentStore.
func (s *Store) ListImportBatches(ctx context.Context, q transfer.ImportBatchQuery) ([]*contentv1.ImportBatch, error) {
	var after time.Time
	afterID := "00000000-0000-0000-0000-000000000000"
	if q.After != nil {
		after, afterID = q.After.CreatedAt, q.After.ID.String()
	}
	rows, err := s.pool.Query(ctx, sqlListBatches, q.After != nil, after, afterID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list import batches: %w", dbError(err))
	}
	batches, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*contentv1.ImportBatch, error) {
		var (
			b       contentv1.ImportBatch
			created time.Time
			status  string
			counts  []byte
		)
		if err := row.Scan(&b.Id, &created, &b.ActorId, &b.ActorEmail, &b.SourceEnvironment, &b.SourceCourseId,
			&b.Digest, &b.CourseId, &b.CourseTitle, &status, &counts); err != nil {
			return nil, err
		}
		b.CreatedAt = timestamppb.New(created)
		if status != "" {
			b.CourseStatus = courseStatusFromDB(status)
		}
		b.Counts = &contentv1.ImportCounts{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(counts, b.Counts); err != nil {
			return nil, fmt.Errorf("counts of batch %s: %w", b.Id, err)
		}
		return &b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list import batches: %w", dbError(err))
	}
	return batches, nil
}
