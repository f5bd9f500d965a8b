package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/s3test"
)

// contentd runs the binary with DATABASE_URL and extra environment, and returns its
// standard output, standard error and exit code. Neither may show a secret.
func contentd(t *testing.T, bin, dbURL string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL, "SUPABASE_JWT_SECRET="+jwtSecret), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), secret) {
		t.Errorf("contentd %v printed the database password:\n%s\n%s", args, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

// seededDB returns the URL (with a password) of a migrated database holding
// the demo course, and a pool on it.
func seededDB(t *testing.T, bin string) (string, *pgxpool.Pool) {
	t.Helper()
	url := strings.Replace(pgtest.DirectURL(pgtest.NewDBURL(t)), "postgres@", "postgres:"+secret+"@", 1)
	if _, stderr, code := contentd(t, bin, url, nil, "seed-demo"); code != 0 {
		t.Fatalf("seed-demo: %s", stderr)
	}
	return url, pgtest.Open(t, url)
}

func TestBackupCommands(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	src, srcPool := seededDB(t, bin)
	dest := filepath.Join(t.TempDir(), "backups")

	out, stderr, code := contentd(t, bin, src, nil, "backup", "-dest", dest, "-keep", "2")
	name := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(name, "backup-") {
		t.Fatalf("backup: exit %d, %q\n%s", code, out, stderr)
	}
	out, _, code = contentd(t, bin, src, []string{"BACKUP_DEST=" + dest}, "backup", "list")
	if code != 0 || !strings.Contains(out, name) || !strings.Contains(out, "MANUAL") {
		t.Errorf("backup list: exit %d\n%s", code, out)
	}
	out, _, code = contentd(t, bin, src, nil, "backup", "list", "-dest", dest, "-json")
	var manifests []struct{ Name, SHA256 string }
	if code != 0 || json.Unmarshal([]byte(out), &manifests) != nil || len(manifests) != 1 || manifests[0].Name != name {
		t.Errorf("backup list -json: exit %d\n%s", code, out)
	}
	out, stderr, code = contentd(t, bin, src, nil, "backup", "verify", filepath.Join(dest, name+".dump"))
	if code != 0 || !strings.Contains(out, name+": OK") {
		t.Errorf("backup verify FILE: exit %d\n%s%s", code, out, stderr)
	}
	server := strings.Replace(src, filepath.Base(strings.Split(src, "?")[0]), "postgres", 1)
	out, stderr, code = contentd(t, bin, src, []string{"SCRATCH_SERVER=" + server}, "backup", "verify", "-latest", "-dest", dest, "-test-restore", "env:SCRATCH_SERVER")
	if code != 0 || !strings.Contains(out, "OK: the counts match") {
		t.Errorf("backup verify -latest -test-restore: exit %d\n%s%s", code, out, stderr)
	}

	// Restore into an empty database, through env: so that its password stays out of argv.
	target := emptyDB(t)
	out, stderr, code = contentd(t, bin, src, []string{"TARGET=" + target}, "restore", name, "-dest", dest, "-target-url", "env:TARGET")
	if code != 0 || !strings.Contains(out, "OK: the counts match") || !strings.Contains(out, name+" restored into") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	// Again, without -clean: refused. Into DATABASE_URL itself: refused.
	_, stderr, code = contentd(t, bin, src, []string{"TARGET=" + target}, "restore", name, "-dest", dest, "-target-url", "env:TARGET")
	if code != 1 || !strings.Contains(stderr, `"code":"TARGET_NOT_EMPTY"`) {
		t.Errorf("restore into a non-empty target: exit %d\n%s", code, stderr)
	}
	_, stderr, code = contentd(t, bin, src, []string{"TARGET=" + src}, "restore", name, "-dest", dest, "-target-url", "env:TARGET", "-clean")
	if code != 1 || !strings.Contains(stderr, `"code":"TARGET_IS_SOURCE"`) {
		t.Errorf("restore into DATABASE_URL: exit %d\n%s", code, stderr)
	}

	// Integrity: the restored database against the manifest, then against the source.
	manifest := filepath.Join(dest, name+".manifest.json")
	out, stderr, code = contentd(t, bin, target, nil, "integrity", "-manifest", manifest)
	if code != 0 || !strings.Contains(out, "cursos (public.courses)") || !strings.Contains(out, "OK: the counts match") {
		t.Errorf("integrity -manifest: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := srcPool.Exec(context.Background(), `INSERT INTO users (email) VALUES ('novo@example.com')`); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = contentd(t, bin, src, []string{"RESTORED=" + target}, "integrity", "-compare", "env:RESTORED")
	if code != 1 || !strings.Contains(out, "table public.users has 0 rows, the reference 1") {
		t.Errorf("integrity -compare after an insert: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = contentd(t, bin, src, nil, "integrity", "-json")
	var report struct {
		MigrationVersion int64
		Tables           []struct {
			Name  string
			Rows  int64
			Label string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &report) != nil || report.Tables[0].Label != "cursos" || report.Tables[4].Rows != 1 {
		t.Errorf("integrity -json: exit %d\n%s", code, out)
	}
}

func TestMigrateBackupFirst(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	url := emptyDB(t)
	dest := filepath.Join(t.TempDir(), "backups")
	if _, stderr, code := contentd(t, bin, url, nil, "migrate", "-backup-first", "-dest", dest); code != 0 {
		t.Fatalf("migrate -backup-first: %s", stderr)
	}
	backups, _ := filepath.Glob(filepath.Join(dest, "*.dump"))
	if len(backups) != 1 {
		t.Fatalf("backups before the first migration: %v", backups)
	}
	raw, err := os.ReadFile(strings.TrimSuffix(backups[0], ".dump") + ".manifest.json")
	if err != nil || !strings.Contains(string(raw), `"trigger": "MIGRATE"`) {
		t.Errorf("the manifest of the backup before migrating: %v\n%s", err, raw)
	}
	// Nothing pending: no backup, even when it is the default.
	_, stderr, code := contentd(t, bin, url, []string{"MIGRATE_BACKUP_FIRST=true", "BACKUP_DEST=" + dest}, "migrate")
	if code != 0 || !strings.Contains(stderr, "no pending migrations: no backup taken") {
		t.Fatalf("migrate with nothing pending: exit %d\n%s", code, stderr)
	}
	if again, _ := filepath.Glob(filepath.Join(dest, "*.dump")); len(again) != 1 {
		t.Errorf("backups after a migrate with nothing pending: %v", again)
	}
	// A backup that cannot be taken stops the migration: pg_dump fails here.
	fake := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.18'; exit 0; fi\necho 'pg_dump: error: query failed' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	fresh := emptyDB(t)
	_, stderr, code = contentd(t, bin, fresh, []string{"PG_BINDIR=" + fake}, "migrate", "-backup-first", "-dest", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "nothing was migrated") || !strings.Contains(stderr, `"code":"DUMP_FAILED"`) {
		t.Fatalf("migrate -backup-first with a failing pg_dump: exit %d\n%s", code, stderr)
	}
	pool := pgtest.Open(t, fresh)
	var migrated bool
	if err := pool.QueryRow(context.Background(), `SELECT to_regclass('public.courses') IS NOT NULL`).Scan(&migrated); err != nil || migrated {
		t.Errorf("the database was migrated after the backup failed (%v)", err)
	}
}

func TestReleaseCheckCommand(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	src, _ := seededDB(t, bin)
	staging := emptyDB(t)
	dest := filepath.Join(t.TempDir(), "backups")
	out, stderr, code := contentd(t, bin, src, []string{"STAGING=" + staging}, "release-check", "-dest", dest, "-staging-url", "env:STAGING")
	if code != 0 || !strings.Contains(out, "Resultado: todos os itens passaram.") {
		t.Fatalf("release-check: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = contentd(t, bin, src, []string{"STAGING=" + src}, "release-check", "-dest", dest, "-staging-url", "env:STAGING")
	if code != 1 || !strings.Contains(out, "4. [ ] Testar restore em ambiente de staging — FALHOU") {
		t.Errorf("release-check into production itself: exit %d\n%s", code, out)
	}
}

// TestBackupToS3 runs the binary against an S3-compatible store on loopback,
// configured the way AWS tools are, at Supabase Storage's path.
func TestBackupToS3(t *testing.T) {
	bin := buildBinary(t)
	store := s3test.Start(t, "backups")
	src, _ := seededDB(t, bin)
	env := store.Env(t.TempDir())
	out, stderr, code := contentd(t, bin, src, env, "backup", "-dest", "s3://backups/contentd")
	if code != 0 {
		t.Fatalf("backup to S3: exit %d\n%s", code, stderr)
	}
	name := strings.TrimSpace(out)
	out, _, code = contentd(t, bin, src, env, "backup", "verify", name, "-dest", "s3://backups/contentd")
	if code != 0 || !strings.Contains(out, name+": OK") {
		t.Errorf("verify from S3: exit %d\n%s", code, out)
	}
	if keys := store.Keys(t, "backups"); len(keys) != 2 {
		t.Errorf("bucket holds %v", keys)
	}
}

// TestServeRunsScheduledBackups: serve with a schedule takes the backups,
// /readyz says how the last one went, and SIGTERM still exits 0.
func TestServeRunsScheduledBackups(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	src, srcPool := seededDB(t, bin)
	dest := filepath.Join(t.TempDir(), "backups")
	srv := startServe(t, bin, "DATABASE_URL="+src,
		"BACKUP_SCHEDULE=*/2 * * * * *", "BACKUP_DEST="+dest, "BACKUP_KEEP=2", "BACKUP_TZ=America/Sao_Paulo")
	deadline := time.Now().Add(30 * time.Second) // three scheduled backups
	httpAddr, _ := srv.waitUntil("serving", deadline)["http"].(string)
	for range 3 {
		srv.waitUntil("backup done", deadline)
	}
	resp, err := http.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Backups struct {
			Schedule string
			LastRun  struct{ Status, Trigger string }
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if err != nil || ready.Backups.Schedule != "*/2 * * * * *" || ready.Backups.LastRun.Trigger != "SCHEDULE" {
		t.Errorf("readyz: %+v, %v", ready, err)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM\n%s", err, srv.log())
	}
	if kept, _ := filepath.Glob(filepath.Join(dest, "*.dump")); len(kept) != 2 {
		t.Errorf("BACKUP_KEEP=2 kept %v", kept)
	}
	var runs int
	if err := srcPool.QueryRow(context.Background(), `SELECT count(*) FROM backup_runs WHERE trigger = 'SCHEDULE' AND status <> 'RUNNING'`).Scan(&runs); err != nil || runs < 3 {
		t.Errorf("%d scheduled runs recorded (%v)", runs, err)
	}
	if strings.Contains(srv.log(), secret) {
		t.Errorf("serve logged the database password")
	}
}
