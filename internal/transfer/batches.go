package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Page sizes of ListImportBatches.
const (
	DefaultBatchPageSize = 20
	MaxBatchPageSize     = 100
)

// ImportBatchQuery selects imports for ListImportBatches.
type ImportBatchQuery struct {
	Limit int
	// After is the keyset position to continue from; nil for the first page.
	After *BatchCursor
}

// BatchCursor is a position in the (created_at, id) order of imports, newest first.
type BatchCursor struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"i"`
}

// ListImportBatches returns a page of the imports applied here, newest first,
// with where each came from and the course it created.
func (s *Service) ListImportBatches(ctx context.Context, req *contentv1.ListImportBatchesRequest) (*contentv1.ListImportBatchesResponse, error) {
	q := ImportBatchQuery{Limit: int(req.GetPageSize())}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultBatchPageSize
	case q.Limit < 0 || q.Limit > MaxBatchPageSize:
		return nil, fault.New(fault.ErrInvalidArgument, "INVALID_PAGE_SIZE", "pageSize",
			fmt.Sprintf("O tamanho da página deve estar entre 1 e %d.", MaxBatchPageSize))
	}
	if tok := req.GetPageToken(); tok != "" {
		cursor, err := decodePageToken[BatchCursor](tok)
		if err != nil {
			return nil, invalidPageToken()
		}
		q.After = cursor
	}
	want := q.Limit
	q.Limit++ // one more row tells whether another page follows
	batches, err := s.store.ListImportBatches(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list import batches: %w", err)
	}
	resp := &contentv1.ListImportBatchesResponse{Batches: batches}
	if len(batches) > want {
		resp.Batches = batches[:want]
		last := resp.Batches[want-1]
		cursor := BatchCursor{CreatedAt: last.GetCreatedAt().AsTime()}
		if err := cursor.ID.UnmarshalText([]byte(last.GetId())); err != nil {
			return nil, fmt.Errorf("page token id %q: %w", last.GetId(), err)
		}
		if resp.NextPageToken, err = encodePageToken(cursor); err != nil {
			return nil, err
		}
	}
	return resp, nil
}
