// Package bench measures contentd against the database's own limits, in one run on
// one machine: ApplyImport against COPY FROM STDIN of the same rows, ExportCourse
// against COPY TO STDOUT of the same rows, export throughput against pgbench
// replaying the export's SQL. The server runs as its own process (contentd serve),
// so that its peak RSS can be read from /proc.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgcluster"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// Options say what to measure.
type Options struct {
	// Contentd is the path of the contentd binary to run as the server.
	Contentd string
	// Sizes are the named course sizes to measure (S, M, L).
	Sizes []string
	// Reps is how many times each timing is taken (the median is reported); L
	// takes max(1, Reps/3).
	Reps int
	// Clients and Duration shape the throughput runs.
	Clients  int
	Duration time.Duration
	Log      *slog.Logger
}

// SizeResult is what was measured for one course size.
type SizeResult struct {
	Size                     string
	FileBytes                int
	Apply, Analyze           time.Duration
	ExportService            time.Duration
	ExportGRPC, ExportREST   time.Duration
	CopyOut, CopyIn          time.Duration
	PeakApply, PeakAnalyze   int64 // bytes above idle RSS
	PeakExportGRPC, PeakREST int64
}

// Throughput is the export rate of the S course under concurrent clients.
type Throughput struct {
	Clients             int
	GRPC, REST, PGBench float64 // per second
	PGBenchTransactions int
	ServiceGRPCExports  int
	ServiceRESTExports  int
	Duration            time.Duration
}

// Report is one run.
type Report struct {
	Sizes      []SizeResult
	Throughput *Throughput
}

// Run measures everything Options ask for.
func Run(ctx context.Context, opt Options) (*Report, error) {
	cluster, err := pgcluster.Start()
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	r := &runner{opt: opt, cluster: cluster, log: opt.Log}
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	defer r.tearDown()
	report := &Report{}
	for _, size := range opt.Sizes {
		res, err := r.measureSize(ctx, size)
		if err != nil {
			return nil, fmt.Errorf("size %s: %w", size, err)
		}
		report.Sizes = append(report.Sizes, *res)
	}
	if report.Throughput, err = r.throughput(ctx); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	return report, nil
}

type runner struct {
	opt      Options
	cluster  *pgcluster.Cluster
	log      *slog.Logger
	pool     *pgxpool.Pool
	svc      *transfer.Service
	server   *exec.Cmd
	httpURL  string
	conn     *grpc.ClientConn
	client   contentv1.ContentTransferServiceClient
	token    string
	sCourse  string
	copyDBs  int
	workDir  string
	serverIO bytes.Buffer
	secret   string
}

const benchDB = "bench"

func (r *runner) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, r.cluster.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// newDB creates a migrated database and returns a pool on it.
func (r *runner) newDB(ctx context.Context, name string) (*pgxpool.Pool, error) {
	if err := r.admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, r.cluster.URL(name))
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func (r *runner) setUp(ctx context.Context) error {
	var err error
	if r.pool, err = r.newDB(ctx, benchDB); err != nil {
		return err
	}
	if r.workDir, err = os.MkdirTemp("", "contentbench-"); err != nil {
		return err
	}
	r.svc = transfer.New(store.New(r.pool), transfer.Config{Version: "bench", Environment: "bench", MaxFileBytes: maxRequest})
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	secretHex := hex.EncodeToString(secret)
	if r.token, err = auth.SignHS256([]byte(secretHex), auth.Principal{Subject: "bench", Role: "gestor"},
		"app_metadata.role", "authenticated", 24*time.Hour, time.Now()); err != nil {
		return err
	}
	r.secret = secretHex
	return r.startServer(ctx)
}

// startServer starts contentd serve on free ports and connects to it.
func (r *runner) startServer(ctx context.Context) error {
	grpcAddr, httpAddr, err := twoFreeAddrs()
	if err != nil {
		return err
	}
	r.serverIO.Reset()
	r.server = exec.Command(r.opt.Contentd, "serve")
	r.server.Env = append(os.Environ(),
		"DATABASE_URL="+r.cluster.URL(benchDB), "SUPABASE_JWT_SECRET="+r.secret,
		"GRPC_ADDR="+grpcAddr, "HTTP_ADDR="+httpAddr, "LOG_LEVEL=warn",
		"MAX_REQUEST_BYTES="+strconv.Itoa(maxRequest), "IMPORT_TIMEOUT=30m", "RPC_TIMEOUT=30m",
		"DB_MAX_CONNS=20",
	)
	r.server.Stdout, r.server.Stderr = &r.serverIO, &r.serverIO
	if err := r.server.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.opt.Contentd, err)
	}
	r.httpURL = "http://" + httpAddr
	if err := waitReady(ctx, r.httpURL+"/readyz"); err != nil {
		return fmt.Errorf("%w\n%s", err, r.serverIO.String())
	}
	r.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		return err
	}
	r.client = contentv1.NewContentTransferServiceClient(r.conn)
	return nil
}

func (r *runner) stopServer() {
	if r.conn != nil {
		r.conn.Close()
	}
	if r.server != nil && r.server.Process != nil {
		_ = r.server.Process.Signal(os.Interrupt)
		_ = r.server.Wait()
	}
}

// peakOnFreshServer runs fn on a newly started server and returns its peak RSS
// above the RSS it had at rest before fn: what fn needs, not what earlier calls
// left in the heap.
func (r *runner) peakOnFreshServer(ctx context.Context, fn func() error) (int64, error) {
	r.stopServer()
	if err := r.startServer(ctx); err != nil {
		return 0, err
	}
	_, peak, err := measure(r.server.Process.Pid, fn)
	return peak, err
}

// maxRequest lets the L file (about 90 MB) in; the default limit is 64 MiB.
const maxRequest = 512 << 20

func (r *runner) tearDown() {
	r.stopServer()
	if r.pool != nil {
		r.pool.Close()
	}
	os.RemoveAll(r.workDir)
}

func (r *runner) authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+r.token)
}

func (r *runner) reps(size string) int {
	if size == "L" {
		return max(1, r.opt.Reps/3)
	}
	return max(1, r.opt.Reps)
}

func (r *runner) measureSize(ctx context.Context, size string) (*SizeResult, error) {
	shape, ok := coursegen.Sizes[size]
	if !ok {
		return nil, fmt.Errorf("unknown size %q", size)
	}
	res := &SizeResult{Size: size}
	var apply, analyze, exportSvc, exportGRPC, exportREST, copyOut, copyIn []time.Duration
	var lastCourse string
	for rep := range r.reps(size) {
		pid := r.server.Process.Pid
		// Each repetition of each size imports new content (competency codes carry
		// the seed), so that every apply creates everything and does the same work.
		seed := uint64(1000*(1+strings.Index("SML", size)) + rep + 1)
		file, err := coursefile.Marshal(coursegen.Generate(shape, seed))
		if err != nil {
			return nil, err
		}
		res.FileBytes = len(file)
		r.log.Info("measuring", "size", size, "rep", rep+1, "bytes", len(file))

		d, _, err := measure(pid, func() error { return r.analyze(ctx, file) })
		if err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		analyze = append(analyze, d)

		var applied *contentv1.ApplyImportResponse
		d, _, err = measure(pid, func() error {
			var err error
			applied, err = r.apply(ctx, file)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		apply = append(apply, d)
		courseID := applied.GetCourseId()
		lastCourse = courseID
		if size == "S" && r.sCourse == "" {
			r.sCourse = courseID
		}

		start := time.Now()
		export, err := r.svc.ExportCourse(ctx, courseID)
		if err == nil {
			_, err = coursefile.Marshal(export.File)
		}
		if err != nil {
			return nil, fmt.Errorf("service export: %w", err)
		}
		exportSvc = append(exportSvc, time.Since(start))

		d, _, err = measure(pid, func() error { return r.grpcExport(ctx, courseID) })
		if err != nil {
			return nil, fmt.Errorf("gRPC export: %w", err)
		}
		exportGRPC = append(exportGRPC, d)

		d, _, err = measure(pid, func() error { return r.restExport(ctx, courseID) })
		if err != nil {
			return nil, fmt.Errorf("REST export: %w", err)
		}
		exportREST = append(exportREST, d)

		dump, dOut, err := r.copyOut(ctx, courseID, applied.GetImportBatchId())
		if err != nil {
			return nil, fmt.Errorf("COPY out: %w", err)
		}
		copyOut = append(copyOut, dOut)
		dIn, err := r.copyIn(ctx, dump)
		if err != nil {
			return nil, fmt.Errorf("COPY in: %w", err)
		}
		copyIn = append(copyIn, dIn)
	}
	// Memory: each operation once more, each on a fresh server. The apply imports
	// new content, so that it creates everything, as the timed ones did.
	file, err := coursefile.Marshal(coursegen.Generate(shape, uint64(1000*(1+strings.Index("SML", size))+999)))
	if err != nil {
		return nil, err
	}
	if res.PeakAnalyze, err = r.peakOnFreshServer(ctx, func() error { return r.analyze(ctx, file) }); err != nil {
		return nil, err
	}
	if res.PeakApply, err = r.peakOnFreshServer(ctx, func() error { _, err := r.apply(ctx, file); return err }); err != nil {
		return nil, err
	}
	if res.PeakExportGRPC, err = r.peakOnFreshServer(ctx, func() error { return r.grpcExport(ctx, lastCourse) }); err != nil {
		return nil, err
	}
	if res.PeakREST, err = r.peakOnFreshServer(ctx, func() error { return r.restExport(ctx, lastCourse) }); err != nil {
		return nil, err
	}
	res.Apply, res.Analyze, res.ExportService = median(apply), median(analyze), median(exportSvc)
	res.ExportGRPC, res.ExportREST, res.CopyOut, res.CopyIn = median(exportGRPC), median(exportREST), median(copyOut), median(copyIn)
	return res, nil
}

func (r *runner) analyze(ctx context.Context, file []byte) error {
	_, err := r.client.AnalyzeImport(r.authed(ctx), &contentv1.AnalyzeImportRequest{Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: file}})
	return err
}

func (r *runner) apply(ctx context.Context, file []byte) (*contentv1.ApplyImportResponse, error) {
	return r.client.ApplyImport(r.authed(ctx), &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: file}})
}

func (r *runner) grpcExport(ctx context.Context, courseID string) error {
	_, err := r.client.ExportCourse(r.authed(ctx), &contentv1.ExportCourseRequest{CourseId: courseID})
	return err
}

func (r *runner) restExport(ctx context.Context, courseID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.httpURL+"/gestor/export/course/"+courseID, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// courseTables are the tables of one imported course, in foreign-key order, each
// with the SELECT of exactly that course's rows. The course id and batch id come
// from set_config, since COPY takes no parameters.
var courseTables = []struct{ name, rows string }{
	{"import_batches", `SELECT * FROM import_batches WHERE id = current_setting('bench.batch')::uuid`},
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
	if _, err := tx.Exec(ctx, `SELECT set_config('bench.course', $1, true), set_config('bench.batch', $2, true)`, courseID, batchID); err != nil {
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

// copyIn is the import baseline: COPY FROM STDIN of the same rows into the empty
// tables of a fresh migrated database, in one transaction.
func (r *runner) copyIn(ctx context.Context, dump map[string][]byte) (time.Duration, error) {
	r.copyDBs++
	name := fmt.Sprintf("bench_copy_%d", r.copyDBs)
	pool, err := r.newDB(ctx, name)
	if err != nil {
		return 0, err
	}
	defer func() {
		pool.Close()
		_ = r.admin(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	for _, t := range courseTables {
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(dump[t.name]), "COPY "+t.name+" FROM STDIN"); err != nil {
			return 0, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (r *runner) throughput(ctx context.Context) (*Throughput, error) {
	if r.sCourse == "" {
		return nil, nil
	}
	t := &Throughput{Clients: r.opt.Clients, Duration: r.opt.Duration}
	var err error
	if t.ServiceGRPCExports, err = r.hammer(ctx, func(ctx context.Context) error { return r.grpcExport(ctx, r.sCourse) }); err != nil {
		return nil, err
	}
	if t.ServiceRESTExports, err = r.hammer(ctx, func(ctx context.Context) error { return r.restExport(ctx, r.sCourse) }); err != nil {
		return nil, err
	}
	secs := r.opt.Duration.Seconds()
	t.GRPC, t.REST = float64(t.ServiceGRPCExports)/secs, float64(t.ServiceRESTExports)/secs
	t.PGBench, t.PGBenchTransactions, err = r.pgbench(ctx)
	return t, err
}

// hammer runs call from Clients goroutines for Duration and counts the calls.
func (r *runner) hammer(ctx context.Context, call func(context.Context) error) (int, error) {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithTimeout(ctx, r.opt.Duration)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var wg sync.WaitGroup
	for range r.opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := call(ctx); err != nil {
					// A call cut by the end of the run is not a failure; gRPC's own
					// timer can fire a moment before the context's.
					if ctx.Err() == nil && !time.Now().After(deadline.Add(-100*time.Millisecond)) {
						once.Do(func() { firstErr = err })
					}
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), firstErr
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
var txLine = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)

// pgbench replays the export's own statements — its reads in their snapshot
// transaction, then its audit INSERT — from Clients connections for Duration:
// the database's rate for that work.
func (r *runner) pgbench(ctx context.Context) (float64, int, error) {
	var script strings.Builder
	script.WriteString("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
	for _, sql := range store.ExportStatements() {
		script.WriteString(strings.Join(strings.Fields(strings.ReplaceAll(sql, "$1", ":course")), " ") + ";\n")
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
		return 0, 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m, n := tpsLine.FindSubmatch(out), txLine.FindSubmatch(out)
	if m == nil || n == nil {
		return 0, 0, fmt.Errorf("pgbench output not understood:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	count, _ := strconv.Atoi(string(n[1]))
	return tps, count, nil
}

// measure times fn and reads the server's peak RSS during it, above its RSS before.
func measure(pid int, fn func() error) (time.Duration, int64, error) {
	idle, err := resetPeak(pid)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := fn(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	return d, peak - idle, nil
}

// resetPeak resets the peak RSS (VmHWM) of pid to its current RSS, which it returns.
func resetPeak(pid int) (int64, error) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("reset peak RSS: %w", err)
	}
	return procStatus(pid, "VmRSS")
}

// procStatus reads a kB field of /proc/pid/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err == nil {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("contentd did not become ready at %s", url)
}

func twoFreeAddrs() (string, string, error) {
	var addrs []string
	var ls []net.Listener
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return addrs[0], addrs[1], nil
}
