package transfer_test

// Idempotency: the same key returns the first result, also under races.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

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
		p := pgtest.Open(t, url)
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

// The replay record of a large id map is written in parts and read back whole;
// a record written whole, before the parts existed, is replayed as well.
func TestReplayOfALargeIdMap(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	file := generatedFile(t, coursegen.M, 7)
	first, err := svc.ApplyImport(context.Background(), raw(file), "chave-m", "")
	if err != nil {
		t.Fatal(err)
	}
	parts := pgtest.Count(t, pool, `SELECT count(*) FROM import_batch_result_parts`)
	if want := int64(len(first.GetIdMap())+2047) / 2048; parts != want || parts < 2 {
		t.Fatalf("%d parts for an id map of %d entries, want %d (and more than one)", parts, len(first.GetIdMap()), want)
	}
	again, err := svc.ApplyImport(context.Background(), raw(file), "chave-m", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("the replay differs (-first +again):\n%s", diff)
	}

	whole, err := proto.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pool, `DELETE FROM import_batch_result_parts`)
	pgtest.Exec(t, pool, `UPDATE import_batches SET result = $1`, whole)
	again, err = svc.ApplyImport(context.Background(), raw(file), "chave-m", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("the replay of a whole record differs (-first +again):\n%s", diff)
	}
}

// An apply without a key can never be replayed: its batch keeps no response.
func TestApplyWithoutAKeyKeepsNoReplayRecord(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	file := generatedFile(t, coursegen.S, 3)
	applied, err := svc.ApplyImport(context.Background(), raw(file), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(applied.GetIdMap()) == 0 {
		t.Fatal("the response has no id map")
	}
	if n := pgtest.Count(t, pool, `SELECT count(*) FROM import_batch_result_parts`); n != 0 {
		t.Errorf("%d parts of a replay record", n)
	}
	if n := pgtest.Count(t, pool, `SELECT count(*) FROM import_batches WHERE result IS NOT NULL`); n != 0 {
		t.Errorf("%d batches keep a response", n)
	}
	if n := pgtest.Count(t, pool, `SELECT count(*) FROM import_batches WHERE id = $1 AND idempotency_key IS NULL`, applied.GetImportBatchId()); n != 1 {
		t.Errorf("the batch is missing: %d", n)
	}
}
