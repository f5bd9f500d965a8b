package backup_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/syncbuf"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// password is put in every connection URL (the test cluster trusts everyone):
// it must never show in a manifest, a log line or an error.
const password = "s3gredo-de-teste"

// appScope is the default scope of a backup.
var appScope = integrity.Scope{Schemas: []string{"public"}}

func open(ctx context.Context, conn pgtools.Conn) (backup.DB, func(), error) {
	pool, err := pgxpool.New(ctx, conn.URL())
	if err != nil {
		return nil, nil, err
	}
	return store.New(pool), pool.Close, nil
}

// newRunner returns a runner with the machine's PostgreSQL client programs; its
// logs are checked for the password when the test ends.
func newRunner(t *testing.T) *backup.Runner {
	t.Helper()
	logs := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), password) {
			t.Errorf("the logs show the database password:\n%s", logs.String())
		}
	})
	return &backup.Runner{
		Open: open, Tools: pgtools.DefaultLocator(), Version: "test",
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// newDB returns a fresh migrated database with a password in its URL, and a pool on it.
func newDB(t *testing.T) (pgtools.Conn, *pgxpool.Pool) {
	t.Helper()
	return connect(t, pgtest.DirectURL(pgtest.NewDBURL(t)))
}

// connect puts the password in url and opens a pool on it.
func connect(t *testing.T, url string) (pgtools.Conn, *pgxpool.Pool) {
	t.Helper()
	raw := strings.Replace(url, "postgres@", "postgres:"+password+"@", 1)
	conn, err := pgtools.ParseConn(raw)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return conn, pool
}

// emptyDB returns a database without any table, as a new Supabase project's
// public schema is.
func emptyDB(t *testing.T) (pgtools.Conn, *pgxpool.Pool) {
	t.Helper()
	return connect(t, pgtest.DirectURL(pgtest.NewEmptyDBURL(t)))
}

// seed loads the demo course, users and certificates.
func seed(t *testing.T, pool *pgxpool.Pool, users int) {
	t.Helper()
	ctx := context.Background()
	course, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(pool).SeedCourse(ctx, course); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pool, fmt.Sprintf(`INSERT INTO users (email, full_name) SELECT 'aluno'||i||'@example.com', 'Aluno '||i FROM generate_series(1, %d) i`, users))
	pgtest.Exec(t, pool, `INSERT INTO certificates (user_id, course_id, verification_code)
		SELECT u.id, c.id, 'CERT-'||u.email FROM users u CROSS JOIN courses c WHERE u.email LIKE 'aluno1%'`)
}

// files lists the names in a directory.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func dirDest(t *testing.T) (*backupdest.Dir, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "backups")
	return backupdest.NewDir(path), path
}

// fakeTool writes an executable named name into dir that reports version and
// otherwise runs body.
func fakeTool(t *testing.T, dir, name, version, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = --version ]; then echo '%s (PostgreSQL) %s'; exit 0; fi\n%s\n", name, version, body)
	pgtest.WriteExecutable(t, filepath.Join(dir, name), script)
}

func codeOf(err error) string { return backup.CodeOf(err) }

// source returns a seeded database with users, a runner, and a directory
// destination for its backups (and the directory's path).
func source(t *testing.T, users int) (pgtools.Conn, *pgxpool.Pool, *backup.Runner, *backupdest.Dir, string) {
	t.Helper()
	src, pool := newDB(t)
	seed(t, pool, users)
	dest, dir := dirDest(t)
	return src, pool, newRunner(t), dest, dir
}

// manual takes a manual backup of the application's schema into dest.
func manual(t *testing.T, r *backup.Runner, src pgtools.Conn, dest backupdest.Destination, keep int) *backup.Manifest {
	t.Helper()
	res, err := r.Backup(context.Background(), src, backup.Options{Dest: dest, Scope: appScope, Keep: keep, Trigger: backup.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	return res.Manifest
}
