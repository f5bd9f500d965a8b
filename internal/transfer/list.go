package transfer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Page sizes of ListCourses.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// maxTitleQuery bounds the title filter; nobody types a longer title.
const maxTitleQuery = 200

// ListCourses returns a page of course summaries ordered by title.
func (s *Service) ListCourses(ctx context.Context, req *contentv1.ListCoursesRequest) (*contentv1.ListCoursesResponse, error) {
	q := CourseQuery{Limit: int(req.GetPageSize()), Status: req.GetStatus(), TitleContains: req.GetTitleQuery()}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return nil, fault.New(fault.ErrInvalidArgument, "INVALID_PAGE_SIZE", "pageSize",
			fmt.Sprintf("O tamanho da página deve estar entre 1 e %d.", MaxPageSize))
	}
	if _, ok := contentv1.CourseStatus_name[int32(q.Status)]; !ok {
		return nil, fault.New(fault.ErrInvalidArgument, "INVALID_STATUS", "status", "Status de curso desconhecido.")
	}
	if err := checkTitleQuery(q.TitleContains); err != nil {
		return nil, err
	}
	if tok := req.GetPageToken(); tok != "" {
		cursor, err := decodePageToken[CourseCursor](tok)
		if err != nil || textProblem(cursor.Title, true) != "" {
			return nil, invalidPageToken()
		}
		q.After = cursor
	}

	// One extra row tells whether another page follows.
	want := q.Limit
	q.Limit++
	courses, err := s.store.ListCourses(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	resp := &contentv1.ListCoursesResponse{Courses: courses}
	if len(courses) > want {
		resp.Courses = courses[:want]
		last := resp.Courses[want-1]
		cursor := CourseCursor{Title: last.GetTitle()}
		if err := cursor.ID.UnmarshalText([]byte(last.GetId())); err != nil {
			return nil, fmt.Errorf("page token id %q: %w", last.GetId(), err)
		}
		if resp.NextPageToken, err = encodePageToken(cursor); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// encodePageToken turns a keyset position into an opaque token.
func encodePageToken[C any](cursor C) (string, error) {
	raw, err := json.Marshal(cursor)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// decodePageToken reads a token of encodePageToken.
func decodePageToken[C any](token string) (*C, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, err
	}
	var cursor C
	if err := json.Unmarshal(raw, &cursor); err != nil {
		return nil, err
	}
	return &cursor, nil
}

// invalidPageToken is the error of a token not from a previous page.
func invalidPageToken() error {
	return fault.New(fault.ErrInvalidArgument, "INVALID_PAGE_TOKEN", "pageToken",
		"O token de página é inválido; recomece da primeira página.")
}
