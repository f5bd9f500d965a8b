package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

func raw(b []byte) transfer.ImportInput { return transfer.ImportInput{Raw: b} }

func codesOf(fs []*contentv1.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.GetCode()+" "+f.GetPath())
	}
	return out
}

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

func TestApplyImportCreatesADraftWithNewIDs(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "user-42", Email: "gestora@example.com"})
	resp, err := svc.ApplyImport(ctx, raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	source, _ := demo.Course()
	if resp.GetCourseId() == source.GetId() || uuid.Validate(resp.GetCourseId()) != nil || uuid.Validate(resp.GetImportBatchId()) != nil {
		t.Fatalf("ids: course %s batch %s", resp.GetCourseId(), resp.GetImportBatchId())
	}

	var status, externalID, batchID string
	if err := pool.QueryRow(ctx, `SELECT status, external_id, import_batch_id::text FROM courses WHERE id = $1`, resp.GetCourseId()).
		Scan(&status, &externalID, &batchID); err != nil {
		t.Fatal(err)
	}
	if status != "DRAFT" || externalID != source.GetId() || batchID != resp.GetImportBatchId() {
		t.Errorf("course row: status %s external %s batch %s", status, externalID, batchID)
	}
	// Every created row carries its id in the file and the batch; the counts are the rows.
	if diff := cmp.Diff(countsAsRows(resp.GetReport().GetCounts()), batchRows(t, pool, batchID)); diff != "" {
		t.Errorf("rows of the batch differ from its counts (-counts +rows):\n%s", diff)
	}
	var untracked int
	if err := pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM modules WHERE import_batch_id = $1 AND external_id IS NULL)
     + (SELECT count(*) FROM lessons WHERE import_batch_id = $1 AND external_id IS NULL)
     + (SELECT count(*) FROM quiz_options WHERE import_batch_id = $1 AND external_id IS NULL)
     + (SELECT count(*) FROM bank_options WHERE import_batch_id = $1 AND external_id IS NULL)`, batchID).Scan(&untracked); err != nil {
		t.Fatal(err)
	}
	if untracked != 0 {
		t.Errorf("%d imported rows without external_id", untracked)
	}

	// The id map covers every id of the file, each with the id it got.
	fileIDs := map[string]bool{}
	collectIDs(source, fileIDs)
	for _, m := range resp.GetIdMap() {
		if !fileIDs[m.GetExternalId()] {
			t.Errorf("id map has %q, not in the file", m.GetExternalId())
		}
		delete(fileIDs, m.GetExternalId())
		if m.GetOutcome() != contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED || uuid.Validate(m.GetId()) != nil {
			t.Errorf("mapping %v", m)
		}
	}
	if len(fileIDs) != 0 {
		t.Errorf("ids of the file missing from the id map: %v", fileIDs)
	}

	// The batch and the audit entry name the actor.
	var actor, email, digest, action string
	if err := pool.QueryRow(ctx, `SELECT actor_id, actor_email, file_digest FROM import_batches WHERE id = $1`, batchID).Scan(&actor, &email, &digest); err != nil {
		t.Fatal(err)
	}
	if actor != "user-42" || email != "gestora@example.com" || digest != resp.GetReport().GetDigest() {
		t.Errorf("batch: %s %s %s", actor, email, digest)
	}
	if err := pool.QueryRow(ctx, `SELECT action, actor_id FROM audit_logs WHERE target_id = $1`, resp.GetCourseId()).Scan(&action, &actor); err != nil {
		t.Fatal(err)
	}
	if action != "IMPORT_APPLY" || actor != "user-42" {
		t.Errorf("audit: %s by %s", action, actor)
	}
}

func collectIDs(c *contentv1.Course, ids map[string]bool) {
	ids[c.GetId()] = true
	quizzes := func(qs []*contentv1.Quiz) {
		for _, q := range qs {
			ids[q.GetId()] = true
			for _, qq := range q.GetQuestions() {
				ids[qq.GetId()] = true
				for _, o := range qq.GetOptions() {
					ids[o.GetId()] = true
				}
			}
		}
	}
	for _, m := range c.GetModules() {
		ids[m.GetId()] = true
		quizzes(m.GetQuizzes())
		for _, l := range m.GetLessons() {
			ids[l.GetId()] = true
			quizzes(l.GetQuizzes())
		}
	}
	for _, comp := range c.GetCompetencies() {
		ids[comp.GetId()] = true
	}
	for _, q := range c.GetQuestionBank() {
		ids[q.GetId()] = true
		for _, o := range q.GetOptions() {
			ids[o.GetId()] = true
		}
	}
	for _, f := range c.GetFaq() {
		ids[f.GetId()] = true
	}
}

func TestApplyReusesCompetenciesAndBankQuestions(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	source, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(pool).SeedCourse(context.Background(), source); err != nil { // the target already has the demo
		t.Fatal(err)
	}
	// The file has one more bank question, with whitespace and case changes on an existing one.
	file := mutateDemo(t, func(d map[string]any) {
		bank := at(d, "course")["questionBank"].([]any)
		at(d, "course", "questionBank", 0)["text"] = "  QUAL documento registra   os riscos e as medidas de controle de uma tarefa em altura? "
		extra := map[string]any{"id": "nova-questao", "competencyId": at(d, "course", "questionBank", 0)["competencyId"], "position": 9,
			"type": "QUESTION_TYPE_TRUE_FALSE", "text": "Pergunta nova?", "options": []any{
				map[string]any{"id": "nova-v", "position": 1, "text": "Verdadeiro", "correct": true},
				map[string]any{"id": "nova-f", "position": 2, "text": "Falso"},
			}}
		at(d, "course")["questionBank"] = append(bank, extra)
	})
	resp, err := newService(pool).ApplyImport(context.Background(), raw(file), "", "")
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetReport().GetCounts()
	if c.GetCompetenciesCreated() != 0 || c.GetCompetenciesReused() != 3 || c.GetBankQuestionsCreated() != 1 ||
		c.GetBankQuestionsExisting() != 5 || c.GetBankOptions() != 2 || c.GetBankOptionsSkipped() != 13 {
		t.Errorf("counts = %v", c)
	}
	var competencies, bank int
	var newPosition int32
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM competencies), (SELECT count(*) FROM bank_questions),
		(SELECT position FROM bank_questions WHERE text = 'Pergunta nova?')`).Scan(&competencies, &bank, &newPosition); err != nil {
		t.Fatal(err)
	}
	if competencies != 3 || bank != 6 || newPosition != 3 { // after the two existing questions of NR35-ANALISE-RISCO
		t.Errorf("competencies %d, bank %d, new question at %d", competencies, bank, newPosition)
	}
	// The new course's lessons link to the existing competencies.
	var links int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM lesson_competencies lc JOIN lessons l ON l.id = lc.lesson_id
		JOIN modules m ON m.id = l.module_id WHERE m.course_id = $1`, resp.GetCourseId()).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if links != 10 {
		t.Errorf("%d links, want 10", links)
	}
	outcomes := map[string]int{}
	for _, m := range resp.GetIdMap() {
		outcomes[m.GetKind()+" "+m.GetOutcome().String()]++
		if m.GetOutcome() != contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED && m.GetReason() == "" {
			t.Errorf("%v without a reason", m)
		}
	}
	if outcomes["competency ID_MAPPING_OUTCOME_REUSED"] != 3 || outcomes["bankQuestion ID_MAPPING_OUTCOME_REUSED"] != 5 ||
		outcomes["bankOption ID_MAPPING_OUTCOME_SKIPPED"] != 13 {
		t.Errorf("outcomes = %v", outcomes)
	}
}

func TestApplyRefusesAFileWithErrors(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	before := snapshot(t, pool)
	file := mutateDemo(t, func(d map[string]any) { at(d, "course", "modules", 0, "quizzes", 0)["minScore"] = 300 })
	_, err := newService(pool).ApplyImport(context.Background(), raw(file), "k1", "")
	var fe *fault.Error
	if !errors.Is(err, fault.ErrInvalidArgument) || !errors.As(err, &fe) || fe.Code != "IMPORT_HAS_ERRORS" {
		t.Fatalf("err = %v", err)
	}
	report := fe.Details[0].(*contentv1.ImportReport)
	if got := codesOf(report.GetErrors()); !slices.Equal(got, []string{"INVALID_MIN_SCORE course.modules[0].quizzes[0].minScore"}) {
		t.Errorf("report errors = %v", got)
	}
	if diff := cmp.Diff(before, snapshot(t, pool)); diff != "" {
		t.Fatalf("a refused import changed the database (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"IMPORT_APPLY IMPORT_HAS_ERRORS"}, auditActions(t, pool)); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestApplyChecksTheExpectedDigest(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	report, err := svc.AnalyzeImport(context.Background(), raw(demo.File))
	if err != nil {
		t.Fatal(err)
	}
	edited := mutateDemo(t, func(d map[string]any) { at(d, "course")["title"] = "Editado depois da análise" })
	_, err = svc.ApplyImport(context.Background(), raw(edited), "", report.GetDigest())
	var fe *fault.Error
	if !errors.Is(err, fault.ErrFailedPrecondition) || !errors.As(err, &fe) || fe.Code != "DIGEST_MISMATCH" {
		t.Fatalf("err = %v, want DIGEST_MISMATCH", err)
	}
	// The analysed file itself goes through, with the digest as an If-Match would send it.
	if _, err := svc.ApplyImport(context.Background(), raw(demo.File), "", `W/"`+strings.ToUpper(report.GetDigest())+`"`); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	first, err := svc.ApplyImport(context.Background(), raw(demo.File), "chave-1", "")
	if err != nil {
		t.Fatal(err)
	}
	// Same content, other formatting: the same result, nothing new.
	again, err := svc.ApplyImport(context.Background(), raw(mutateDemo(t, func(map[string]any) {})), "chave-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("the repeat returned another result (-first +again):\n%s", diff)
	}
	if n := pgtest.Count(t, pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Fatalf("%d courses after a repeat, want 1", n)
	}
	// The same key with another file is refused.
	other := mutateDemo(t, func(d map[string]any) { at(d, "course")["title"] = "Outro" })
	_, err = svc.ApplyImport(context.Background(), raw(other), "chave-1", "")
	var fe *fault.Error
	if !errors.Is(err, fault.ErrConflict) || !errors.As(err, &fe) || fe.Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("err = %v, want IDEMPOTENCY_KEY_REUSED", err)
	}
	if _, err := svc.ApplyImport(context.Background(), raw(demo.File), strings.Repeat("k", 201), ""); !errors.Is(err, fault.ErrInvalidArgument) {
		t.Errorf("a 201-character key: err = %v", err)
	}
}

func TestIdempotencyKeyUnderRaces(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDBURL(t)
	// Two "server processes": two services, each with its own pool, on one database.
	var svcs []*transfer.Service
	var pool *pgxpool.Pool
	for range 2 {
		p, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pool = p
		svcs = append(svcs, newService(p))
	}
	const callers = 8
	results := make(chan *contentv1.ApplyImportResponse, callers)
	errs := make(chan error, callers)
	start := make(chan struct{})
	for i := range callers {
		go func() {
			<-start
			resp, err := svcs[i%2].ApplyImport(context.Background(), raw(demo.File), "corrida", "")
			results <- resp
			errs <- err
		}()
	}
	close(start)
	var courseIDs []string
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		courseIDs = append(courseIDs, (<-results).GetCourseId())
	}
	slices.Sort(courseIDs)
	if courseIDs = slices.Compact(courseIDs); len(courseIDs) != 1 {
		t.Fatalf("racing repeats got %d different courses: %v", len(courseIDs), courseIDs)
	}
	if n := pgtest.Count(t, pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Fatalf("%d courses, want 1", n)
	}
}

func TestWithoutKeyEveryApplyIsANewDraft(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	first, err := svc.ApplyImport(context.Background(), raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	report, err := svc.AnalyzeImport(context.Background(), raw(demo.File))
	if err != nil {
		t.Fatal(err)
	}
	var already *contentv1.Finding
	for _, w := range report.GetWarnings() {
		if w.GetCode() == "ALREADY_IMPORTED" {
			already = w
		}
	}
	if already == nil || !strings.Contains(already.GetMessage(), first.GetImportBatchId()) {
		t.Fatalf("the second analysis does not warn that the content was imported in batch %s: %v", first.GetImportBatchId(), report.GetWarnings())
	}
	second, err := svc.ApplyImport(context.Background(), raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if second.GetCourseId() == first.GetCourseId() || pgtest.Count(t, pool, `SELECT count(*) FROM courses`) != 2 {
		t.Fatalf("the second import did not create its own course")
	}
	// The competencies of the first import are reused by the second.
	if c := second.GetReport().GetCounts(); c.GetCompetenciesReused() != 3 || c.GetCompetenciesCreated() != 0 {
		t.Errorf("second import counts = %v", c)
	}
}

func TestRoundTripOfTheDemo(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	resp, err := svc.ApplyImport(context.Background(), raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	exported, err := svc.ExportCourse(context.Background(), resp.GetCourseId())
	if err != nil {
		t.Fatal(err)
	}
	source, _ := demo.Course()
	if diff := cmp.Diff(canonical(source), canonical(exported.File.GetCourse()), protocmp.Transform()); diff != "" {
		t.Errorf("export → apply → export changed the content (-source +round trip):\n%s", diff)
	}
	if exported.File.GetCourse().GetStatus() != contentv1.CourseStatus_COURSE_STATUS_DRAFT {
		t.Errorf("status = %v", exported.File.GetCourse().GetStatus())
	}
}

func TestAnalysisCountsAreTheRowsApplyCreates(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	rapidCheck(t, func(t rapidT, c *contentv1.Course) {
		file := fileBytes(t, c)
		report, err := svc.AnalyzeImport(context.Background(), raw(file))
		if err != nil {
			t.Fatalf("analyze: %v", err)
		}
		if !report.GetOk() {
			t.Fatalf("generated file has errors: %v", report.GetErrors())
		}
		resp, err := svc.ApplyImport(context.Background(), raw(file), "", report.GetDigest())
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if diff := cmp.Diff(report.GetCounts(), resp.GetReport().GetCounts(), protocmp.Transform()); diff != "" {
			t.Fatalf("analysis and apply counts differ (-analysis +apply):\n%s", diff)
		}
		if diff := cmp.Diff(countsAsRows(report.GetCounts()), batchRows(t, pool, resp.GetImportBatchId())); diff != "" {
			t.Fatalf("analysis counts differ from the rows apply created (-analysis +rows):\n%s", diff)
		}
		// Counts add up to what the file holds.
		got := report.GetCounts()
		if int(got.GetCompetenciesCreated()+got.GetCompetenciesReused()) != len(c.GetCompetencies()) ||
			int(got.GetBankQuestionsCreated()+got.GetBankQuestionsExisting()) != len(c.GetQuestionBank()) {
			t.Fatalf("counts %v do not add up to the file", got)
		}
		exported, err := svc.ExportCourse(context.Background(), resp.GetCourseId())
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		if got.GetCompetenciesReused() == 0 && got.GetBankQuestionsExisting() == 0 {
			// An export carries only the competencies the lessons link to.
			if diff := cmp.Diff(canonical(linkedOnly(c)), canonical(exported.File.GetCourse()), protocmp.Transform()); diff != "" {
				t.Fatalf("round trip changed the content (-file +export):\n%s", diff)
			}
		}
	})
}

// sanity check that the report of a typed (gRPC message) input matches the JSON one.
func TestTypedAndJSONInputsAgree(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := svc.AnalyzeImport(context.Background(), raw(demo.File))
	if err != nil {
		t.Fatal(err)
	}
	typed, err := svc.AnalyzeImport(context.Background(), transfer.ImportInput{File: &file})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromJSON, typed, protocmp.Transform()); diff != "" {
		t.Errorf("(-json +typed):\n%s", diff)
	}
}

func TestGeneratedCoursesAreCleanFiles(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	for _, shape := range []coursegen.Shape{coursegen.S, coursegen.M} {
		file, err := coursefile.Marshal(coursegen.Generate(shape, 9))
		if err != nil {
			t.Fatal(err)
		}
		report, err := svc.AnalyzeImport(context.Background(), raw(file))
		if err != nil {
			t.Fatal(err)
		}
		if !report.GetOk() || len(report.GetWarnings()) != 0 {
			t.Errorf("a generated %d-module course: ok=%v, errors %v, warnings %v",
				shape.Modules, report.GetOk(), codesOf(report.GetErrors()), codesOf(report.GetWarnings()))
		}
	}
}
