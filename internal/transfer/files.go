package transfer

import (
	"context"
	"fmt"
	"io"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
)

// PublishedCourseIDs returns the ids of every published course, by title.
func (s *Service) PublishedCourseIDs(ctx context.Context) ([]string, error) {
	var ids []string
	req := &contentv1.ListCoursesRequest{PageSize: MaxPageSize, Status: contentv1.CourseStatus_COURSE_STATUS_PUBLISHED}
	for {
		page, err := s.ListCourses(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, c := range page.GetCourses() {
			ids = append(ids, c.GetId())
		}
		if page.GetNextPageToken() == "" {
			return ids, nil
		}
		req.PageToken = page.GetNextPageToken()
	}
}

// ExportCourseFile exports a course as ExportCourse does (audited the same
// way) and returns its file name and a function that writes the file.
func (s *Service) ExportCourseFile(ctx context.Context, id string) (string, func(io.Writer) error, error) {
	export, err := s.ExportCourse(ctx, id)
	if err != nil {
		return "", nil, fmt.Errorf("export course %s: %w", id, err)
	}
	return export.Filename, func(w io.Writer) error { return coursefile.Write(w, export.File) }, nil
}
