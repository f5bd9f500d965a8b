// Command contentd serves the course-transfer API and runs its database chores.
//
//	contentd serve          serve gRPC and the REST gateway, and run scheduled backups
//	contentd migrate        apply pending database migrations (-backup-first)
//	contentd backup         back up the database (backup list, backup verify)
//	contentd restore        restore a backup into another database
//	contentd integrity      count rows, check foreign keys, compare databases
//	contentd release-check  the pre-release checklist
//	contentd seed-demo      load the demo course (idempotent)
//	contentd dev-token   print a gestor token signed with SUPABASE_JWT_SECRET
//	contentd gen         write a generated course file (for benchmarks and tests)
//	contentd version     print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // BACKUP_TZ must work in a container without tzdata

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/educacao-continuada/content-transfer/internal/tracing"
	"github.com/exaring/otelpgx"
	"go.opentelemetry.io/otel/trace"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/config"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/gcpace"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
	"github.com/educacao-continuada/content-transfer/internal/requestid"
	"github.com/educacao-continuada/content-transfer/internal/server"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Usage: contentd <command> [flags]

Commands:
  serve          serve the transfer API over gRPC and REST; run scheduled backups (BACKUP_SCHEDULE)
  migrate        apply pending database migrations; -backup-first takes a backup before
  backup         back up the database now; 'backup list', 'backup verify NAME|-latest'
  restore        restore a backup: contentd restore NAME -target-url URL [-clean]
  integrity      row counts and orphan checks; -compare URL or -manifest FILE
  release-check  the pre-release checklist: backup, exports, space, test restore in staging
  seed-demo      load the demo course (does nothing if it is already there)
  dev-token   print a token signed with SUPABASE_JWT_SECRET, for local use
  gen         write a generated course file: -size S|M|L|XL -seed N -o FILE
  version     print the version

Run 'contentd <command> -help' for the flags and environment of a command.
`

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcpace.Percent) // see gcpace
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:])
	case "migrate":
		err = migrate(ctx, args[1:])
	case "backup":
		err = backupCmd(ctx, args[1:])
	case "restore":
		err = restoreCmd(ctx, args[1:])
	case "integrity":
		err = integrityCmd(ctx, args[1:])
	case "release-check":
		err = releaseCheck(ctx, args[1:])
	case "seed-demo":
		err = seedDemo(ctx, args[1:])
	case "dev-token":
		err = devToken(args[1:])
	case "gen":
		err = gen(args[1:])
	case "version":
		fmt.Println(version)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "contentd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, config.ErrHelp):
		return 0
	case err != nil:
		newLogger(slog.LevelInfo).Error("contentd "+args[0]+" failed", failureAttrs(err)...)
		return 1
	}
	return 0
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(requestid.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

func openPool(ctx context.Context, db config.Database) (*pgxpool.Pool, error) {
	return openTracedPool(ctx, db, nil)
}

// openTracedPool opens the pool; with a tracer provider, every statement,
// batch and COPY is a span.
func openTracedPool(ctx context.Context, db config.Database, tp trace.TracerProvider) (*pgxpool.Pool, error) {
	cfg, err := dbpool.Config(db.URL, db.Pooler, db.MaxConns)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if tp != nil {
		cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

func serve(ctx context.Context, args []string) error {
	cfg, err := config.LoadServe(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	server.RouteGRPCLogs(log)
	authn, err := newAuthenticator(ctx, cfg.Auth)
	if err != nil {
		return err
	}
	traces, err := tracing.Setup(ctx, os.Getenv, version)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := traces.Shutdown(flushCtx); err != nil {
			log.Warn("flushing the last spans failed", "error", err.Error())
		}
	}()
	if traces.Enabled() {
		log.Info("tracing", "otlp_endpoint", traces.Endpoint)
	}
	pool, err := openTracedPool(ctx, cfg.Database, traces.Provider)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	m := metrics.New()
	m.RegisterPool(pool)
	svc := transfer.New(st, transfer.Config{Version: version, Environment: cfg.Environment, MaxFileBytes: cfg.MaxRequestBytes, Observer: m})
	backups, scheduler, err := newBackups(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	m.RegisterBackups(backups)
	srv, err := server.New(ctx, server.Config{
		GRPCAddr:           cfg.GRPCAddr,
		HTTPAddr:           cfg.HTTPAddr,
		MaxRequestBytes:    cfg.MaxRequestBytes,
		RPCTimeout:         cfg.RPCTimeout,
		ImportTimeout:      cfg.ImportTimeout,
		ShutdownTimeout:    cfg.ShutdownTimeout,
		ReadinessInterval:  cfg.ReadinessInterval,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		Version:            version,
		Metrics:            m,
		Tracing:            traces.Provider,
	}, server.Services{
		Transfer:  svc,
		Backups:   backups,
		Integrity: &integrity.Service{DB: st, Audit: st, Scope: cfg.Backup.Scope},
	}, authn, st, log)
	if err != nil {
		return err
	}
	if scheduler != nil {
		done := make(chan struct{})
		go func() { defer close(done); scheduler.Run(ctx) }()
		defer func() { <-done }() // a backup cut by shutdown records how it ended
	}
	// The soft memory limit (GOMEMLIMIT): 90% of the container's memory limit
	// (its cgroup's), so that the collector works harder near the limit rather
	// than the process be killed there; none without a limit. An explicit
	// GOMEMLIMIT wins; AUTOMEMLIMIT=off sets none, a ratio in (0, 1] replaces 90%.
	memoryLimit, err := memlimit.Set()
	// The collector's pace, unless GOGC is set (see gcpace).
	threshold := "none (GOGC set)"
	if os.Getenv("GOGC") == "" {
		threshold = fmt.Sprintf("%d MiB", gcpace.Tune()>>20)
	}
	log.Info("contentd starting", "version", version, "environment", cfg.Environment,
		"go_memory_limit", memoryLimitText(memoryLimit), "gc_threshold", threshold)
	if err != nil {
		log.Warn("the container's memory limit could not be read: no Go memory limit set from it", "err", err)
	}
	return srv.Serve(ctx)
}

// newBackups returns what serve knows of backups and, when BACKUP_SCHEDULE is
// set, the scheduler of its backups.
func newBackups(ctx context.Context, cfg *config.Serve, st *store.Store, log *slog.Logger) (*backup.Overviewer, *backup.Scheduler, error) {
	dest, err := backupdest.Open(ctx, cfg.Backup.Dest)
	if err != nil {
		return nil, nil, err
	}
	overview := &backup.Overviewer{Dest: dest, Keep: cfg.Backup.Keep, Runs: st, Now: time.Now}
	if cfg.BackupSchedule == "" {
		return overview, nil, nil
	}
	if overview.Schedule, err = backup.ParseSchedule(cfg.BackupSchedule, cfg.BackupTimeZone); err != nil {
		return nil, nil, fmt.Errorf("BACKUP_SCHEDULE: %w", err)
	}
	conn, err := parseConn("BACKUP_DATABASE_URL (or DATABASE_URL)", cfg.Backup.URL)
	if err != nil {
		return nil, nil, err
	}
	log.Info("scheduled backups", "schedule", cfg.BackupSchedule, "time_zone", cfg.BackupTimeZone,
		"destination", dest.String(), "keep", cfg.Backup.Keep, "database", conn.String())
	return overview, &backup.Scheduler{
		Runner: newRunner(log), Conn: conn, Schedule: overview.Schedule, Log: log,
		Options: backup.Options{Dest: dest, Scope: cfg.Backup.Scope, Keep: cfg.Backup.Keep},
	}, nil
}

// withDatabase runs fn with a small pool on DATABASE_URL, for the subcommands
// that only need the database.
func withDatabase(ctx context.Context, name, summary string, args []string, fn func(*pgxpool.Pool) error) error {
	db, err := config.LoadDatabaseOnly(name, summary, args, os.Getenv)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, db)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

func newAuthenticator(ctx context.Context, cfg config.Auth) (*auth.Authenticator, error) {
	ac := auth.Config{
		HS256Secret:  []byte(cfg.JWTSecret),
		Audience:     cfg.Audience,
		RoleClaim:    cfg.RoleClaim,
		AllowedRoles: cfg.AllowedRoles,
		Leeway:       cfg.Leeway,
	}
	if cfg.JWKSURL != "" {
		ac.JWKS = auth.NewKeySet(cfg.JWKSURL, &http.Client{Timeout: 10 * time.Second})
		if err := ac.JWKS.Load(ctx); err != nil {
			return nil, fmt.Errorf("load SUPABASE_JWKS_URL: %w", err)
		}
	}
	return auth.New(ac)
}

func devToken(args []string) error {
	cfg, err := config.LoadDevToken(args, os.Getenv)
	if err != nil {
		return err
	}
	token, err := auth.SignHS256([]byte(cfg.Secret), auth.Principal{Subject: cfg.Subject, Email: cfg.Email, Role: cfg.Role},
		cfg.RoleClaim, cfg.Audience, cfg.TTL, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}

func gen(args []string) error {
	cfg, err := config.LoadGen(args)
	if err != nil {
		return err
	}
	file := coursegen.Generate(cfg.Shape, cfg.Seed)
	if cfg.Out == "-" {
		return coursefile.Write(os.Stdout, file)
	}
	out, err := os.Create(cfg.Out)
	if err != nil {
		return err
	}
	if err := coursefile.Write(out, file); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func seedDemo(ctx context.Context, args []string) error {
	return withDatabase(ctx, "seed-demo", "Loads the demo course; does nothing if it is already there.", args, func(pool *pgxpool.Pool) error {
		course, err := demo.Course()
		if err != nil {
			return err
		}
		created, err := store.New(pool).SeedCourse(ctx, course)
		if err != nil {
			return err
		}
		newLogger(slog.LevelInfo).Info("demo course", "id", course.GetId(), "title", course.GetTitle(), "created", created)
		return nil
	})
}

// memoryLimitText is a Go memory limit for the log: "none" or its size in MiB.
func memoryLimitText(memoryLimit int64) string {
	if memoryLimit <= 0 || memoryLimit == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", memoryLimit>>20)
}
