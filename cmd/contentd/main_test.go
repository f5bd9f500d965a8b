package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// secret is a password put in DATABASE_URL (the test cluster trusts everyone): it
// must never appear in any output. So must jwtSecret.
const (
	secret    = "s3gredo-nao-logar"
	jwtSecret = "jwt-secret-de-teste-com-mais-de-32-caracteres"
)

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// emptyDB returns the URL of a database without tables, with a password that
// must never show.
func emptyDB(t *testing.T) string {
	t.Helper()
	return strings.Replace(pgtest.DirectURL(pgtest.NewEmptyDBURL(t)), "postgres@", "postgres:"+secret+"@", 1)
}

func runCmd(t *testing.T, bin, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SUPABASE_JWT_SECRET="+jwtSecret)
	out, err := cmd.CombinedOutput()
	if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte(jwtSecret)) {
		t.Errorf("contentd %v printed the database password:\n%s", args, out)
	}
	return string(out), err
}

func TestMigrateSeedServeAndGracefulShutdown(t *testing.T) {
	bin := buildBinary(t)
	// serve goes through the pooler when the suite runs behind one; migrate and
	// seed-demo take the direct connection, as the README says.
	pooled := strings.Replace(pgtest.NewEmptyDBURL(t), "postgres@", "postgres:"+secret+"@", 1)
	dbURL := pgtest.DirectURL(pooled)

	if out, err := runCmd(t, bin, "", "migrate"); err == nil || !strings.Contains(out, "DATABASE_URL is required") {
		t.Fatalf("migrate without DATABASE_URL: err=%v\n%s", err, out)
	}
	for i := range 2 { // the second run finds nothing to do
		if out, err := runCmd(t, bin, dbURL, "migrate"); err != nil {
			t.Fatalf("migrate #%d: %v\n%s", i+1, err, out)
		}
	}
	for i, want := range []string{`"created":true`, `"created":false`} {
		out, err := runCmd(t, bin, dbURL, "seed-demo")
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("seed-demo #%d: err=%v, want %s in\n%s", i+1, err, want, out)
		}
	}

	// serve refuses to start without a way to check tokens.
	noAuth := exec.Command(bin, "serve")
	noAuth.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SUPABASE_JWT_SECRET=", "SUPABASE_JWKS_URL=")
	if out, err := noAuth.CombinedOutput(); err == nil || !strings.Contains(string(out), "authentication cannot be turned off") {
		t.Fatalf("serve without auth: err=%v\n%s", err, out)
	}
	token, err := runCmd(t, bin, dbURL, "dev-token", "-role", "gestor", "-ttl", "1h")
	if err != nil {
		t.Fatalf("dev-token: %v\n%s", err, token)
	}
	token = strings.TrimSpace(token)

	srv := startServe(t, bin, append([]string{"DATABASE_URL=" + pooled, "GOMEMLIMIT=768MiB"}, pgtest.PoolerEnv()...)...)
	starting := srv.waitFor("contentd starting")
	if limit := starting["go_memory_limit"]; limit != "768 MiB" {
		t.Errorf("go_memory_limit = %v, want the explicit GOMEMLIMIT, 768 MiB", limit)
	}
	if threshold := starting["gc_threshold"]; threshold != "64 MiB" {
		t.Errorf("gc_threshold = %v, want 64 MiB (an eighth of 768 MiB is more)", threshold)
	}
	serving := srv.waitFor("serving")
	httpAddr, _ := serving["http"].(string)
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer " + token: http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/gestor/courses", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET /gestor/courses with %q = %d, want %d", auth, resp.StatusCode, want)
		}
	}

	// SIGTERM with an apply in flight: the apply finishes, then the process exits 0.
	pool := pgtest.Open(t, dbURL)
	pgtest.Exec(t, pool, `CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$`)
	pgtest.Exec(t, pool, `CREATE TRIGGER test_slow BEFORE INSERT ON course_faqs FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`)
	applied := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/gestor/import/apply", bytes.NewReader(demo.File))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			applied <- 0
			return
		}
		resp.Body.Close()
		applied <- resp.StatusCode
	}()
	for deadline := time.Now().Add(20 * time.Second); pgtest.Count(t, pool,
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the apply never reached the database")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := <-applied; code != http.StatusOK {
		t.Errorf("the apply in flight at SIGTERM ended with %d, want 200", code)
	}
	srv.waitFor("stopped")
	if err := srv.wait(); err != nil {
		t.Fatalf("contentd serve exited with %v after SIGTERM, want 0\n%s", err, srv.log())
	}
	if out := srv.log(); strings.Contains(out, secret) || strings.Contains(out, jwtSecret) || strings.Contains(out, token) {
		t.Errorf("serve logged a secret or a token:\n%s", out)
	}
}

func TestServeHelpDocumentsTheEnvironment(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "-help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve -help: %v\n%s", err, out)
	}
	for _, v := range []string{"DATABASE_URL", "GRPC_ADDR", "HTTP_ADDR", "ENVIRONMENT", "LOG_LEVEL", "MAX_REQUEST_BYTES", "SHUTDOWN_TIMEOUT",
		"READINESS_INTERVAL", "DB_MAX_CONNS", "RPC_TIMEOUT", "IMPORT_TIMEOUT", "SUPABASE_JWT_SECRET", "SUPABASE_JWKS_URL", "AUTH_AUDIENCE",
		"AUTH_ROLE_CLAIM", "AUTH_ALLOWED_ROLES", "AUTH_LEEWAY", "BACKUP_SCHEDULE", "BACKUP_TZ", "BACKUP_DEST", "BACKUP_KEEP", "BACKUP_SCHEMAS",
		"CORS_ALLOWED_ORIGINS", "DB_POOLER"} {
		if !strings.Contains(string(out), v) {
			t.Errorf("serve -help does not mention %s:\n%s", v, out)
		}
	}
}
