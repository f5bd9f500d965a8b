package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// The faults of a production day, each on a real server and database.

// largeFile is a generated M course (about 5 MB, 800 lessons).
func largeFile(t *testing.T) []byte {
	t.Helper()
	raw, err := coursefile.Marshal(coursegen.Generate(coursegen.M, 7))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// waitForCopy waits until an import's COPY is under way in the database: the
// slow trigger of slowImportsFor runs inside the COPY into course_faqs.
func waitForCopy(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'copy%course_faqs%' AND wait_event = 'PgSleep'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the import's COPY never started")
}

type restResult struct {
	status int
	body   []byte
	err    error
}

// applyAsync posts a file to /gestor/import/apply and delivers the answer.
func applyAsync(e *env, file []byte) <-chan restResult {
	out := make(chan restResult, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.httpURL+"/gestor/import/apply", bytes.NewReader(file))
		if err != nil {
			out <- restResult{err: err}
			return
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- restResult{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- restResult{status: resp.StatusCode, body: body, err: err}
	}()
	return out
}

// contentRows counts the rows an import writes, in every table of content.
func contentRows(t *testing.T, e *env) int64 {
	t.Helper()
	return pgtest.Count(t, e.pool, `SELECT (SELECT count(*) FROM courses) + (SELECT count(*) FROM modules) + (SELECT count(*) FROM lessons)
		+ (SELECT count(*) FROM quizzes) + (SELECT count(*) FROM quiz_questions) + (SELECT count(*) FROM quiz_options)
		+ (SELECT count(*) FROM competencies) + (SELECT count(*) FROM lesson_competencies) + (SELECT count(*) FROM bank_questions)
		+ (SELECT count(*) FROM bank_options) + (SELECT count(*) FROM course_faqs) + (SELECT count(*) FROM import_batches)`)
}

func TestApplyWhenTheDatabaseRestarts(t *testing.T) {
	t.Parallel()
	cluster, url := pgtest.NewCluster(t) // this test's own: it restarts it
	e := startWith(t, options{dbURL: url, maxRequestBytes: 16 << 20})
	before := contentRows(t, e)
	slowImportsFor(t, e, 30*time.Second)
	applied := applyAsync(e, largeFile(t))
	waitForCopy(t, e)

	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	r := <-applied
	var eb errorBody
	if r.err != nil || r.status != http.StatusServiceUnavailable || json.Unmarshal(r.body, &eb) != nil || eb.Code != "UNAVAILABLE" ||
		!strings.Contains(eb.Message, "não foi concluída") {
		t.Fatalf("apply across the restart = %d %s %v, want 503 UNAVAILABLE in Portuguese", r.status, r.body, r.err)
	}
	if resp, body := e.get(t, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readiness during the outage = %d %s, want 503", resp.StatusCode, body)
	}

	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, _ := e.get(t, "/readyz")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready again after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after := contentRows(t, e); after != before {
		t.Errorf("%d content rows after the failed apply, %d before: a batch was half written", after, before)
	}
	// The same service, not restarted, imports again.
	pgtest.Exec(t, e.pool, `DROP TRIGGER test_slow ON course_faqs`)
	if resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("apply after the restart = %d %s", resp.StatusCode, body)
	}
}

func TestShutdownLetsAnApplyFinishWithinTheGracePeriod(t *testing.T) {
	t.Parallel()
	e := startWith(t, options{shutdownTimeout: 30 * time.Second})
	slowImportsFor(t, e, 1500*time.Millisecond)
	applied := applyAsync(e, demo.File)
	waitForCopy(t, e)
	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()

	// New connections are refused at once, on both ports.
	for _, addr := range []string{e.httpAddr, e.grpcAddr} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				break
			}
			_ = conn.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still accepts connections during the shutdown", addr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	r := <-applied
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("the apply in flight = %d %s %v, want it to finish", r.status, r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve after the shutdown: %v", err)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 2 {
		t.Errorf("%d courses, want the demo and the import", n)
	}
}

func TestShutdownRollsBackWhatCannotFinish(t *testing.T) {
	t.Parallel()
	e := startWith(t, options{shutdownTimeout: 300 * time.Millisecond})
	before := contentRows(t, e)
	slowImportsFor(t, e, 30*time.Second)
	applied := applyAsync(e, demo.File)
	waitForCopy(t, e)
	start := time.Now()
	if err := e.stop(); err != nil {
		t.Errorf("Serve after the shutdown: %v", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the shutdown took %v with a 300ms grace period", took)
	}
	if r := <-applied; r.err == nil && r.status == http.StatusOK {
		t.Fatalf("the apply was reported done: %s", r.body)
	}
	waitNoSleepers(t, e)
	if after := contentRows(t, e); after != before {
		t.Errorf("%d content rows after the cut apply, %d before", after, before)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`); n != 0 {
		t.Errorf("%d transactions left open", n)
	}
}

// TestClientsThatGoAway: the client hangs up in the middle of an upload and in
// the middle of a download. Nothing is written, and no goroutine or connection
// of the server is left behind. Not parallel: goleak counts every goroutine.
func TestClientsThatGoAway(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := startWith(t, options{maxRequestBytes: 16 << 20})
	before := contentRows(t, e)
	file := largeFile(t)

	// Mid-upload: half the body, then the connection closes.
	conn, err := net.Dial("tcp", e.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	head := "POST /gestor/import/apply HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.token +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(file)) + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(head), file[:len(file)/2]...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()

	// Mid-download: read a little of a large export, then close.
	pgtest.Exec(t, e.pool, `DROP TRIGGER IF EXISTS test_slow ON course_faqs`)
	if resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(file), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("apply = %d %.300s", resp.StatusCode, body)
	}
	var id string
	if err := e.pool.QueryRow(context.Background(), `SELECT id::text FROM courses WHERE import_batch_id IS NOT NULL`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.httpURL+"/gestor/export/course/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.CloseIdleConnections()

	// The server notices both, and lets go of everything.
	deadline := time.Now().Add(10 * time.Second)
	for e.pool.Stat().AcquiredConns() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pool connections still held", e.pool.Stat().AcquiredConns())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM import_batches`); n != 1 {
		t.Errorf("%d import batches, want the one complete apply", n)
	}
	if after := contentRows(t, e); after <= before {
		t.Errorf("content rows %d → %d", before, after)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.pool.Close()
	e.conn.Close()
	e.anon.Close()
	http.DefaultClient.CloseIdleConnections()
}
