package integrity_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func report(version int64, counts ...any) *integrity.Report {
	r := &integrity.Report{MigrationVersion: version, ServerVersion: "15.18"}
	for i := 0; i < len(counts); i += 2 {
		r.Tables = append(r.Tables, integrity.TableCount{Schema: "public", Name: counts[i].(string), Rows: int64(counts[i+1].(int))})
	}
	r.Tables = integrity.Order(r.Tables)
	return r
}

func TestCompare(t *testing.T) {
	t.Parallel()
	ref := report(6, "assignments", 1, "courses", 3, "users", 10, "goose_db_version", 7, "backup_runs", 4)
	cases := []struct {
		name   string
		actual *integrity.Report
		mode   integrity.Mode
		diffs  []string
		notes  []string
	}{
		{"equal", report(6, "assignments", 1, "courses", 3, "users", 10, "goose_db_version", 7, "backup_runs", 0), integrity.Peers, nil, nil},
		{"a count differs", report(6, "assignments", 1, "courses", 2, "users", 10), integrity.Peers,
			[]string{"table public.courses has 2 rows, the reference 3", "table public.goose_db_version is missing (7 rows in the reference)",
				"table public.backup_runs is missing (4 rows in the reference)"}, nil},
		{"behind", report(5, "assignments", 1, "courses", 3, "users", 10, "goose_db_version", 5, "backup_runs", 4), integrity.Restored,
			[]string{"migration version 5, the reference's 6"}, nil},
		{"restored and migrated further", report(7, "assignments", 1, "courses", 3, "users", 10, "goose_db_version", 8, "backup_runs", 0, "novidade", 0),
			integrity.Restored, nil,
			[]string{"migrations 7 to 7 were applied after the backup", "table public.novidade is not in the backup (0 rows): the restore left it alone"}},
		{"an extra table between peers", report(6, "assignments", 1, "courses", 3, "users", 10, "goose_db_version", 7, "backup_runs", 4, "novidade", 2),
			integrity.Peers, []string{"table public.novidade is not in the reference (2 rows)"}, nil},
	}
	for _, tc := range cases {
		c := integrity.Compare(ref, tc.actual, tc.mode)
		if diff := cmp.Diff(tc.diffs, c.Differences); diff != "" {
			t.Errorf("%s: differences (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.notes, c.Notes); diff != "" {
			t.Errorf("%s: notes (-want +got):\n%s", tc.name, diff)
		}
		if c.OK() != (len(tc.diffs) == 0) {
			t.Errorf("%s: OK() = %v", tc.name, c.OK())
		}
	}
}

func TestCompareText(t *testing.T) {
	t.Parallel()
	ref := report(6, "courses", 3, "users", 10, "audit_logs", 5)
	actual := report(6, "courses", 3, "users", 9, "audit_logs", 5)
	actual.Orphans = []integrity.OrphanCheck{{Constraint: "modules_course_id_fkey", Table: "public.modules", Parent: "public.courses", Rows: 2}}
	var out bytes.Buffer
	if err := integrity.Compare(ref, actual, integrity.Peers).WriteText(&out, "producao", "restaurado"); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"producao", "restaurado", "cursos (public.courses)", "usuarios (public.users)",
		"2 difference(s):", "table public.users has 9 rows, the reference 10", "2 rows of public.modules point to a missing public.courses row"} {
		if !strings.Contains(text, want) {
			t.Errorf("the comparison does not say %q:\n%s", want, text)
		}
	}
	if lines := strings.Split(text, "\n"); !strings.HasPrefix(lines[2], "cursos (public.courses)") {
		t.Errorf("the core counts do not come first:\n%s", text)
	}
}

// TestReportOfALiveDatabase reads counts, the migration version and orphans
// from a real database, where an orphan is made behind the foreign keys' back.
func TestReportOfALiveDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	for _, sql := range []string{
		`INSERT INTO courses (id, title) VALUES ('00000000-0000-4000-8000-000000000001', 'Curso')`,
		`INSERT INTO modules (course_id, position, title) VALUES ('00000000-0000-4000-8000-000000000001', 1, 'M')`,
		`INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	st := store.New(pool)
	scope := integrity.Scope{Schemas: []string{"public"}}
	r, err := st.IntegrityReport(ctx, scope, true)
	if err != nil {
		t.Fatal(err)
	}
	var core []string
	counts := map[string]int64{}
	for _, tc := range r.Tables {
		if tc.Label != "" {
			core = append(core, tc.Label)
		}
		counts[tc.Name] = tc.Rows
	}
	if diff := cmp.Diff([]string{"cursos", "modulos", "aulas", "quizzes", "usuarios", "certificados"}, core); diff != "" {
		t.Errorf("core tables (-want +got):\n%s", diff)
	}
	if counts["courses"] != 1 || counts["modules"] != 1 || counts["users"] != 2 || counts["lessons"] != 0 {
		t.Errorf("counts %v", counts)
	}
	if r.MigrationVersion < 6 || r.ServerVersion == "" || r.TakenAt.IsZero() {
		t.Errorf("report header: %+v", r)
	}
	if len(r.Orphans) < 20 || r.OrphanRows() != 0 {
		t.Errorf("%d foreign keys checked, %d orphan rows; want every key and none", len(r.Orphans), r.OrphanRows())
	}

	// A module whose course is gone, as a restore with triggers off can leave.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`SET session_replication_role = replica`,
		`INSERT INTO modules (course_id, position, title) VALUES ('00000000-0000-4000-8000-0000000000ff', 1, 'Órfão')`,
		`RESET session_replication_role`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	conn.Release()
	r, err = st.IntegrityReport(ctx, scope, true)
	if err != nil {
		t.Fatal(err)
	}
	var found []integrity.OrphanCheck
	for _, o := range r.Orphans {
		if o.Rows > 0 {
			found = append(found, o)
		}
	}
	want := []integrity.OrphanCheck{{Constraint: "modules_course_id_fkey", Table: "public.modules", Columns: []string{"course_id"}, Parent: "public.courses", Rows: 1}}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
}
