package transfer_test

// Apply: what ApplyImport writes, reuses and refuses.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/store"
)

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
