package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// slowImports makes the last COPY of an import sleep 30s in the database.
func slowImports(t *testing.T, e *env) { slowImportsFor(t, e, 30*time.Second) }

// slowImportsFor makes the last COPY of an import (course_faqs) sleep for d.
func slowImportsFor(t *testing.T, e *env, d time.Duration) {
	t.Helper()
	for _, sql := range []string{
		fmt.Sprintf(`CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(%g); RETURN NULL; END $$`, d.Seconds()),
		`CREATE TRIGGER test_slow BEFORE INSERT ON course_faqs FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`,
	} {
		if _, err := e.pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
}

// waitNoSleepers waits until no backend of the test database sleeps in the trigger.
func waitNoSleepers(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := e.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the database is still working for a call that ended")
}

func applyDemo(ctx context.Context, e *env) error {
	_, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}})
	return err
}

func TestServerDeadlineStopsTheDatabaseWork(t *testing.T) {
	t.Parallel()
	e := startWith(t, options{importTimeout: 500 * time.Millisecond})
	slowImports(t, e)
	start := time.Now()
	err := applyDemo(context.Background(), e) // the client sets no deadline
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the deadline took %v to bite", took)
	}
	waitNoSleepers(t, e)
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("%d courses, want the demo only", n)
	}
	var outcome string
	if err := e.pool.QueryRow(context.Background(), `SELECT outcome FROM audit_logs WHERE action = 'IMPORT_APPLY'`).Scan(&outcome); err != nil || outcome != "DEADLINE_EXCEEDED" {
		t.Errorf("audit outcome %q, %v", outcome, err)
	}
}

func TestClientCancellationStopsTheDatabaseWork(t *testing.T) {
	t.Parallel()
	e := start(t)
	slowImports(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := applyDemo(ctx, e); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	waitNoSleepers(t, e)
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("%d courses, want the demo only", n)
	}
}
