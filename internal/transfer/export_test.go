package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newService(pool *pgxpool.Pool) *transfer.Service {
	return transfer.New(store.New(pool), transfer.Config{Version: "test", Environment: "staging"})
}

func TestExportCourseContentAndOrder(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	want := insertFixture(t, pool)

	got, err := newService(pool).ExportCourse(context.Background(), courseID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.File.GetCourse(), protocmp.Transform()); diff != "" {
		t.Errorf("exported course mismatch (-want +got):\n%s", diff)
	}
	wantSource := &contentv1.ExportSource{Service: "contentd", Version: "test", CourseId: courseID, Environment: "staging"}
	if diff := cmp.Diff(wantSource, got.File.GetSource(), protocmp.Transform()); diff != "" {
		t.Errorf("source mismatch (-want +got):\n%s", diff)
	}
	if got.File.GetFormatVersion() != 1 {
		t.Errorf("formatVersion = %d, want 1", got.File.GetFormatVersion())
	}
	if age := time.Since(got.File.GetExportedAt().AsTime()); age < 0 || age > time.Minute {
		t.Errorf("exportedAt = %v, want about now", got.File.GetExportedAt().AsTime())
	}
	if !strings.HasPrefix(got.Filename, "primeiros-socorros-no-trabalho-") || !strings.HasSuffix(got.Filename, ".json") {
		t.Errorf("filename = %q", got.Filename)
	}
}

func TestExportNeverContainsUserData(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	insertFixture(t, pool)

	got, err := newService(pool).ExportCourse(context.Background(), courseID)
	if err != nil {
		t.Fatal(err)
	}
	file, err := coursefile.Marshal(got.File)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(userDataMarker)) {
		t.Fatalf("the file contains user data:\n%s", file)
	}
	// Nor content of other courses, nor competencies no lesson of this course uses.
	for _, foreign := range []string{"outro curso", "Sem ligação", "UNLINKED", "OTHER-ONLY", "Banco sem ligação", otherCourseID} {
		if bytes.Contains(file, []byte(foreign)) {
			t.Errorf("the file contains %q, which is not part of the course", foreign)
		}
	}
}

func TestExportCourseErrors(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	tests := []struct {
		name     string
		courseID string
		kind     error
		code     string
	}{
		{"empty", "", fault.ErrInvalidArgument, "COURSE_ID_REQUIRED"},
		{"not a uuid", "curso-123", fault.ErrInvalidArgument, "INVALID_COURSE_ID"},
		{"uuid without hyphens", "0000000000004000800000000000000a", fault.ErrInvalidArgument, "INVALID_COURSE_ID"},
		{"sql in id", "1' OR '1'='1", fault.ErrInvalidArgument, "INVALID_COURSE_ID"},
		{"unknown", "5b0c7c1e-8d7a-4f3e-9a51-000000000000", fault.ErrNotFound, "COURSE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.ExportCourse(context.Background(), tt.courseID)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != tt.code || fe.Path != "courseId" || fe.Message == "" {
				t.Fatalf("err = %#v, want code %s at courseId with a message", err, tt.code)
			}
		})
	}
}

// TestExportInEveryQueryExecMode exports the same course through each of pgx's
// query modes: its statements take the course id as a parameter, binary or as
// text, and the rows come back in either format.
func TestExportInEveryQueryExecMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DirectURL(pgtest.NewDBURL(t)) // the modes of a direct connection; the pooler's is the suite's own
	file := generatedFile(t, coursegen.S, 11)
	applied, err := newService(pgtest.Open(t, url)).ApplyImport(ctx, raw(file), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var want *contentv1.Course
	for _, mode := range []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"} {
		svc := newService(pgtest.Open(t, url+"&default_query_exec_mode="+mode))
		export, err := svc.ExportCourse(ctx, applied.GetCourseId())
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if want == nil {
			want = export.File.GetCourse()
			if len(want.GetModules()) != coursegen.S.Modules || len(want.GetQuestionBank()) == 0 {
				t.Fatalf("%s: the export is not the course: %d modules, %d bank questions", mode, len(want.GetModules()), len(want.GetQuestionBank()))
			}
		} else if diff := cmp.Diff(want, export.File.GetCourse(), protocmp.Transform()); diff != "" {
			t.Errorf("%s exports another course (-cache_statement +%s):\n%s", mode, mode, diff)
		}
		if _, err := svc.ExportCourse(ctx, "00000000-0000-0000-0000-000000000001"); fault.CodeOf(err) != "COURSE_NOT_FOUND" {
			t.Errorf("%s: export of a missing course: %v", mode, err)
		}
	}
}

// TestExportLeavesNothingOnTheConnection: an export keeps its id lists in
// settings of its transaction, and turns sequential scans off for it; the next
// transaction of the connection (on a transaction pooler, another client's)
// finds the lists empty and the planner as it was.
func TestExportLeavesNothingOnTheConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := dbpool.New(ctx, pgtest.NewDBURL(t), pgtest.Pooler(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	insertFixture(t, pool)
	if _, err := newService(pool).ExportCourse(ctx, courseID); err != nil {
		t.Fatal(err)
	}
	for _, list := range []string{"lessons", "quizzes", "questions", "links", "bank_questions"} {
		name := "contentd." + list
		var value string
		if err := pool.QueryRow(ctx, "SELECT coalesce(current_setting($1, true), '')", name).Scan(&value); err != nil {
			t.Fatal(err)
		}
		if value != "" {
			t.Errorf("%s = %q after the export, want it empty", name, value)
		}
	}
	var seqScan string
	if err := pool.QueryRow(ctx, "SELECT current_setting('enable_seqscan')").Scan(&seqScan); err != nil {
		t.Fatal(err)
	}
	if seqScan != "on" {
		t.Errorf("enable_seqscan = %q after the export, want on", seqScan)
	}
}

// TestExportReadsNoTableWholeOnStaleStatistics exports a course imported into
// tables whose statistics describe a far smaller database, as they do after a
// large import until autovacuum analyzes them (a minute or more): the planner
// then chose to read whole tables, testing each row against every id of the
// course (an export three times as long, or tens of seconds). No content
// table is read sequentially by the export, whatever the statistics say.
func TestExportReadsNoTableWholeOnStaleStatistics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One connection, straight to PostgreSQL: its table statistics are the
	// backend's own until it flushes them.
	pool, err := dbpool.New(ctx, pgtest.DirectURL(pgtest.NewDBURL(t)), dbpool.Direct, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc := newService(pool)
	if _, err := svc.ApplyImport(ctx, raw(generatedFile(t, coursegen.S, 1)), "", ""); err != nil {
		t.Fatal(err)
	}
	for _, table := range contentTables {
		pgtest.Exec(t, pool, "ALTER TABLE "+table+" SET (autovacuum_enabled = false)")
	}
	pgtest.Exec(t, pool, "ANALYZE")
	applied, err := svc.ApplyImport(ctx, raw(generatedFile(t, coursegen.M, 2)), "", "")
	if err != nil {
		t.Fatal(err)
	}
	// Sequential scans of the content tables, as PostgreSQL counts them once
	// this backend has flushed its statistics. Courses are left out: after its
	// snapshot, the export records itself in the audit log if its course
	// exists, and the planner rightly reads a table of two courses whole to
	// find one of them.
	tables := slices.DeleteFunc(slices.Clone(contentTables), func(t string) bool { return t == "courses" })
	seqScans := func() int64 {
		t.Helper()
		pgtest.Exec(t, pool, "SELECT pg_stat_force_next_flush()")
		return pgtest.Count(t, pool, `SELECT sum(seq_scan) FROM pg_stat_user_tables WHERE relname = ANY($1)`, tables)
	}
	before := seqScans()
	if _, err := svc.ExportCourse(ctx, applied.GetCourseId()); err != nil {
		t.Fatal(err)
	}
	if n := seqScans() - before; n != 0 {
		t.Errorf("the export read %d content tables whole, want none", n)
	}
}

// TestExportReadsItsSnapshotWhileTheCourseIsEdited edits and vacuums every
// table whose rows the export keeps by place (ctid), between the statement that
// finds them and the statements that read them: they still read the rows of
// the export's snapshot, each once.
func TestExportReadsItsSnapshotWhileTheCourseIsEdited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	insertFixture(t, pool)
	// The planner's setting, the course row, then the statement that finds
	// the rows (find), and the reads: modules, lessons, quizzes, questions,
	// options, links, competencies, bank questions, bank options, FAQ.
	statements := store.ExportStatements()
	const find = 2
	read := func(conn *pgx.Conn, st store.ExportStatement) []string {
		t.Helper()
		var args []any
		if st.ByCourse {
			args = append(args, courseID)
		}
		rows, err := conn.Query(ctx, st.SQL, args...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			values, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(values))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	export := func(edit func()) [][]string {
		t.Helper()
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			t.Fatal(err)
		}
		var all [][]string
		for i, st := range statements {
			all = append(all, read(conn.Conn(), st))
			if i == find {
				edit()
			}
		}
		if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
		return all
	}
	want := export(func() {})
	if len(want[find+2]) == 0 || len(want[find+4]) == 0 || len(want[find+6]) == 0 || len(want[find+8]) == 0 {
		t.Fatalf("the fixture lacks lessons, questions, links or bank questions: %v", want)
	}
	got := export(func() {
		for _, sql := range []string{
			"UPDATE lessons SET title = title || ' (editada)'",
			"UPDATE quizzes SET title = title || ' (editado)'",
			"UPDATE quiz_questions SET text = text || ' (editada)'",
			"UPDATE bank_questions SET text = text || ' (editada)'",
			"DELETE FROM lesson_competencies",
			"VACUUM lessons, quizzes, quiz_questions, bank_questions, lesson_competencies",
		} {
			pgtest.Exec(t, pool, sql)
		}
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("an export during the edit read other rows (-before the edit +during it):\n%s", diff)
	}
	if after := export(func() {}); cmp.Equal(want, after) {
		t.Error("the edit changed nothing: the test tests nothing")
	}
}

func TestExportIsDeterministic(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	insertFixture(t, pool)
	svc := newService(pool)

	render := func() []byte {
		t.Helper()
		got, err := svc.ExportCourse(context.Background(), courseID)
		if err != nil {
			t.Fatal(err)
		}
		got.File.ExportedAt = nil
		out, err := coursefile.Marshal(got.File)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := render()
	// Touch the database in ways that change physical row order but not content.
	for _, stmt := range []string{`UPDATE lessons SET title = title`, `UPDATE quiz_options SET text = text`, `VACUUM FULL lessons`} {
		if _, err := pool.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if again := render(); !bytes.Equal(first, again) {
			t.Fatalf("two exports of the same state differ:\n%s\n---\n%s", first, again)
		}
	}
}

// queryCounter counts the statements sent to the database.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}
func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (q *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (q *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	q.n.Add(1)
}
func (q *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
func (q *queryCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	q.n.Add(1)
	return ctx
}
func (q *queryCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// countingPool returns a pool on a fresh database whose statements are counted.
func countingPool(t *testing.T) (*pgxpool.Pool, *queryCounter) {
	t.Helper()
	cfg, err := dbpool.Config(pgtest.NewDBURL(t), pgtest.Pooler(), 0)
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, counter
}

// TestStatementsDoNotGrowWithCourseSize counts, through a pgx tracer, the
// statements (queries, batched queries and COPYs) of an apply and of an export of
// the generator's S and L courses, each into its own database: the counts must be
// equal, whatever the size.
func TestStatementsDoNotGrowWithCourseSize(t *testing.T) {
	t.Parallel()
	type counts struct{ apply, export int64 }
	measure := func(shape coursegen.Shape) counts {
		t.Helper()
		pool, counter := countingPool(t)
		svc := transfer.New(store.New(pool), transfer.Config{MaxFileBytes: 1 << 30})
		file := generatedFile(t, shape, 1)
		before := counter.n.Load()
		resp, err := svc.ApplyImport(context.Background(), raw(file), "chave", "")
		if err != nil {
			t.Fatal(err)
		}
		var c counts
		c.apply = counter.n.Load() - before
		before = counter.n.Load()
		if _, err := svc.ExportCourse(context.Background(), resp.GetCourseId()); err != nil {
			t.Fatal(err)
		}
		c.export = counter.n.Load() - before
		return c
	}
	small, large := measure(coursegen.S), measure(coursegen.L)
	if small != large || small.apply == 0 || small.export == 0 {
		t.Fatalf("statements: S %+v, L %+v; they must not grow with the course", small, large)
	}
}

func TestSeedDemoIsIdempotentAndExportsAsShipped(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	st := store.New(pool)
	course, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	for i, wantCreated := range []bool{true, false} {
		created, err := st.SeedCourse(context.Background(), course)
		if err != nil {
			t.Fatal(err)
		}
		if created != wantCreated {
			t.Fatalf("seed #%d: created = %v, want %v", i+1, created, wantCreated)
		}
	}
	var courses int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM courses`).Scan(&courses); err != nil {
		t.Fatal(err)
	}
	if courses != 1 {
		t.Fatalf("%d courses after seeding twice, want 1", courses)
	}
	got, err := newService(pool).ExportCourse(context.Background(), course.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(course, got.File.GetCourse(), protocmp.Transform()); diff != "" {
		t.Errorf("export of the seeded demo differs from the demo file (-want +got):\n%s", diff)
	}
}

// TestACourseAndItsImportGetDistinctFileNames: an import keeps the title, so
// the two files of one day differ by the course id they carry.
func TestACourseAndItsImportGetDistinctFileNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	course, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(pool).SeedCourse(ctx, course); err != nil {
		t.Fatal(err)
	}
	imported, err := svc.ApplyImport(ctx, raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.ExportCourse(ctx, course.GetId())
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.ExportCourse(ctx, imported.GetCourseId())
	if err != nil {
		t.Fatal(err)
	}
	if a.Filename == b.Filename || !strings.HasSuffix(a.Filename, "-"+course.GetId()[:8]+".json") ||
		!strings.HasSuffix(b.Filename, "-"+imported.GetCourseId()[:8]+".json") {
		t.Errorf("file names %q and %q", a.Filename, b.Filename)
	}
}

// TestExportFromASQLASCIIDatabase exports from a database whose encoding is
// SQL_ASCII, which stores any bytes: a course whose text is UTF-8 exports as
// from any other, and one whose text is not never becomes a file (or a gRPC
// response) that is not UTF-8: the export fails, or, for an array's element
// that pgx reads as text (through a transaction pooler, in pgx's exec mode),
// carries pgx's replacement character in place of the invalid byte.
func TestExportFromASQLASCIIDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DirectURL(pgtest.NewDBURL(t))
	admin := pgtest.Open(t, url)
	utf8DB := admin.Config().ConnConfig.Database
	name := "ascii_" + utf8DB
	pgtest.Exec(t, admin, "CREATE DATABASE "+name+" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
	t.Cleanup(func() { pgtest.Exec(t, admin, "DROP DATABASE "+name+" WITH (FORCE)") })
	pool := pgtest.Open(t, strings.Replace(url, "/"+utf8DB+"?", "/"+name+"?", 1))
	if enc := pgtest.Count(t, pool, `SELECT CASE WHEN current_setting('server_encoding') = 'SQL_ASCII' THEN 1 END`); enc != 1 {
		t.Fatal("the database is not SQL_ASCII")
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	want := insertFixture(t, pool)
	svc := newService(pool)
	got, err := svc.ExportCourse(ctx, courseID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.File.GetCourse(), protocmp.Transform()); diff != "" {
		t.Errorf("exported course mismatch (-want +got):\n%s", diff)
	}
	for _, stmt := range []string{
		`UPDATE courses SET title = E'Curso \351' WHERE id = $1`, // Latin-1's é
		`UPDATE lessons SET checklist = ARRAY['ok', E'item \377'] WHERE module_id IN (SELECT id FROM modules WHERE course_id = $1)`,
	} {
		pgtest.Exec(t, pool, `UPDATE courses SET title = 'Curso' WHERE id = $1`, courseID)
		pgtest.Exec(t, pool, stmt, courseID)
		export, err := svc.ExportCourse(ctx, courseID)
		switch {
		case err != nil && strings.Contains(err.Error(), "not UTF-8"):
		case err == nil && strings.HasPrefix(stmt, "UPDATE lessons") && pgtest.Pooler() != dbpool.Direct:
			if item := export.File.GetCourse().GetModules()[0].GetLessons()[0].GetChecklist()[1]; item != "item \uFFFD" {
				t.Fatalf("after %s: checklist item %q, want pgx's replacement of the invalid byte", stmt, item)
			}
		default:
			t.Fatalf("after %s: exported %v, err %v; want an error on text that is not UTF-8", stmt, export != nil, err)
		}
	}
}
