package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t) // already migrated by the harness
	applied, err := migrations.Up(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Up applied %v, want nothing", applied)
	}
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	setup := []string{
		`INSERT INTO courses (id, title) VALUES ('00000000-0000-4000-8000-000000000001', 'Curso')`,
		`INSERT INTO modules (id, course_id, position, title) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 1, 'M')`,
		`INSERT INTO lessons (id, module_id, position, title) VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000002', 1, 'L')`,
		`INSERT INTO quizzes (id, module_id, position, title) VALUES ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', 1, 'Q')`,
		`INSERT INTO competencies (id, code, name) VALUES ('00000000-0000-4000-8000-000000000005', 'C1', 'C')`,
		`INSERT INTO lesson_competencies (lesson_id, competency_id) VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000005')`,
		`INSERT INTO users (id, email) VALUES ('00000000-0000-4000-8000-000000000006', 'a@b.c')`,
	}
	for _, s := range setup {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	const (
		course = "'00000000-0000-4000-8000-000000000001'"
		module = "'00000000-0000-4000-8000-000000000002'"
		lesson = "'00000000-0000-4000-8000-000000000003'"
	)
	rejected := []struct {
		name, sql, sqlstate string
	}{
		{"status outside the enum", `INSERT INTO courses (title, status) VALUES ('x', 'LIVE')`, "23514"},
		{"blank title", `INSERT INTO courses (title) VALUES ('  ')`, "23514"},
		{"position zero", `INSERT INTO modules (course_id, position, title) VALUES (` + course + `, 0, 'x')`, "23514"},
		{"duplicate position", `INSERT INTO modules (course_id, position, title) VALUES (` + course + `, 1, 'x')`, "23505"},
		{"negative duration", `INSERT INTO lessons (module_id, position, title, duration_seconds) VALUES (` + module + `, 2, 'x', -1)`, "23514"},
		{"min score above 100", `INSERT INTO quizzes (module_id, position, title, min_score) VALUES (` + module + `, 2, 'x', 101)`, "23514"},
		{"quiz with two parents", `INSERT INTO quizzes (module_id, lesson_id, position, title) VALUES (` + module + `, ` + lesson + `, 3, 'x')`, "23514"},
		{"quiz with no parent", `INSERT INTO quizzes (position, title) VALUES (1, 'x')`, "23514"},
		{"duplicate competency code", `INSERT INTO competencies (code, name) VALUES ('C1', 'y')`, "23505"},
		{"unknown question type", `INSERT INTO quiz_questions (quiz_id, position, type, text) VALUES ('00000000-0000-4000-8000-000000000004', 1, 'ESSAY', 'x')`, "23514"},
		{"linked competency deleted", `DELETE FROM competencies WHERE code = 'C1'`, "23503"},
	}
	for _, tt := range rejected {
		_, err := pool.Exec(ctx, tt.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tt.sqlstate {
			t.Errorf("%s: err = %v, want SQLSTATE %s", tt.name, err, tt.sqlstate)
		}
	}

	// An issued certificate keeps its course from being deleted...
	if _, err := pool.Exec(ctx, `INSERT INTO certificates (user_id, course_id, verification_code) VALUES ('00000000-0000-4000-8000-000000000006', `+course+`, 'V1')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM courses WHERE id = `+course); err == nil {
		t.Fatal("a course with certificates was deleted")
	}
	// ...and without one, deleting the course takes all its content with it.
	if _, err := pool.Exec(ctx, `DELETE FROM certificates`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM courses WHERE id = `+course); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM modules) + (SELECT count(*) FROM lessons) + (SELECT count(*) FROM quizzes) + (SELECT count(*) FROM lesson_competencies)`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d content rows survived their course", left)
	}
	var competencies int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM competencies`).Scan(&competencies); err != nil || competencies != 1 {
		t.Fatalf("competencies are organisation-wide and must survive a course: %d, %v", competencies, err)
	}
}
