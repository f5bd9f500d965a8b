package backup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

// TestBackupAndRestoreUnderWrites backs up a database while rows are being
// written to it, restores the backup into an empty database, and finds there
// exactly the counts of the manifest: they were read in the dumped snapshot.
func TestBackupAndRestoreUnderWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, srcPool, r, dest, dir := source(t, 40)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var inserted atomic.Int64
	wg.Add(1)
	go func() { // a writer that never pauses during the backup
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := srcPool.Exec(ctx, `INSERT INTO users (email) VALUES ($1)`, "durante"+time.Now().Format("150405.000000")+string(rune('a'+i%26))); err == nil {
				inserted.Add(1)
			}
		}
	}()
	var progress []int64
	finished := 0
	res, err := r.Backup(ctx, src, backup.Options{Dest: dest, Scope: appScope, Keep: 4, Trigger: backup.TriggerManual,
		Progress: func(n int64, done bool) {
			progress = append(progress, n)
			if done {
				finished++
			}
		}})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if inserted.Load() == 0 {
		t.Fatal("the writer inserted nothing during the backup")
	}
	m := res.Manifest

	// The files: the dump and its manifest, 0600 in a 0700 directory, nothing else.
	want := []string{m.Name + ".dump", m.Name + ".manifest.json"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("backup directory holds %v, want %v", got, want)
	}
	for _, f := range append(want, "") {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		wantPerm := os.FileMode(0o600)
		if f == "" {
			wantPerm = 0o700
		}
		if info.Mode().Perm() != wantPerm {
			t.Errorf("%s has mode %o, want %o", filepath.Join(dir, f), info.Mode().Perm(), wantPerm)
		}
	}
	// The manifest describes the dump.
	dump, err := os.ReadFile(filepath.Join(dir, m.File))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(dump)
	if m.SHA256 != hex.EncodeToString(sum[:]) || m.SizeBytes != int64(len(dump)) {
		t.Errorf("manifest says %d bytes, %s; the dump is %d bytes, %x", m.SizeBytes, m.SHA256, len(dump), sum)
	}
	raw, err := os.ReadFile(filepath.Join(dir, m.Name+".manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk backup.Manifest
	if err := json.Unmarshal(raw, &onDisk); err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.Contains(string(raw), password):
		t.Errorf("the manifest holds the password:\n%s", raw)
	case onDisk.ServerVersion == "" || onDisk.PgDumpMajor != 15 && onDisk.PgDumpMajor < 15 || onDisk.PgDumpVersion == "":
		t.Errorf("manifest versions: server %q, pg_dump %q (%d)", onDisk.ServerVersion, onDisk.PgDumpVersion, onDisk.PgDumpMajor)
	case onDisk.Integrity.MigrationVersion < 6:
		t.Errorf("manifest migration version %d", onDisk.Integrity.MigrationVersion)
	case onDisk.Trigger != backup.TriggerManual || onDisk.ContentdVersion != "test" || onDisk.DurationSeconds <= 0:
		t.Errorf("manifest trigger %q, version %q, duration %v", onDisk.Trigger, onDisk.ContentdVersion, onDisk.DurationSeconds)
	case !slices.Equal(onDisk.ExcludedTableData, []string{"public.backup_runs"}):
		t.Errorf("excluded table data %v", onDisk.ExcludedTableData)
	}
	if len(onDisk.Integrity.Tables) < 15 || onDisk.Integrity.Tables[0].Label != "cursos" || onDisk.Integrity.Tables[4].Name != "users" {
		t.Errorf("manifest counts: %+v", onDisk.Integrity.Tables)
	}
	if len(progress) == 0 || progress[len(progress)-1] != m.SizeBytes || finished != 1 {
		t.Errorf("progress reports %v (done %d times), want it to end once at %d", progress, finished, m.SizeBytes)
	}
	// The run is recorded.
	if n := pgtest.Count(t, srcPool, `SELECT count(*) FROM backup_runs WHERE status = 'SUCCEEDED' AND trigger = 'MANUAL' AND backup_name = $1 AND size_bytes = $2`,
		m.Name, m.SizeBytes); n != 1 {
		t.Errorf("%d recorded runs for the backup, want 1", n)
	}

	// Restore into an empty database: the counts are the manifest's.
	target, targetPool := emptyDB(t)
	restored, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Protect: &src})
	if err != nil {
		t.Fatal(err)
	}
	if !restored.Comparison.OK() {
		t.Fatalf("restored counts differ: %v", restored.Comparison.Differences)
	}
	users := pgtest.Count(t, targetPool, `SELECT count(*) FROM users`)
	for _, tc := range m.Integrity.Tables {
		if tc.Name == "users" && tc.Rows != users {
			t.Errorf("restored %d users, the manifest says %d", users, tc.Rows)
		}
	}
	if users <= 40 || users >= 40+inserted.Load() {
		t.Logf("users in the backup: %d of %d at the end (the snapshot was taken mid-way)", users, 40+inserted.Load())
	}
	// The log of runs is part of the schema, not of the backup.
	if n := pgtest.Count(t, targetPool, `SELECT count(*) FROM backup_runs`); n != 0 {
		t.Errorf("the restored database has %d backup runs, want none", n)
	}
	// The migrations ran on the target: their table says so.
	if v := pgtest.Count(t, targetPool, `SELECT max(version_id) FROM goose_db_version`); v != m.Integrity.MigrationVersion {
		t.Errorf("restored migration version %d, want %d", v, m.Integrity.MigrationVersion)
	}
	// Verify agrees.
	if _, err := r.Verify(ctx, dest, m.Name, nil); err != nil {
		t.Errorf("Verify of a fresh backup: %v", err)
	}
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, _, r, dest, dir := source(t, 5)
	m := manual(t, r, src, dest, 0)

	// The database of DATABASE_URL itself, even under another URL.
	alias, err := pgtools.ParseConn(strings.Replace(src.URL(), "127.0.0.1", "localhost", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Restore(ctx, dest, m.Name, alias, backup.RestoreOptions{Clean: true, Protect: &src}); codeOf(err) != backup.CodeTargetIsSource {
		t.Errorf("restore into the source: %v, want %s", err, backup.CodeTargetIsSource)
	}

	// DATABASE_URL's database unreachable: it cannot be told apart from the
	// target, so -clean is refused; an empty target is restored into.
	down, err := pgtools.ParseConn("postgres://postgres:" + password + "@127.0.0.1:1/producao?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	scratch, _ := emptyDB(t)
	if _, err := r.Restore(ctx, dest, m.Name, scratch, backup.RestoreOptions{Clean: true, Protect: &down}); codeOf(err) != backup.CodeDatabaseUnavailable ||
		!strings.Contains(err.Error(), "cannot be told apart") {
		t.Errorf("restore -clean with DATABASE_URL down: %v", err)
	}
	if _, err := r.Restore(ctx, dest, m.Name, scratch, backup.RestoreOptions{Protect: &down}); err != nil {
		t.Errorf("restore into an empty target with DATABASE_URL down: %v", err)
	}

	// A target that holds data, without --clean; then with it.
	target, targetPool := newDB(t)
	pgtest.Exec(t, targetPool, `INSERT INTO users (email) VALUES ('ja-existe@example.com')`)
	pgtest.Exec(t, targetPool, `CREATE TABLE public.extra_da_aplicacao (x int)`)
	_, err = r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Protect: &src})
	if codeOf(err) != backup.CodeTargetNotEmpty || !strings.Contains(err.Error(), "--clean") {
		t.Fatalf("restore into a non-empty target: %v, want %s", err, backup.CodeTargetNotEmpty)
	}
	if n := pgtest.Count(t, targetPool, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("a refused restore changed the target: %d users", n)
	}
	restored, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Clean: true, Protect: &src})
	if err != nil {
		t.Fatalf("restore --clean: %v", err)
	}
	if !restored.Comparison.OK() || pgtest.Count(t, targetPool, `SELECT count(*) FROM users WHERE email = 'ja-existe@example.com'`) != 0 {
		t.Fatalf("restore --clean left the old rows: %v", restored.Comparison.Differences)
	}
	// What the backup does not hold is left alone, and noted.
	if n := pgtest.Count(t, targetPool, `SELECT count(*) FROM pg_tables WHERE tablename = 'extra_da_aplicacao'`); n != 1 {
		t.Error("restore --clean dropped a table the backup does not hold")
	}
	if notes := strings.Join(restored.Comparison.Notes, "\n"); !strings.Contains(notes, "public.extra_da_aplicacao is not in the backup") {
		t.Errorf("notes of the restore: %q", notes)
	}

	// A missing backup, a dump without its manifest.
	if _, err := r.Restore(ctx, dest, "backup-20000101-000000", target, backup.RestoreOptions{Clean: true}); codeOf(err) != backup.CodeNotFound {
		t.Errorf("restore of a missing backup: %v", err)
	}
	if err := os.Rename(filepath.Join(dir, m.Name+".manifest.json"), filepath.Join(dir, "elsewhere.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Clean: true}); codeOf(err) != backup.CodeManifestInvalid {
		t.Errorf("restore of a dump without manifest: %v", err)
	}
	if err := os.Rename(filepath.Join(dir, "elsewhere.json"), filepath.Join(dir, m.Name+".manifest.json")); err != nil {
		t.Fatal(err)
	}
	// A backup from a newer PostgreSQL than the target runs.
	newer := *m
	newer.PgDumpMajor, newer.PgDumpVersion = 99, "99.0"
	rewriteManifest(t, dir, &newer)
	if _, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Clean: true}); codeOf(err) != backup.CodeVersionUnsupported {
		t.Errorf("restore of a PostgreSQL 99 backup: %v", err)
	}
}

// TestCorruptDumpsAreRefused: a truncated and a byte-flipped dump, and one of a
// newer archive format whose manifest matches it, fail verify and restore
// before anything is written to the target.
func TestCorruptDumpsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, _, r, dest, dir := source(t, 5)
	m := manual(t, r, src, dest, 0)
	dumpPath := filepath.Join(dir, m.File)
	good, err := os.ReadFile(dumpPath)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	newerFormat := slices.Clone(good)
	newerFormat[6] = 32 // the archive format 1.32 (pg_dump 15 writes 1.14): PGDMP, major, minor, revision
	cases := []struct {
		name         string
		dump         []byte
		sameManifest bool // rewrite the manifest to match the dump
		verify       string
		restore      string
	}{
		{"truncated", good[:len(good)*2/3], false, backup.CodeChecksumMismatch, backup.CodeChecksumMismatch},
		{"byte flipped", flipped, false, backup.CodeChecksumMismatch, backup.CodeChecksumMismatch},
		{"truncated with a matching manifest", good[:len(good)*2/3], true, backup.CodeArchiveUnreadable, backup.CodeArchiveUnreadable},
		{"newer archive format", newerFormat, true, backup.CodeVersionUnsupported, backup.CodeVersionUnsupported},
	}
	for _, tc := range cases {
		if err := os.WriteFile(dumpPath, tc.dump, 0o600); err != nil {
			t.Fatal(err)
		}
		mm := *m
		if tc.sameManifest {
			sum := sha256.Sum256(tc.dump)
			mm.SHA256, mm.SizeBytes = hex.EncodeToString(sum[:]), int64(len(tc.dump))
		}
		rewriteManifest(t, dir, &mm)
		if _, err := r.Verify(ctx, dest, m.Name, nil); codeOf(err) != tc.verify {
			t.Errorf("%s: verify = %v, want %s", tc.name, err, tc.verify)
		}
		target, targetPool := emptyDB(t)
		_, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{})
		if codeOf(err) != tc.restore {
			t.Errorf("%s: restore = %v, want %s", tc.name, err, tc.restore)
		}
		if n := pgtest.Count(t, targetPool, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`); n != 0 {
			t.Errorf("%s: the refused restore left %d tables in the target", tc.name, n)
		}
	}
}

func rewriteManifest(t *testing.T, dir string, m *backup.Manifest) {
	t.Helper()
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, m.Name+".manifest.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRetention keeps exactly N backups, deletes nothing after a failed
// backup, and never touches files that are not its own.
func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, srcPool, r, dest, dir := source(t, 3)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	foreign := []string{"backup-old-manual.dump", "notas.txt", "backup-20200101-000000.dump"} // the last: a dump without manifest
	for _, f := range foreign {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for range 5 {
		m := manual(t, r, src, dest, 3)
		names = append(names, m.Name)
		time.Sleep(time.Until(m.CreatedAt.Add(time.Second).Truncate(time.Second))) // one name per second
	}
	listed, err := backup.List(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range listed {
		kept = append(kept, e.Name)
	}
	if want := []string{names[4], names[3], names[2]}; !slices.Equal(kept, want) {
		t.Fatalf("kept %v, want the newest three %v", kept, want)
	}
	for _, f := range foreign {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("retention touched %s: %v", f, err)
		}
	}

	// A failed backup (a full disk: pg_dump stops mid-way) deletes nothing and
	// leaves nothing that looks like a backup.
	before := files(t, dir)
	bin := t.TempDir()
	fakeTool(t, bin, "pg_dump", "15.18", `head -c 4096 /dev/zero; echo 'pg_dump: error: could not write to output file: No space left on device' >&2; exit 1`)
	broken := newRunner(t)
	broken.Tools = pgtools.Locator{Bindir: bin, LibRoot: "/usr/lib/postgresql", Path: os.Getenv("PATH")}
	_, err = broken.Backup(ctx, src, backup.Options{Dest: dest, Scope: appScope, Keep: 1, Trigger: backup.TriggerManual})
	if codeOf(err) != backup.CodeDestinationFailed || !strings.Contains(err.Error(), "No space left") {
		t.Fatalf("backup on a full disk: %v, want %s", err, backup.CodeDestinationFailed)
	}
	if after := files(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a failed backup changed the directory:\nbefore %v\nafter  %v", before, after)
	}
	if n := pgtest.Count(t, srcPool, `SELECT count(*) FROM backup_runs WHERE status = 'FAILED' AND error_code = $1`, backup.CodeDestinationFailed); n != 1 {
		t.Errorf("%d failed runs recorded, want 1", n)
	}
	// pg_dump missing altogether: the same.
	missing := newRunner(t)
	missing.Tools = pgtools.Locator{LibRoot: t.TempDir()}
	_, err = missing.Backup(ctx, src, backup.Options{Dest: dest, Scope: appScope, Keep: 1, Trigger: backup.TriggerManual})
	if codeOf(err) != backup.CodeToolMissing {
		t.Fatalf("backup without pg_dump: %v", err)
	}
	if after := files(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a failed backup changed the directory:\nbefore %v\nafter  %v", before, after)
	}
}

// TestVersionMismatchIsRefusedBeforeWriting: with only an older pg_dump than
// the server, the backup says which client to install and writes nothing.
func TestVersionMismatchIsRefusedBeforeWriting(t *testing.T) {
	t.Parallel()
	src, srcPool := newDB(t)
	r := newRunner(t)
	lib := t.TempDir()
	fakeTool(t, filepath.Join(lib, "14", "bin"), "pg_dump", "14.12", "exit 1")
	fakeTool(t, filepath.Join(lib, "14", "bin"), "pg_restore", "14.12", "exit 1")
	r.Tools = pgtools.Locator{LibRoot: lib}
	dest, dir := dirDest(t)
	_, err := r.Backup(context.Background(), src, backup.Options{Dest: dest, Scope: appScope, Trigger: backup.TriggerManual})
	if codeOf(err) != backup.CodeToolMissing || !errors.Is(err, pgtools.ErrToolMissing) {
		t.Fatalf("backup with pg_dump 14 against a 15 server: %v", err)
	}
	for _, want := range []string{"pg_dump 14.12", "older than the PostgreSQL 15 server", "postgresql-client-15"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("the refused backup wrote %v", got)
	}
	if n := pgtest.Count(t, srcPool, `SELECT count(*) FROM backup_runs WHERE error_code = 'TOOL_MISSING'`); n != 1 {
		t.Errorf("%d runs recorded with TOOL_MISSING, want 1", n)
	}
}
