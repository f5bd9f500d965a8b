package transfer_test

// Analysis: what AnalyzeImport reports of a file, and that it changes nothing.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestAnalyzeDemoIntoEmptyDatabase(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	report, err := svc.AnalyzeImport(context.Background(), raw(demo.File))
	if err != nil {
		t.Fatal(err)
	}
	want := &contentv1.ImportCounts{
		Courses: 1, Modules: 3, Lessons: 8, Quizzes: 4, Questions: 8, Options: 24,
		CompetenciesCreated: 3, LessonCompetencyLinks: 10, BankQuestionsCreated: 5, BankOptions: 13, FaqEntries: 3,
	}
	if diff := cmp.Diff(want, report.GetCounts(), protocmp.Transform()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !report.GetOk() || len(report.GetErrors()) != 0 || report.GetFormatVersion() != 1 || len(report.GetDigest()) != 64 {
		t.Errorf("report = %v", report)
	}
	// The demo's case-study lesson has no video, on purpose.
	if got := codesOf(report.GetWarnings()); !slices.Equal(got, []string{"LESSON_WITHOUT_VIDEO course.modules[1].lessons[2].videoUrl"}) {
		t.Errorf("warnings = %v", got)
	}
}

func TestAnalyzeChangesNothing(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	insertFixture(t, pool)
	svc := newService(pool)
	// A course already imported once, so that the analysis has batches to look at.
	if _, err := svc.ApplyImport(context.Background(), raw(demo.File), "", ""); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, pool)
	for _, file := range [][]byte{demo.File, mutateDemo(t, func(d map[string]any) { at(d, "course")["title"] = "" })} {
		if _, err := svc.AnalyzeImport(context.Background(), raw(file)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, pool)); diff != "" {
		t.Fatalf("analysis changed the database (-before +after):\n%s", diff)
	}
	// All it leaves is its audit entries.
	want := []string{"EXPORT OK" /* the fixture's */, "IMPORT_APPLY OK", "IMPORT_ANALYZE OK", "IMPORT_ANALYZE OK"}
	if diff := cmp.Diff(want, auditActions(t, pool)); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestAnalyzeFindsEveryProblem(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	lesson := func(d map[string]any, m, l int) map[string]any { return at(d, "course", "modules", m, "lessons", l) }
	quiz := func(d map[string]any) map[string]any { return at(d, "course", "modules", 0, "quizzes", 0) }
	tests := []struct {
		name     string
		file     []byte
		errors   []string
		warnings []string
	}{
		{
			name: "required texts missing",
			file: mutateDemo(t, func(d map[string]any) {
				at(d, "course")["title"] = "  "
				at(d, "course", "modules", 1)["title"] = ""
				delete(lesson(d, 0, 0), "title")
				quiz(d)["title"] = ""
				at(d, "course", "modules", 0, "quizzes", 0, "questions", 0)["text"] = ""
				at(d, "course", "modules", 0, "quizzes", 0, "questions", 0, "options", 1)["text"] = ""
			}),
			errors: []string{
				"REQUIRED_FIELD_MISSING course.title",
				"REQUIRED_FIELD_MISSING course.modules[0].lessons[0].title",
				"REQUIRED_FIELD_MISSING course.modules[0].quizzes[0].title",
				"REQUIRED_FIELD_MISSING course.modules[0].quizzes[0].questions[0].text",
				"REQUIRED_FIELD_MISSING course.modules[0].quizzes[0].questions[0].options[1].text",
				"REQUIRED_FIELD_MISSING course.modules[1].title",
			},
		},
		{
			name: "duplicate id and dangling references",
			file: mutateDemo(t, func(d map[string]any) {
				lesson(d, 0, 1)["id"] = lesson(d, 0, 0)["id"]
				lesson(d, 2, 0)["competencyIds"] = []any{"competencia-que-nao-existe"}
				at(d, "course", "questionBank", 0)["competencyId"] = "outra-inexistente"
			}),
			errors: []string{
				"DUPLICATE_ID course.modules[0].lessons[1].id",
				"DANGLING_COMPETENCY_REF course.modules[2].lessons[0].competencyIds[0]",
				"DANGLING_COMPETENCY_REF course.questionBank[0].competencyId",
			},
		},
		{
			name: "scores, answers, durations, urls",
			file: mutateDemo(t, func(d map[string]any) {
				quiz(d)["minScore"] = 101
				at(d, "course", "modules", 1, "quizzes", 0)["minScore"] = -1
				for _, o := range at(d, "course", "modules", 0, "quizzes", 0, "questions", 0)["options"].([]any) {
					o.(map[string]any)["correct"] = false
				}
				at(d, "course", "modules", 0, "quizzes", 0, "questions", 2, "options", 1)["correct"] = true // true/false with two correct
				lesson(d, 0, 0)["durationSeconds"] = -5
				lesson(d, 0, 1)["videoUrl"] = "vimeo.com/sem-esquema"
				lesson(d, 0, 2)["videoUrl"] = "javascript:alert(1)"
				at(d, "course", "faq", 0)["answer"] = strings.Repeat("é", 20001)
				at(d, "course", "faq", 1)["answer"] = "nulo\u0000aqui"
			}),
			errors: []string{
				"INVALID_MIN_SCORE course.modules[0].quizzes[0].minScore",
				"NO_CORRECT_OPTION course.modules[0].quizzes[0].questions[0].options",
				"TOO_MANY_CORRECT_OPTIONS course.modules[0].quizzes[0].questions[2].options",
				"NEGATIVE_DURATION course.modules[0].lessons[0].durationSeconds",
				"INVALID_VIDEO_URL course.modules[0].lessons[1].videoUrl",
				"INVALID_VIDEO_URL course.modules[0].lessons[2].videoUrl",
				"INVALID_MIN_SCORE course.modules[1].quizzes[0].minScore",
				"TEXT_TOO_LONG course.faq[0].answer",
				"INVALID_CHARACTER course.faq[1].answer",
			},
		},
		{
			name:   "unsupported version",
			file:   mutateDemo(t, func(d map[string]any) { d["formatVersion"] = 2 }),
			errors: []string{"UNSUPPORTED_FORMAT_VERSION formatVersion"},
		},
		{
			name: "warnings only",
			file: mutateDemo(t, func(d map[string]any) {
				d["geradoPor"] = "planilha"
				at(d, "course")["categoria"] = "segurança"
				lesson(d, 0, 0)["videoUrl"] = ""
				at(d, "course", "modules", 2)["lessons"] = []any{}
				at(d, "course", "modules", 1, "quizzes", 0)["questions"] = []any{}
				mods := at(d, "course")["modules"].([]any)
				mods[0].(map[string]any)["position"], mods[1].(map[string]any)["position"], mods[2].(map[string]any)["position"] = 5, 5, 9
			}),
			warnings: []string{
				"UNKNOWN_FIELD course.categoria",
				"UNKNOWN_FIELD geradoPor",
				"POSITIONS_NORMALIZED course.modules",
				"LESSON_WITHOUT_VIDEO course.modules[0].lessons[0].videoUrl",
				"LESSON_WITHOUT_VIDEO course.modules[1].lessons[2].videoUrl",
				"QUIZ_WITHOUT_QUESTIONS course.modules[1].quizzes[0].questions",
				"EMPTY_MODULE course.modules[2].lessons",
				"UNLINKED_COMPETENCY course.competencies[2]", // only module 3's lessons linked it
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := svc.AnalyzeImport(context.Background(), raw(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := codesOf(report.GetErrors())
			slices.Sort(got)
			want := slices.Clone(tt.errors)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if report.GetOk() != (len(tt.errors) == 0) {
				t.Errorf("ok = %v with errors %v", report.GetOk(), got)
			}
			if tt.warnings != nil {
				got := codesOf(report.GetWarnings())
				slices.Sort(got)
				want := slices.Clone(tt.warnings)
				slices.Sort(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("warnings (-want +got):\n%s", diff)
				}
			}
			for _, f := range append(report.GetErrors(), report.GetWarnings()...) {
				if f.GetMessage() == "" || strings.Contains(f.GetMessage(), "%!") {
					t.Errorf("bad message for %s: %q", f.GetCode(), f.GetMessage())
				}
			}
		})
	}
}

func TestAnalyzeNamesThingsByTitle(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	file := mutateDemo(t, func(d map[string]any) {
		at(d, "course", "modules", 0, "lessons", 1)["videoUrl"] = "nao-e-url"
	})
	report, err := svc.AnalyzeImport(context.Background(), raw(file))
	if err != nil {
		t.Fatal(err)
	}
	want := `A aula "Responsabilidades do empregador e do trabalhador" (módulo "Fundamentos da NR-35") tem um endereço de vídeo inválido: "nao-e-url". Use um endereço http(s) completo.`
	if got := report.GetErrors()[0].GetMessage(); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
}

func TestUnparsableFiles(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	tests := []struct {
		name, file string
		kind       error
		code, path string
		message    string
	}{
		{"empty", "", fault.ErrInvalidArgument, "EMPTY_FILE", "", ""},
		{"blank", " \n\t", fault.ErrInvalidArgument, "EMPTY_FILE", "", ""},
		{"not json", "{\n  \"formatVersion\": 1,\n  \"course\": {oops}\n}", fault.ErrInvalidArgument, "INVALID_JSON", "", "linha 3, coluna 14"},
		{"truncated", `{"formatVersion": 1, "course": {"title": "a"`, fault.ErrInvalidArgument, "INVALID_JSON", "", "incompleto"},
		{"trailing garbage", `{"formatVersion": 1, "course": {}} x`, fault.ErrInvalidArgument, "INVALID_JSON", "", ""},
		{"an array", `[1, 2]`, fault.ErrInvalidArgument, "NOT_A_COURSE_FILE", "", ""},
		{"another json", `{"nome": "planilha"}`, fault.ErrInvalidArgument, "NOT_A_COURSE_FILE", "", ""},
		{"wrong types", `{"formatVersion": "um", "course": {"title": 7, "modules": {}}}`, fault.ErrInvalidArgument, "INVALID_FIELD_TYPE", "formatVersion", ""},
		{"unknown enum", `{"formatVersion": 1, "course": {"status": "QUASE_PRONTO"}}`, fault.ErrInvalidArgument, "INVALID_ENUM_VALUE", "course.status", "COURSE_STATUS_DRAFT"},
		{"duplicate key", `{"formatVersion": 1, "format_version": 1, "course": {}}`, fault.ErrInvalidArgument, "DUPLICATE_KEY", "format_version",
			`O campo "format_version" aparece duas vezes no objeto raiz do arquivo`},
		{"nested duplicate key", `{"formatVersion": 1, "course": {"modules": [{"title": "a", "title": "b"}]}}`, fault.ErrInvalidArgument, "DUPLICATE_KEY",
			"course.modules[0].title", `em course.modules[0]`},
		{"Latin-1", "{\"formatVersion\": 1, \"course\": {\"title\": \"Seguran\xe7a\"}}", fault.ErrInvalidArgument, "INVALID_ENCODING", "",
			"o byte 0xE7 (linha 1, coluna 50) não é UTF-8 válido"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.AnalyzeImport(context.Background(), raw([]byte(tt.file)))
			var fe *fault.Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &fe) || fe.Code != tt.code || fe.Path != tt.path {
				t.Fatalf("err = %v, want %s at %q", err, tt.code, tt.path)
			}
			if !strings.Contains(fe.Message, tt.message) {
				t.Errorf("message %q lacks %q", fe.Message, tt.message)
			}
			if tt.code == "EMPTY_FILE" {
				return
			}
			if len(fe.Details) != 1 {
				t.Fatalf("the error carries no report: %v", fe.Details)
			}
			report := fe.Details[0].(*contentv1.ImportReport)
			if report.GetOk() || len(report.GetErrors()) == 0 {
				t.Errorf("report = %v", report)
			}
		})
	}
	t.Run("all wrong types in one pass", func(t *testing.T) {
		_, err := svc.AnalyzeImport(context.Background(), raw([]byte(`{"formatVersion": "um", "course": {"title": 7, "modules": {}, "faq": [{"position": 1.5}]}}`)))
		var fe *fault.Error
		if !errors.As(err, &fe) {
			t.Fatal(err)
		}
		got := codesOf(fe.Details[0].(*contentv1.ImportReport).GetErrors())
		want := []string{"INVALID_FIELD_TYPE formatVersion", "INVALID_FIELD_TYPE course.title", "INVALID_FIELD_TYPE course.modules", "INVALID_FIELD_TYPE course.faq[0].position"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestFindingsAreCapped(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	file := mutateDemo(t, func(d map[string]any) {
		var lessons []any
		for i := range 150 {
			lessons = append(lessons, map[string]any{"id": fmt.Sprintf("l%d", i), "position": i + 1, "videoUrl": "https://youtu.be/x"})
		}
		at(d, "course", "modules", 0)["lessons"] = lessons
	})
	report, err := svc.AnalyzeImport(context.Background(), raw(file))
	if err != nil {
		t.Fatal(err)
	}
	errs := report.GetErrors()
	if len(errs) != coursefile.MaxFindings+1 {
		t.Fatalf("%d errors, want %d and a summary", len(errs), coursefile.MaxFindings)
	}
	if last := errs[len(errs)-1]; last.GetCode() != "TOO_MANY_FINDINGS" || !strings.Contains(last.GetMessage(), "Mais 50 ") {
		t.Errorf("last = %v", last)
	}
}

func TestDigestIgnoresFormattingButNotContent(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	digest := func(file []byte) string {
		t.Helper()
		r, err := svc.AnalyzeImport(context.Background(), raw(file))
		if err != nil {
			t.Fatal(err)
		}
		return r.GetDigest()
	}
	base := digest(demo.File)
	// Other whitespace and key order (Go's encoding/json sorts keys), another export time and source.
	same := mutateDemo(t, func(d map[string]any) {
		d["exportedAt"] = "2020-01-01T00:00:00Z"
		at(d, "source")["environment"] = "outro"
	})
	if got := digest(same); got != base {
		t.Errorf("digest changed with formatting: %s vs %s", got, base)
	}
	changed := mutateDemo(t, func(d map[string]any) { at(d, "course", "faq", 0)["answer"] = "outra resposta" })
	if got := digest(changed); got == base {
		t.Error("digest did not change with content")
	}
}
