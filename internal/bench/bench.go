// Package bench measures contentd against the database's own limits, in one run on
// one machine: ApplyImport against COPY FROM STDIN of the same rows, ExportCourse
// against COPY TO STDOUT of the same rows, export throughput against pgbench
// replaying the export's SQL. The server runs as its own process (contentd serve),
// so that its peak RSS can be read from /proc.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/load"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgcluster"
)

// Options say what to measure.
type Options struct {
	// Contentd is the path of the contentd binary to run as the server.
	Contentd string
	// Sizes are the named course sizes to measure (S, M, L).
	Sizes []string
	// Reps is how many times each timing is taken (the median is reported).
	Reps int
	// Clients, Duration and Rounds shape the throughput runs: Rounds of a
	// run of Duration each of gRPC, REST and pgbench.
	Clients  int
	Duration time.Duration
	Rounds   int
	// Budget: apply the XL course (about 250 MiB) on a server held to 1 GiB.
	Budget bool
	Log    *slog.Logger
}

// SizeResult is what was measured for one course size.
type SizeResult struct {
	Size                     string
	FileBytes                int
	Apply, Analyze           time.Duration
	ExportGRPC, ExportREST   time.Duration
	CopyOut, CopyIn          time.Duration
	PGRestore, PGDump        time.Duration
	PGRestoreInPlace         time.Duration
	PeakApply, PeakAnalyze   int64 // bytes above idle RSS, over gRPC
	PeakApplyREST            int64
	PeakAnalyzeREST          int64
	PeakExportGRPC, PeakREST int64
	// Reps are each repetition's timings, which the medians above hide: the
	// spread of the ratios within one run.
	Reps []RepTimes
}

// RepTimes are one repetition's timings of one size, taken within seconds
// of each other.
type RepTimes struct {
	Apply, Analyze, ExportGRPC, ExportREST, PGRestore, PGRestoreInPlace, PGDump time.Duration
}

// Throughput is the export rate of the S course under concurrent clients.
type Throughput struct {
	Clients             int
	GRPC, REST, PGBench float64 // per second
	PGBenchTransactions int
	ServiceGRPCExports  int
	ServiceRESTExports  int
	Duration            time.Duration // of each run
	Rounds              int
	// ByRound are the rates of each round, its three runs taken in turn.
	ByRound []RoundRates
	// CPU per export, over all the runs of each: of the server, of the clients
	// (pgbench's own client for pgbench) and of PostgreSQL.
	CPUGRPC, CPUREST, CPUPGBench CPUUse
}

// RoundRates are the rates of one round of throughput runs, per second.
type RoundRates struct{ GRPC, REST, PGBench float64 }

// Report is one run.
type Report struct {
	Sizes      []SizeResult
	Budget     *BudgetResult
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
	if opt.Budget {
		if report.Budget, err = r.measureBudget(ctx); err != nil {
			return nil, fmt.Errorf("memory budget: %w", err)
		}
	}
	if report.Throughput, err = r.throughput(ctx); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	return report, nil
}

type runner struct {
	opt     Options
	cluster *pgcluster.Cluster
	log     *slog.Logger
	pool    *pgxpool.Pool
	server  *load.Replica
	conn    *grpc.ClientConn
	// http keeps a connection per client alive, as browsers do: Go's default
	// client keeps two per host, and the other clients of a throughput run
	// would open a connection per request.
	http    *http.Client
	token   string
	sCourse string
	copyDBs int
	workDir string
	secret  string
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

// settle vacuums and analyzes the database of pool, untimed, before a timed
// step: the rows of the step before it become plain visible rows with fresh
// statistics, as autovacuum leaves them in time. autovacuum itself is off in
// the benchmark's cluster: in a run, it vacuumed the content tables for two
// minutes on end (an analysis leaves its whole course as dead rows, an apply
// as new ones), behind whichever steps it fell on, on a machine of two cores.
// The baselines' databases are settled at the same points as the service's.
// The benchmark's own process collects its garbage there too (the course it
// just generated, the response it just read), so that its collector does not
// run beside the next timed step, whether the service's or a baseline's.
func (r *runner) settle(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "VACUUM (ANALYZE)")
	runtime.GC()
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
	// No vacuum runs behind a measure (see settle).
	if err := r.admin(ctx, "ALTER SYSTEM SET autovacuum = off"); err != nil {
		return err
	}
	if err := r.admin(ctx, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	var err error
	if r.pool, err = r.newDB(ctx, benchDB); err != nil {
		return err
	}
	if r.workDir, err = os.MkdirTemp("", "contentbench-"); err != nil {
		return err
	}
	r.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: r.opt.Clients}}
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

func (r *runner) reps() int {
	return max(1, r.opt.Reps)
}
