package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// foldFrom and foldTo fold Portuguese accents the same way in SQL and Go, so that
// the title filter needs no database extension (unaccent is not everywhere). The
// upper-case letters are listed because lower() leaves them alone in a C locale.
const (
	foldFrom = "áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ"
	foldTo   = "aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn"
)

var foldReplacer = func() *strings.Replacer {
	from, to := []rune(foldFrom), []rune(foldTo)
	pairs := make([]string, 0, 2*len(from))
	for i := range from {
		pairs = append(pairs, string(from[i]), string(to[i]))
	}
	return strings.NewReplacer(pairs...)
}()

func fold(s string) string { return foldReplacer.Replace(strings.ToLower(s)) }

// likeEscaper escapes the LIKE wildcards of user text.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

const sqlListCourses = `
SELECT c.id::text, c.title, c.status, c.updated_at,
       (SELECT count(*) FROM modules m WHERE m.course_id = c.id),
       (SELECT count(*) FROM lessons l JOIN modules m ON m.id = l.module_id WHERE m.course_id = c.id)
FROM courses c
WHERE ($1 = '' OR c.status = $1)
  AND ($2 = '' OR translate(lower(c.title), '` + foldFrom + `', '` + foldTo + `') LIKE $2)
  AND (NOT $3 OR (c.title, c.id) > ($4, $5::uuid))
ORDER BY c.title, c.id
LIMIT $6`

// ListCourses returns course summaries ordered by (title, id).
func (s *Store) ListCourses(ctx context.Context, q transfer.CourseQuery) ([]*contentv1.CourseSummary, error) {
	status := ""
	if q.Status != contentv1.CourseStatus_COURSE_STATUS_UNSPECIFIED {
		status = courseStatusToDB(q.Status)
	}
	pattern := ""
	if t := strings.TrimSpace(q.TitleContains); t != "" {
		pattern = "%" + likeEscaper.Replace(fold(t)) + "%"
	}
	var afterTitle, afterID string
	if q.After != nil {
		afterTitle, afterID = q.After.Title, q.After.ID.String()
	} else {
		afterID = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.pool.Query(ctx, sqlListCourses, status, pattern, q.After != nil, afterTitle, afterID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", dbError(err))
	}
	courses, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*contentv1.CourseSummary, error) {
		var (
			c       contentv1.CourseSummary
			status  string
			updated time.Time
		)
		if err := row.Scan(&c.Id, &c.Title, &status, &updated, &c.ModuleCount, &c.LessonCount); err != nil {
			return nil, err
		}
		c.Status = courseStatusFromDB(status)
		c.UpdatedAt = timestamppb.New(updated)
		return &c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", dbError(err))
	}
	return courses, nil
}
