package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// provenance tags written rows with where they came from. The zero value writes
// native rows (external_id and import_batch_id null).
type provenance struct {
	batchID *uuid.UUID
	// externalID returns the id a written row had in its source file, or nil.
	externalID func(id string) *string
}

func (p provenance) external(id string) *string {
	if p.externalID == nil {
		return nil
	}
	return p.externalID(id)
}

// courseRows are the rows of every content table for one course, built in memory
// so that each table is written with one COPY: a constant number of round trips
// whatever the size of the course.
type courseRows struct {
	courses, modules, lessons, quizzes, questions, options [][]any
	competencies, links, bankQuestions, bankOptions, faqs  [][]any
}

// buildCourseRows flattens c into table rows. The ids in c are used as they are.
func buildCourseRows(c *contentv1.Course, p provenance) *courseRows {
	r := &courseRows{}
	r.courses = append(r.courses, []any{c.GetId(), c.GetTitle(), c.GetDescription(),
		courseStatusToDB(c.GetStatus()), p.external(c.GetId()), p.batchID})
	addQuizzes := func(moduleID, lessonID *string, quizzes []*contentv1.Quiz) {
		for _, q := range quizzes {
			r.quizzes = append(r.quizzes, []any{q.GetId(), moduleID, lessonID, q.GetPosition(),
				q.GetTitle(), q.GetMinScore(), p.external(q.GetId()), p.batchID})
			for _, qq := range q.GetQuestions() {
				r.questions = append(r.questions, []any{qq.GetId(), q.GetId(), qq.GetPosition(),
					questionTypeToDB(qq.GetType()), qq.GetText(), qq.GetExplanation(), p.external(qq.GetId()), p.batchID})
				for _, o := range qq.GetOptions() {
					r.options = append(r.options, []any{o.GetId(), qq.GetId(), o.GetPosition(), o.GetText(),
						o.GetCorrect(), o.GetFeedback(), p.external(o.GetId()), p.batchID})
				}
			}
		}
	}
	for _, m := range c.GetModules() {
		r.modules = append(r.modules, []any{m.GetId(), c.GetId(), m.GetPosition(), m.GetTitle(),
			m.GetDescription(), p.external(m.GetId()), p.batchID})
		moduleID := m.GetId()
		addQuizzes(&moduleID, nil, m.GetQuizzes())
		for _, l := range m.GetLessons() {
			checklist := l.GetChecklist()
			if checklist == nil {
				checklist = []string{}
			}
			r.lessons = append(r.lessons, []any{l.GetId(), m.GetId(), l.GetPosition(), l.GetTitle(),
				l.GetVideoUrl(), videoProviderToDB(l.GetVideoProvider()), l.GetDurationSeconds(),
				l.GetPracticalSummary(), checklist, p.external(l.GetId()), p.batchID})
			lessonID := l.GetId()
			addQuizzes(nil, &lessonID, l.GetQuizzes())
			for _, cid := range l.GetCompetencyIds() {
				r.links = append(r.links, []any{l.GetId(), cid, nil, p.batchID})
			}
		}
	}
	for _, comp := range c.GetCompetencies() {
		r.competencies = append(r.competencies, []any{comp.GetId(), comp.GetCode(), comp.GetName(),
			comp.GetDescription(), p.external(comp.GetId()), p.batchID})
	}
	for _, bq := range c.GetQuestionBank() {
		r.bankQuestions = append(r.bankQuestions, []any{bq.GetId(), bq.GetCompetencyId(), bq.GetPosition(),
			questionTypeToDB(bq.GetType()), bq.GetText(), bq.GetExplanation(), p.external(bq.GetId()), p.batchID})
		for _, o := range bq.GetOptions() {
			r.bankOptions = append(r.bankOptions, []any{o.GetId(), bq.GetId(), o.GetPosition(), o.GetText(),
				o.GetCorrect(), o.GetFeedback(), p.external(o.GetId()), p.batchID})
		}
	}
	for _, f := range c.GetFaq() {
		r.faqs = append(r.faqs, []any{f.GetId(), c.GetId(), f.GetPosition(), f.GetQuestion(), f.GetAnswer(),
			p.external(f.GetId()), p.batchID})
	}
	return r
}

// copyTable is one COPY of courseRows, in foreign-key order.
type copyTable struct {
	table   string
	columns []string
	rows    func(*courseRows) [][]any
}

var courseCopyOrder = []copyTable{
	{"courses", []string{"id", "title", "description", "status", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.courses }},
	{"modules", []string{"id", "course_id", "position", "title", "description", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.modules }},
	{"lessons", []string{"id", "module_id", "position", "title", "video_url", "video_provider",
		"duration_seconds", "practical_summary", "checklist", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.lessons }},
	{"quizzes", []string{"id", "module_id", "lesson_id", "position", "title", "min_score", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.quizzes }},
	{"quiz_questions", []string{"id", "quiz_id", "position", "type", "text", "explanation", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.questions }},
	{"quiz_options", []string{"id", "question_id", "position", "text", "is_correct", "feedback", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.options }},
	{"competencies", []string{"id", "code", "name", "description", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.competencies }},
	{"lesson_competencies", []string{"lesson_id", "competency_id", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.links }},
	{"bank_questions", []string{"id", "competency_id", "position", "type", "text", "explanation", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.bankQuestions }},
	{"bank_options", []string{"id", "question_id", "position", "text", "is_correct", "feedback", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.bankOptions }},
	{"course_faqs", []string{"id", "course_id", "position", "question", "answer", "external_id", "import_batch_id"},
		func(r *courseRows) [][]any { return r.faqs }},
}

// writeCourseRows COPYs every table's rows inside tx.
func writeCourseRows(ctx context.Context, tx pgx.Tx, r *courseRows) error {
	for _, t := range courseCopyOrder {
		rows := t.rows(r)
		if len(rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.columns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
	}
	return nil
}

// SeedCourse writes c, with the ids it carries, as native content in one
// transaction, unless a course with its id already exists. It reports whether it
// wrote anything, so seeding twice is harmless.
func (s *Store) SeedCourse(ctx context.Context, c *contentv1.Course) (bool, error) {
	created := false
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM courses WHERE id = $1)`, c.GetId()).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		created = true
		return writeCourseRows(ctx, tx, buildCourseRows(c, provenance{}))
	})
	if err != nil {
		return false, fmt.Errorf("seed course %s: %w", c.GetId(), err)
	}
	return created, nil
}
