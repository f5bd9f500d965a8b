package transfer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// tb is what the helpers need of a test: *testing.T and *rapid.T both have it.
type tb interface {
	Helper()
	Fatal(args ...any)
}

// rapidT is the test of one rapid draw.
type rapidT = *rapid.T

// rapidCheck runs fn on many generated valid courses.
func rapidCheck(t *testing.T, fn func(rapidT, *contentv1.Course)) {
	rapid.Check(t, func(rt *rapid.T) { fn(rt, genCourse(rt)) })
}

// mutateDemo returns the demo file after edit has changed its JSON document.
func mutateDemo(t testing.TB, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(demo.File, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// at walks a JSON document by keys and indexes: at(doc, "course", "modules", 0).
func at(doc any, path ...any) map[string]any {
	cur := doc
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

// fileBytes renders a course as a transfer file.
func fileBytes(t tb, c *contentv1.Course) []byte {
	t.Helper()
	out, err := coursefile.Marshal(&contentv1.CourseExport{
		FormatVersion: coursefile.FormatVersion,
		ExportedAt:    timestamppb.Now(),
		Source:        &contentv1.ExportSource{Service: "test", CourseId: c.GetId()},
		Course:        c,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is pgtest.Snapshot of every table but audit_logs, which records
// every operation, analyses and refusals included (the tests check its rows
// themselves).
func snapshot(t testing.TB, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	s := pgtest.Snapshot(t, pool, "audit_logs")
	if len(s) < 17 {
		t.Fatalf("only %d tables: %v", len(s), s)
	}
	return s
}

// contentTables are the tables a course is stored in, each with an
// import_batch_id.
var contentTables = []string{"courses", "modules", "lessons", "quizzes", "quiz_questions", "quiz_options",
	"competencies", "lesson_competencies", "bank_questions", "bank_options", "course_faqs"}

// batchRows counts, in every content table, the rows of a batch.
func batchRows(t tb, pool *pgxpool.Pool, batchID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range contentTables {
		var n int
		if err := pool.QueryRow(context.Background(),
			fmt.Sprintf(`SELECT count(*) FROM %q WHERE import_batch_id = $1`, table), batchID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// countsAsRows is what ImportCounts says each table receives.
func countsAsRows(c *contentv1.ImportCounts) map[string]int {
	return map[string]int{
		"courses": int(c.GetCourses()), "modules": int(c.GetModules()), "lessons": int(c.GetLessons()),
		"quizzes": int(c.GetQuizzes()), "quiz_questions": int(c.GetQuestions()), "quiz_options": int(c.GetOptions()),
		"competencies": int(c.GetCompetenciesCreated()), "lesson_competencies": int(c.GetLessonCompetencyLinks()),
		"bank_questions": int(c.GetBankQuestionsCreated()), "bank_options": int(c.GetBankOptions()),
		"course_faqs": int(c.GetFaqEntries()),
	}
}

// canonical strips what an import changes — ids, status — from a course, turning
// competency references into codes and ordering what the export orders by code,
// so that two courses with the same content compare equal.
func canonical(c *contentv1.Course) *contentv1.Course {
	c = proto.Clone(c).(*contentv1.Course)
	codes := map[string]string{}
	for _, comp := range c.GetCompetencies() {
		codes[comp.GetId()] = comp.GetCode()
		comp.Id = ""
	}
	c.Id, c.Status = "", contentv1.CourseStatus_COURSE_STATUS_UNSPECIFIED
	clearQuizzes := func(qs []*contentv1.Quiz) {
		for _, q := range qs {
			q.Id = ""
			for _, qq := range q.GetQuestions() {
				qq.Id = ""
				for _, o := range qq.GetOptions() {
					o.Id = ""
				}
			}
		}
	}
	for _, m := range c.GetModules() {
		m.Id = ""
		clearQuizzes(m.GetQuizzes())
		for _, l := range m.GetLessons() {
			l.Id = ""
			for i, id := range l.GetCompetencyIds() {
				l.CompetencyIds[i] = codes[id]
			}
			slices.Sort(l.CompetencyIds)
			clearQuizzes(l.GetQuizzes())
		}
	}
	for _, q := range c.GetQuestionBank() {
		q.Id, q.CompetencyId = "", codes[q.GetCompetencyId()]
		for _, o := range q.GetOptions() {
			o.Id = ""
		}
	}
	slices.SortStableFunc(c.Competencies, func(a, b *contentv1.Competency) int { return strings.Compare(a.GetCode(), b.GetCode()) })
	slices.SortStableFunc(c.QuestionBank, func(a, b *contentv1.BankQuestion) int {
		if d := strings.Compare(a.GetCompetencyId(), b.GetCompetencyId()); d != 0 {
			return d
		}
		return int(a.GetPosition() - b.GetPosition())
	})
	for _, f := range c.GetFaq() {
		f.Id = ""
	}
	return c
}

// linkedOnly drops the competencies no lesson links to, and their bank questions.
func linkedOnly(c *contentv1.Course) *contentv1.Course {
	c = proto.Clone(c).(*contentv1.Course)
	linked := map[string]bool{}
	for _, m := range c.GetModules() {
		for _, l := range m.GetLessons() {
			for _, id := range l.GetCompetencyIds() {
				linked[id] = true
			}
		}
	}
	c.Competencies = slices.DeleteFunc(c.Competencies, func(comp *contentv1.Competency) bool { return !linked[comp.GetId()] })
	c.QuestionBank = slices.DeleteFunc(c.QuestionBank, func(q *contentv1.BankQuestion) bool { return !linked[q.GetCompetencyId()] })
	return c
}

// genCourse draws a random valid course: any unicode text (no NUL, which
// PostgreSQL text cannot hold), empty optional fields, sizes from nothing to a few
// dozen entities, consecutive positions. ids are unique within the draw.
func genCourse(t *rapid.T) *contentv1.Course {
	seq := 0
	id := func() string {
		seq++
		return fmt.Sprintf("id-%d-%s", seq, rapid.StringMatching(`[a-z0-9]{0,8}`).Draw(t, "idSuffix"))
	}
	text := func(label string, required bool) string {
		s := rapid.StringOfN(textRune, 0, 40, -1).Draw(t, label)
		if required && strings.TrimSpace(s) == "" {
			s = "x" + s
		}
		return s
	}
	qtype := func() contentv1.QuestionType {
		return rapid.SampledFrom([]contentv1.QuestionType{
			contentv1.QuestionType_QUESTION_TYPE_SINGLE_CHOICE,
			contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE,
			contentv1.QuestionType_QUESTION_TYPE_TRUE_FALSE,
		}).Draw(t, "type")
	}
	options := func(typ contentv1.QuestionType) []*contentv1.Option {
		n := rapid.IntRange(1, 4).Draw(t, "options")
		correct := rapid.IntRange(0, n-1).Draw(t, "correct")
		out := make([]*contentv1.Option, n)
		for i := range out {
			ok := i == correct || (typ == contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE && rapid.Bool().Draw(t, "alsoCorrect"))
			out[i] = &contentv1.Option{Id: id(), Position: int32(i + 1), Text: text("optionText", true), Correct: ok, Feedback: text("feedback", false)}
		}
		return out
	}
	quizzes := func() []*contentv1.Quiz {
		out := make([]*contentv1.Quiz, rapid.IntRange(0, 2).Draw(t, "quizzes"))
		for i := range out {
			q := &contentv1.Quiz{Id: id(), Position: int32(i + 1), Title: text("quizTitle", true), MinScore: int32(rapid.IntRange(0, 100).Draw(t, "minScore"))}
			for j := range rapid.IntRange(0, 3).Draw(t, "questions") {
				typ := qtype()
				q.Questions = append(q.Questions, &contentv1.Question{Id: id(), Position: int32(j + 1), Type: typ,
					Text: text("questionText", true), Explanation: text("explanation", false), Options: options(typ)})
			}
			out[i] = q
		}
		return out
	}
	c := &contentv1.Course{Id: id(), Title: text("title", true), Description: text("description", false),
		Status: contentv1.CourseStatus_COURSE_STATUS_PUBLISHED}
	// Competency codes are organisation-wide: draws that share a database reuse
	// each other's codes now and then, which exercises matching by code.
	codes := rapid.SliceOfNDistinct(rapid.StringMatching(`[A-Z]{2,6}-[0-9]{1,3}`), 0, 3, rapid.ID[string]).Draw(t, "codes")
	for _, code := range codes {
		c.Competencies = append(c.Competencies, &contentv1.Competency{Id: id(), Code: code, Name: text("compName", true), Description: text("compDescription", false)})
	}
	for i := range rapid.IntRange(0, 4).Draw(t, "modules") {
		m := &contentv1.Module{Id: id(), Position: int32(i + 1), Title: text("moduleTitle", true), Description: text("moduleDescription", false)}
		for j := range rapid.IntRange(0, 4).Draw(t, "lessons") {
			l := &contentv1.Lesson{Id: id(), Position: int32(j + 1), Title: text("lessonTitle", true),
				DurationSeconds: int32(rapid.IntRange(0, 36000).Draw(t, "duration")), PracticalSummary: text("summary", false)}
			if rapid.Bool().Draw(t, "hasVideo") {
				l.VideoUrl = fmt.Sprintf("https://www.youtube.com/watch?v=%d", seq)
				l.VideoProvider = contentv1.VideoProvider_VIDEO_PROVIDER_YOUTUBE
			}
			for range rapid.IntRange(0, 3).Draw(t, "checklist") {
				l.Checklist = append(l.Checklist, text("checkItem", true))
			}
			for _, comp := range c.Competencies {
				if rapid.Bool().Draw(t, "link") {
					l.CompetencyIds = append(l.CompetencyIds, comp.Id)
				}
			}
			l.Quizzes = quizzes()
			m.Lessons = append(m.Lessons, l)
		}
		m.Quizzes = quizzes()
		c.Modules = append(c.Modules, m)
	}
	for _, comp := range c.Competencies {
		for k := range rapid.IntRange(0, 3).Draw(t, "bank") {
			typ := qtype()
			c.QuestionBank = append(c.QuestionBank, &contentv1.BankQuestion{Id: id(), CompetencyId: comp.Id, Position: int32(k + 1),
				Type: typ, Text: text("bankText", true) + fmt.Sprint(k), Explanation: text("bankExplanation", false), Options: options(typ)})
		}
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "faq") {
		c.Faq = append(c.Faq, &contentv1.FaqEntry{Id: id(), Position: int32(i + 1), Question: text("faqQuestion", true), Answer: text("faqAnswer", false)})
	}
	return c
}

// textRune draws the characters of generated texts: Latin with accents, digits,
// punctuation, CJK, symbols and emoji, quotes and odd whitespace; never NUL.
var textRune = rapid.RuneFrom([]rune(" \t\n\"\\'%_{}\u00a0"), unicode.Latin, unicode.Nd, unicode.P, unicode.Han, unicode.So)

// auditActions lists action and outcome of every audit row, oldest first.
func auditActions(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT action || ' ' || outcome FROM audit_logs ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func raw(b []byte) transfer.ImportInput { return transfer.ImportInput{Raw: b} }

// generatedFile is the transfer file of coursegen's course of that shape and
// seed.
func generatedFile(t testing.TB, shape coursegen.Shape, seed uint64) []byte {
	t.Helper()
	file, err := coursefile.Marshal(coursegen.Generate(shape, seed))
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func codesOf(fs []*contentv1.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.GetCode()+" "+f.GetPath())
	}
	return out
}
