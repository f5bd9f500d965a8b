package bench

// The database's own limits: COPY out and in of exactly a course's rows, and pgbench replaying the export's statements.

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/store"
)

// courseTables are the tables of one imported course, in foreign-key order, each
// with the SELECT of exactly that course's rows. The course id and batch id come
// from set_config, since COPY takes no parameters.
var courseTables = []struct{ name, rows string }{
	{"import_batches", `SELECT * FROM import_batches WHERE id = current_setting('bench.batch')::uuid`},
	{"import_batch_result_parts", `SELECT * FROM import_batch_result_parts WHERE batch_id = current_setting('bench.batch')::uuid`},
	{"courses", `SELECT * FROM courses WHERE id = current_setting('bench.course')::uuid`},
	{"modules", `SELECT * FROM modules WHERE course_id = current_setting('bench.course')::uuid`},
	{"lessons", `SELECT l.* FROM lessons l JOIN modules m ON m.id = l.module_id WHERE m.course_id = current_setting('bench.course')::uuid`},
	{"quizzes", `SELECT q.* FROM quizzes q WHERE q.module_id IN (SELECT id FROM modules WHERE course_id = current_setting('bench.course')::uuid)
	   OR q.lesson_id IN (SELECT l.id FROM lessons l JOIN modules m ON m.id = l.module_id WHERE m.course_id = current_setting('bench.course')::uuid)`},
	{"quiz_questions", `SELECT qq.* FROM quiz_questions qq JOIN quizzes q ON q.id = qq.quiz_id WHERE q.import_batch_id = current_setting('bench.batch')::uuid`},
	{"quiz_options", `SELECT o.* FROM quiz_options o WHERE o.import_batch_id = current_setting('bench.batch')::uuid`},
	{"competencies", `SELECT c.* FROM competencies c WHERE c.id IN (SELECT lc.competency_id FROM lesson_competencies lc JOIN lessons l ON l.id = lc.lesson_id
	   JOIN modules m ON m.id = l.module_id WHERE m.course_id = current_setting('bench.course')::uuid)`},
	{"lesson_competencies", `SELECT lc.* FROM lesson_competencies lc JOIN lessons l ON l.id = lc.lesson_id JOIN modules m ON m.id = l.module_id
	   WHERE m.course_id = current_setting('bench.course')::uuid`},
	{"bank_questions", `SELECT bq.* FROM bank_questions bq WHERE bq.competency_id IN (SELECT lc.competency_id FROM lesson_competencies lc
	   JOIN lessons l ON l.id = lc.lesson_id JOIN modules m ON m.id = l.module_id WHERE m.course_id = current_setting('bench.course')::uuid)`},
	{"bank_options", `SELECT bo.* FROM bank_options bo JOIN bank_questions bq ON bq.id = bo.question_id WHERE bq.competency_id IN (SELECT lc.competency_id
	   FROM lesson_competencies lc JOIN lessons l ON l.id = lc.lesson_id JOIN modules m ON m.id = l.module_id WHERE m.course_id = current_setting('bench.course')::uuid)`},
	{"course_faqs", `SELECT * FROM course_faqs WHERE course_id = current_setting('bench.course')::uuid`},
}

// copyOut is the export baseline: COPY TO STDOUT of the course's rows of every
// content table, in one snapshot. It returns the dumps for copyIn.
func (r *runner) copyOut(ctx context.Context, courseID, batchID string) (map[string][]byte, time.Duration, error) {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Release()
	dump := map[string][]byte{}
	start := time.Now()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	if err := selectCourse(ctx, tx, courseID, batchID); err != nil {
		return nil, 0, err
	}
	for _, t := range courseTables {
		var buf bytes.Buffer
		if _, err := tx.Conn().PgConn().CopyTo(ctx, &buf, "COPY ("+t.rows+") TO STDOUT"); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", t.name, err)
		}
		dump[t.name] = buf.Bytes()
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, err
	}
	return dump, time.Since(start), nil
}

// dbBaselines are the database's own times for the rows of one course.
type dbBaselines struct {
	// CopyIn: COPY FROM STDIN of the rows into the empty tables of a fresh
	// migrated database, in one transaction.
	CopyIn time.Duration
	// PGRestore: pg_restore --data-only --single-transaction of an archive of
	// the rows into a fresh migrated database, foreign keys checked (no
	// --disable-triggers).
	PGRestore time.Duration
	// PGRestoreInPlace: the same pg_restore into the service's own database,
	// where the apply wrote the rows, once they are deleted again: the
	// database as the apply found it, its other courses and all.
	PGRestoreInPlace time.Duration
	// PGDump: pg_dump --data-only of a database holding exactly the rows.
	PGDump time.Duration
}

// baselines times COPY in, pg_dump and pg_restore of the rows in dump, which
// are those of the course and batch given, applied into the service's database.
func (r *runner) baselines(ctx context.Context, dump map[string][]byte, courseID, batchID string) (*dbBaselines, error) {
	b := &dbBaselines{}
	pool, name, drop, err := r.scratchDB(ctx)
	if err != nil {
		return nil, err
	}
	defer drop()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, err
	}
	for _, t := range courseTables {
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(dump[t.name]), "COPY "+t.name+" FROM STDIN"); err != nil {
			_ = tx.Rollback(ctx)
			conn.Release()
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	err = tx.Commit(ctx)
	conn.Release()
	if err != nil {
		return nil, err
	}
	b.CopyIn = time.Since(start)

	// The export baseline: pg_dump of exactly these rows, plain COPY text,
	// uncompressed, settled as the service's database is before its exports.
	if err := r.settle(ctx, pool); err != nil {
		return nil, err
	}
	start = time.Now()
	if err := r.pgTool(ctx, "pg_dump", "--data-only", "--exclude-table=goose_db_version", "-f", "/dev/null", name); err != nil {
		return nil, err
	}
	b.PGDump = time.Since(start)

	// The import baseline: their archive restored into another fresh database.
	archive := filepath.Join(r.workDir, name+".dump")
	defer os.Remove(archive)
	if err := r.pgTool(ctx, "pg_dump", "--data-only", "--exclude-table=goose_db_version", "--format=custom", "--compress=0", "-f", archive, name); err != nil {
		return nil, err
	}
	_, target, dropTarget, err := r.scratchDB(ctx)
	if err != nil {
		return nil, err
	}
	defer dropTarget()
	if b.PGRestore, err = r.restore(ctx, target, archive); err != nil {
		return nil, err
	}

	// And into the service's database, in place of the applied rows.
	applied, err := r.courseRows(ctx, courseID, batchID)
	if err != nil {
		return nil, err
	}
	if err := r.deleteApplied(ctx, courseID, batchID); err != nil {
		return nil, err
	}
	if err := r.settle(ctx, r.pool); err != nil { // as before the apply
		return nil, err
	}
	if b.PGRestoreInPlace, err = r.restore(ctx, benchDB, archive); err != nil {
		return nil, err
	}
	restored, err := r.courseRows(ctx, courseID, batchID)
	if err != nil {
		return nil, err
	}
	if !maps.Equal(restored, applied) {
		return nil, fmt.Errorf("pg_restore in place: the course's rows by table were %v as applied, %v as restored", applied, restored)
	}
	return b, nil
}

// restore times pg_restore of archive into the database db: data only, in one
// transaction, foreign keys checked (no --disable-triggers).
func (r *runner) restore(ctx context.Context, db, archive string) (time.Duration, error) {
	start := time.Now()
	err := r.pgTool(ctx, "pg_restore", "--data-only", "--single-transaction", "--exit-on-error", "-d", db, archive)
	return time.Since(start), err
}

// selectCourse sets, for the rest of tx, the course and batch whose rows the
// queries of courseTables select.
func selectCourse(ctx context.Context, tx pgx.Tx, courseID, batchID string) error {
	_, err := tx.Exec(ctx, `SELECT set_config('bench.course', $1, true), set_config('bench.batch', $2, true)`, courseID, batchID)
	return err
}

// courseRows counts the rows copyOut takes of a course and its batch, by table.
func (r *runner) courseRows(ctx context.Context, courseID, batchID string) (map[string]int, error) {
	counts := map[string]int{}
	err := pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := selectCourse(ctx, tx, courseID, batchID); err != nil {
			return err
		}
		for _, t := range courseTables {
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM ("+t.rows+") rows").Scan(&n); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			counts[t.name] = n
		}
		return nil
	})
	return counts, err
}

// deleteApplied deletes from the service's database exactly the rows that
// copyOut takes of a course and its batch: the course with its content, the
// competencies its lessons teach with their question bank, and the batch.
func (r *runner) deleteApplied(ctx context.Context, courseID, batchID string) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var taught []string
		if err := tx.QueryRow(ctx, `
SELECT coalesce(array_agg(DISTINCT lc.competency_id::text), '{}') FROM lesson_competencies lc
JOIN lessons l ON l.id = lc.lesson_id JOIN modules m ON m.id = l.module_id WHERE m.course_id = $1`, courseID).Scan(&taught); err != nil {
			return err
		}
		for _, del := range []struct {
			sql string
			arg any
		}{
			{`DELETE FROM courses WHERE id = $1`, courseID},                 // its content, by cascade
			{`DELETE FROM competencies WHERE id = ANY($1::uuid[])`, taught}, // their bank, by cascade
			{`DELETE FROM import_batches WHERE id = $1`, batchID},
		} {
			if _, err := tx.Exec(ctx, del.sql, del.arg); err != nil {
				return err
			}
		}
		return nil
	})
}

// scratchDB creates a fresh migrated database; drop removes it.
func (r *runner) scratchDB(ctx context.Context) (*pgxpool.Pool, string, func(), error) {
	r.copyDBs++
	name := fmt.Sprintf("bench_copy_%d", r.copyDBs)
	pool, err := r.newDB(ctx, name)
	if err != nil {
		return nil, "", nil, err
	}
	return pool, name, func() {
		pool.Close()
		_ = r.admin(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}, nil
}

// pgTool runs a client program of the cluster's build against the cluster.
func (r *runner) pgTool(ctx context.Context, name string, args ...string) error {
	args = append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(r.cluster.Port()), "-U", "postgres"}, args...)
	if name == "pg_dump" {
		args[len(args)-1] = "--dbname=" + args[len(args)-1]
	}
	out, err := exec.CommandContext(ctx, filepath.Join(r.cluster.Bindir(), name), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// pgbench replays the export's own statements — its reads in their snapshot
// transaction, then its audit INSERT — from Clients connections for Duration:
// the database's rate for that work.
func (r *runner) pgbench(ctx context.Context) (float64, int, error) {
	var script strings.Builder
	script.WriteString("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
	for _, st := range store.ExportStatements() {
		sql := st.SQL
		if st.ByCourse {
			sql = strings.ReplaceAll(sql, "$1", ":course")
		}
		script.WriteString(strings.Join(strings.Fields(sql), " ") + ";\n")
	}
	script.WriteString("COMMIT;\n")
	// Every export then records itself in the audit log, in its own statement.
	audit := strings.NewReplacer("$1", "'bench'", "$2", "NULL", "$3", "'EXPORT_COURSE'", "$4", "'course'",
		"$5", ":course", "$6", "'OK'", "$7", "'{}'").Replace(store.AuditStatement())
	script.WriteString(strings.Join(strings.Fields(audit), " ") + ";\n")
	path := filepath.Join(r.workDir, "export.sql")
	if err := os.WriteFile(path, []byte(script.String()), 0o644); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(r.cluster.Bindir(), "pgbench"), "-n", "-M", "prepared",
		"-c", strconv.Itoa(r.opt.Clients), "-j", "2", "-T", strconv.Itoa(int(r.opt.Duration.Seconds())),
		"-D", "course="+r.sCourse, "-f", path, "-h", "127.0.0.1", "-p", strconv.Itoa(r.cluster.Port()), "-U", "postgres", benchDB)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m, n := tpsLine.FindSubmatch(out), txLine.FindSubmatch(out)
	if m == nil || n == nil {
		return 0, 0, fmt.Errorf("pgbench output not understood:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	count, _ := strconv.Atoi(string(n[1]))
	return tps, count, nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

var txLine = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
