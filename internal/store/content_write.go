package store

import (
	"context"
	"fmt"
	"iter"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// provenance tags written rows with where they came from. The zero value writes
// native rows (external_id and import_batch_id null).
type provenance struct {
	batchID pgtype.UUID
	// fileID gives the id in the source file of a written row's id.
	fileID func(id string) (string, bool)
}

// external is the file id of the row with this id, or nil.
func (p provenance) external(id string) *string {
	if p.fileID == nil {
		return nil
	}
	if ext, ok := p.fileID(id); ok {
		return &ext
	}
	return nil
}

// pgUUID turns an id of the course into the value COPY writes to a uuid column.
// pgtype.UUID is pgx's own type: a string would go through a slow fallback that
// builds (and drops) an error per value.
func pgUUID(s string) pgtype.UUID {
	u, err := uuid.Parse(s)
	return pgtype.UUID{Bytes: u, Valid: err == nil}
}

// pgOptionalUUID is id, or NULL for nil.
func pgOptionalUUID(s *string) pgtype.UUID {
	if s == nil {
		return pgtype.UUID{}
	}
	return pgUUID(*s)
}

// copyTable is one COPY of a course write: a table, its columns, and the rows of
// the course for it. Rows are made one at a time as COPY encodes them, so that a
// write holds no copy of the course's rows (pgx sends them in 64 KiB messages);
// each table is one COPY, a constant number of round trips whatever the size of
// the course.
type copyTable struct {
	table   string
	columns []string
	rows    func(c *contentv1.Course, p provenance) iter.Seq[[]any]
}

// eachQuiz calls fn for every quiz of c with its module or lesson id (one is nil),
// until fn returns false.
func eachQuiz(c *contentv1.Course, fn func(q *contentv1.Quiz, moduleID, lessonID *string) bool) {
	for _, m := range c.GetModules() {
		moduleID := m.GetId()
		for _, q := range m.GetQuizzes() {
			if !fn(q, &moduleID, nil) {
				return
			}
		}
		for _, l := range m.GetLessons() {
			lessonID := l.GetId()
			for _, q := range l.GetQuizzes() {
				if !fn(q, nil, &lessonID) {
					return
				}
			}
		}
	}
}

// eachLesson calls fn for every lesson of c with its module id, until fn returns false.
func eachLesson(c *contentv1.Course, fn func(l *contentv1.Lesson, moduleID string) bool) {
	for _, m := range c.GetModules() {
		for _, l := range m.GetLessons() {
			if !fn(l, m.GetId()) {
				return
			}
		}
	}
}

func optionRow(o *contentv1.Option, questionID string, p provenance) []any {
	return []any{pgUUID(o.GetId()), pgUUID(questionID), o.GetPosition(), o.GetText(), o.GetCorrect(), o.GetFeedback(), p.external(o.GetId()), p.batchID}
}

var courseCopyOrder = []copyTable{
	{"courses", []string{"id", "title", "description", "status", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				yield([]any{pgUUID(c.GetId()), c.GetTitle(), c.GetDescription(), courseStatusToDB(c.GetStatus()), p.external(c.GetId()), p.batchID})
			}
		}},
	{"modules", []string{"id", "course_id", "position", "title", "description", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				for _, m := range c.GetModules() {
					if !yield([]any{pgUUID(m.GetId()), pgUUID(c.GetId()), m.GetPosition(), m.GetTitle(), m.GetDescription(), p.external(m.GetId()), p.batchID}) {
						return
					}
				}
			}
		}},
	{"lessons", []string{"id", "module_id", "position", "title", "video_url", "video_provider",
		"duration_seconds", "practical_summary", "checklist", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				eachLesson(c, func(l *contentv1.Lesson, moduleID string) bool {
					checklist := l.GetChecklist()
					if checklist == nil {
						checklist = []string{}
					}
					return yield([]any{pgUUID(l.GetId()), pgUUID(moduleID), l.GetPosition(), l.GetTitle(), l.GetVideoUrl(),
						videoProviderToDB(l.GetVideoProvider()), l.GetDurationSeconds(), l.GetPracticalSummary(), checklist,
						p.external(l.GetId()), p.batchID})
				})
			}
		}},
	{"quizzes", []string{"id", "module_id", "lesson_id", "position", "title", "min_score", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				eachQuiz(c, func(q *contentv1.Quiz, moduleID, lessonID *string) bool {
					return yield([]any{pgUUID(q.GetId()), pgOptionalUUID(moduleID), pgOptionalUUID(lessonID), q.GetPosition(), q.GetTitle(), q.GetMinScore(), p.external(q.GetId()), p.batchID})
				})
			}
		}},
	{"quiz_questions", []string{"id", "quiz_id", "position", "type", "text", "explanation", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				eachQuiz(c, func(q *contentv1.Quiz, _, _ *string) bool {
					for _, qq := range q.GetQuestions() {
						if !yield([]any{pgUUID(qq.GetId()), pgUUID(q.GetId()), qq.GetPosition(), questionTypeToDB(qq.GetType()),
							qq.GetText(), qq.GetExplanation(), p.external(qq.GetId()), p.batchID}) {
							return false
						}
					}
					return true
				})
			}
		}},
	{"quiz_options", []string{"id", "question_id", "position", "text", "is_correct", "feedback", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				eachQuiz(c, func(q *contentv1.Quiz, _, _ *string) bool {
					for _, qq := range q.GetQuestions() {
						for _, o := range qq.GetOptions() {
							if !yield(optionRow(o, qq.GetId(), p)) {
								return false
							}
						}
					}
					return true
				})
			}
		}},
	{"competencies", []string{"id", "code", "name", "description", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				for _, comp := range c.GetCompetencies() {
					if !yield([]any{pgUUID(comp.GetId()), comp.GetCode(), comp.GetName(), comp.GetDescription(), p.external(comp.GetId()), p.batchID}) {
						return
					}
				}
			}
		}},
	{"lesson_competencies", []string{"lesson_id", "competency_id", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				eachLesson(c, func(l *contentv1.Lesson, _ string) bool {
					for _, cid := range l.GetCompetencyIds() {
						if !yield([]any{pgUUID(l.GetId()), pgUUID(cid), nil, p.batchID}) {
							return false
						}
					}
					return true
				})
			}
		}},
	{"bank_questions", []string{"id", "competency_id", "position", "type", "text", "explanation", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				for _, q := range c.GetQuestionBank() {
					if !yield([]any{pgUUID(q.GetId()), pgUUID(q.GetCompetencyId()), q.GetPosition(), questionTypeToDB(q.GetType()),
						q.GetText(), q.GetExplanation(), p.external(q.GetId()), p.batchID}) {
						return
					}
				}
			}
		}},
	{"bank_options", []string{"id", "question_id", "position", "text", "is_correct", "feedback", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				for _, q := range c.GetQuestionBank() {
					for _, o := range q.GetOptions() {
						if !yield(optionRow(o, q.GetId(), p)) {
							return
						}
					}
				}
			}
		}},
	{"course_faqs", []string{"id", "course_id", "position", "question", "answer", "external_id", "import_batch_id"},
		func(c *contentv1.Course, p provenance) iter.Seq[[]any] {
			return func(yield func([]any) bool) {
				for _, f := range c.GetFaq() {
					if !yield([]any{pgUUID(f.GetId()), pgUUID(c.GetId()), f.GetPosition(), f.GetQuestion(), f.GetAnswer(), p.external(f.GetId()), p.batchID}) {
						return
					}
				}
			}
		}},
}

// writeCourse COPYs every table's rows of c, with the ids c carries, inside tx.
// A table without rows is skipped.
func writeCourse(ctx context.Context, tx pgx.Tx, c *contentv1.Course, p provenance) error {
	for _, t := range courseCopyOrder {
		if err := copyRows(ctx, tx, t.table, t.columns, t.rows(c, p)); err != nil {
			return err
		}
	}
	return nil
}

// copyRows COPYs rows into table, made one at a time as pgx encodes them; no
// statement is sent when there is no row.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, rows iter.Seq[[]any]) error {
	next, stop := iter.Pull(rows)
	defer stop()
	first, ok := next()
	if !ok {
		return nil
	}
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if first != nil {
			row := first
			first = nil
			return row, nil
		}
		row, _ := next() // nil at the end
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}

// SeedCourse writes c, with the ids it carries, as native content in one
// transaction, unless a course with its id already exists. It reports whether it
// wrote anything, so seeding twice is harmless.
func (s *Store) SeedCourse(ctx context.Context, c *contentv1.Course) (bool, error) {
	created, err := transact(ctx, s.pool, func(tx pgx.Tx) (bool, error) {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM courses WHERE id = $1)`, c.GetId()).Scan(&exists); err != nil {
			return false, err
		}
		if exists {
			return false, nil
		}
		return true, writeCourse(ctx, tx, c, provenance{})
	})
	if err != nil {
		return false, fmt.Errorf("seed course %s: %w", c.GetId(), err)
	}
	return created, nil
}
