package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

func exporter(pool *pgxpool.Pool) *transfer.Service {
	return transfer.New(store.New(pool), transfer.Config{Version: "test", Environment: "producao"})
}

func TestReleaseCheckPasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, srcPool, r, dest, dir := source(t, 8)
	staging, stagingPool := newDB(t)
	pgtest.Exec(t, stagingPool, `INSERT INTO users (email) VALUES ('dado-antigo-de-staging@example.com')`)

	c := r.ReleaseCheck(ctx, src, backup.ReleaseOptions{
		Backup:   backup.Options{Dest: dest, Scope: appScope, Keep: 4},
		Exporter: exporter(srcPool), Staging: staging, Protect: &src,
	})
	var out bytes.Buffer
	if err := c.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Fatalf("the release check failed:\n%s", out.String())
	}
	text := out.String()
	for _, want := range []string{"1. [x] Backup do banco via pg_dump — OK", "2. [x] Export JSON dos cursos principais — OK",
		"3. [x] Verificar espaço disponível no storage — OK", "4. [x] Testar restore em ambiente de staging — OK",
		"Resultado: todos os itens passaram."} {
		if !strings.Contains(text, want) {
			t.Errorf("the checklist does not say %q:\n%s", want, text)
		}
	}
	// The published demo course sits next to the backup, as a transfer file.
	exports, _ := filepath.Glob(filepath.Join(dir, c.Backup.Name+".curso-*.json"))
	if len(exports) != 1 {
		t.Fatalf("course exports next to the backup: %v", exports)
	}
	raw, err := os.ReadFile(exports[0])
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Course struct{ Title string } `json:"course"`
	}
	if err := json.Unmarshal(raw, &file); err != nil || !strings.Contains(file.Course.Title, "NR-35") {
		t.Errorf("the exported file is not the demo course: %v %q", err, file.Course.Title)
	}
	// Staging now holds production's data.
	if n := pgtest.Count(t, stagingPool, `SELECT count(*) FROM users WHERE email LIKE 'dado-antigo%'`); n != 0 {
		t.Error("staging kept its old rows after the restore")
	}
	if n := pgtest.Count(t, stagingPool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("staging has %d courses after the restore, want 1", n)
	}
	// A later backup, and its retention, treat the exports as the backup's files.
	time.Sleep(time.Until(c.Backup.CreatedAt.Add(time.Second).Truncate(time.Second))) // one name per second
	manual(t, r, src, dest, 1)
	if left, _ := filepath.Glob(filepath.Join(dir, c.Backup.Name+".*")); len(left) != 0 {
		t.Errorf("retention left files of the pruned backup: %v", left)
	}
}

func TestReleaseCheckFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, srcPool, r, dest, _ := source(t, 2)
	// The staging URL names production itself, and one course id does not exist.
	alias, err := pgtools.ParseConn(strings.Replace(src.URL(), "127.0.0.1", "localhost", 1))
	if err != nil {
		t.Fatal(err)
	}
	c := r.ReleaseCheck(ctx, src, backup.ReleaseOptions{
		Backup:  backup.Options{Dest: dest, Scope: appScope},
		Courses: []string{"00000000-0000-4000-8000-00000000dead"}, Exporter: exporter(srcPool),
		Staging: alias, Protect: &src,
	})
	var out bytes.Buffer
	if err := c.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if c.OK() {
		t.Fatalf("the release check passed:\n%s", out.String())
	}
	text := out.String()
	for _, want := range []string{"1. [x] Backup do banco via pg_dump — OK", "2. [ ] Export JSON dos cursos principais — FALHOU",
		"não encontrado", "4. [ ] Testar restore em ambiente de staging — FALHOU", "próprio banco de origem",
		"Resultado: há itens que falharam"} {
		if !strings.Contains(text, want) {
			t.Errorf("the checklist does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, password) {
		t.Errorf("the checklist shows the password:\n%s", text)
	}
	if n := pgtest.Count(t, srcPool, `SELECT count(*) FROM backup_runs WHERE trigger = 'RELEASE_CHECK' AND status = 'SUCCEEDED'`); n != 1 {
		t.Errorf("%d release-check backups recorded, want 1", n)
	}
}
