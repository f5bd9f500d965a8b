package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// assertNothingImported checks that no table holds a row of any import batch and
// that the whole database is as it was.
func assertNothingImported(t *testing.T, pool *pgxpool.Pool, before map[string]string) {
	t.Helper()
	var batches, tagged int
	if err := pool.QueryRow(context.Background(), `SELECT
	  (SELECT count(*) FROM import_batches),
	  (SELECT count(*) FROM courses WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM modules WHERE import_batch_id IS NOT NULL)
	+ (SELECT count(*) FROM lessons WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM quizzes WHERE import_batch_id IS NOT NULL)
	+ (SELECT count(*) FROM quiz_questions WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM quiz_options WHERE import_batch_id IS NOT NULL)
	+ (SELECT count(*) FROM competencies WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM lesson_competencies WHERE import_batch_id IS NOT NULL)
	+ (SELECT count(*) FROM bank_questions WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM bank_options WHERE import_batch_id IS NOT NULL)
	+ (SELECT count(*) FROM course_faqs WHERE import_batch_id IS NOT NULL)`).Scan(&batches, &tagged); err != nil {
		t.Fatal(err)
	}
	if batches != 0 || tagged != 0 {
		t.Errorf("a failed import left %d batches and %d rows behind", batches, tagged)
	}
	if diff := cmp.Diff(before, snapshot(t, pool)); diff != "" {
		t.Errorf("a failed import changed the database (-before +after):\n%s", diff)
	}
	// What remains is the record that it failed.
	for _, a := range auditActions(t, pool) {
		if strings.HasPrefix(a, "IMPORT_APPLY") && strings.HasSuffix(a, " OK") {
			t.Errorf("the audit log says a failed import succeeded: %v", a)
		}
	}
}

func TestApplyIsAtomicWhenARowIsRejected(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	// A rule the validation does not know, on a table written near the end.
	pgtest.Exec(t, pool, `ALTER TABLE bank_options ADD CONSTRAINT test_no_boom CHECK (text <> 'BOOM')`)
	before := snapshot(t, pool)
	file := mutateDemo(t, func(d map[string]any) { at(d, "course", "questionBank", 4, "options", 1)["text"] = "BOOM" })
	svc := newService(pool)

	_, err := svc.ApplyImport(context.Background(), raw(file), "chave", "")
	var fe *fault.Error
	if !errors.Is(err, fault.ErrInvalidArgument) || !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	report := fe.Details[0].(*contentv1.ImportReport)
	if errs := report.GetErrors(); len(errs) != 1 || errs[0].GetCode() != "DATABASE_REJECTED" || !strings.Contains(errs[0].GetMessage(), "test_no_boom") {
		t.Fatalf("report errors = %v", errs)
	}
	assertNothingImported(t, pool, before)

	// The dry run tells the same truth.
	analysis, err := svc.AnalyzeImport(context.Background(), raw(file))
	if err != nil {
		t.Fatal(err)
	}
	if analysis.GetOk() || len(analysis.GetErrors()) != 1 || analysis.GetErrors()[0].GetCode() != "DATABASE_REJECTED" {
		t.Errorf("analysis = %v", analysis)
	}
}

// slowFAQs makes the last COPY of an import wait, so that a test can interrupt it
// with every other table already written inside the transaction.
func slowFAQs(t *testing.T, pool *pgxpool.Pool) {
	pgtest.Exec(t, pool, `CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$`)
	pgtest.Exec(t, pool, `CREATE TRIGGER test_slow BEFORE INSERT ON course_faqs FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`)
}

// sleepingBackend waits for the import to reach the slow trigger and returns its pid.
func sleepingBackend(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var pid int
		err := pool.QueryRow(context.Background(),
			`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`).Scan(&pid)
		if err == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the import never reached the slow trigger")
	return 0
}

// waitGone waits until a backend has ended, and with it its transaction.
func waitGone(t *testing.T, pool *pgxpool.Pool, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("backend %d is still there", pid)
}

func TestApplyIsAtomicWhenCancelled(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	slowFAQs(t, pool)
	before := snapshot(t, pool)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := newService(pool).ApplyImport(ctx, raw(demo.File), "", "")
		done <- err
	}()
	pid := sleepingBackend(t, pool)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the context did not stop the import")
	}
	waitGone(t, pool, pid)
	assertNothingImported(t, pool, before)
}

func TestApplyIsAtomicWhenTheConnectionIsKilled(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	slowFAQs(t, pool)
	before := snapshot(t, pool)
	done := make(chan error, 1)
	go func() {
		_, err := newService(pool).ApplyImport(context.Background(), raw(demo.File), "", "")
		done <- err
	}()
	pid := sleepingBackend(t, pool)
	pgtest.Exec(t, pool, fmt.Sprintf(`SELECT pg_terminate_backend(%d)`, pid))
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the import succeeded on a killed connection")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the import did not notice its connection was killed")
	}
	waitGone(t, pool, pid)
	assertNothingImported(t, pool, before)
}
