package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/config"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// backupPoolConns is enough for a backup: the snapshot's transaction and the
// record of the run.
const backupPoolConns = 3

// openStore is the backup.Opener of contentd: a small pool and the store over it.
func openStore(ctx context.Context, conn pgtools.Conn) (backup.DB, func(), error) {
	cfg, err := dbpool.Config(conn.URL(), dbpool.Auto, backupPoolConns)
	if err != nil {
		return nil, nil, fmt.Errorf("connection to %s: %w", conn, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", conn, err)
	}
	return store.New(pool), pool.Close, nil
}

func newRunner(log *slog.Logger) *backup.Runner {
	return &backup.Runner{Open: openStore, Tools: pgtools.DefaultLocator(), Log: log, Version: version}
}

// parseConn checks a connection URL of the backup commands; what may be wrong
// is named after where it came from.
func parseConn(what, raw string) (pgtools.Conn, error) {
	conn, err := pgtools.ParseConn(raw)
	if err != nil {
		return conn, fmt.Errorf("%s: %w", what, err)
	}
	return conn, nil
}

// sourceAndDest opens what a backup reads and where it writes.
func sourceAndDest(ctx context.Context, cfg config.Backup) (pgtools.Conn, backupdest.Destination, error) {
	conn, err := parseConn("BACKUP_DATABASE_URL (or DATABASE_URL)", cfg.URL)
	if err != nil {
		return conn, nil, err
	}
	dest, err := backupdest.Open(ctx, cfg.Dest)
	return conn, dest, err
}

// backupCmd is `contentd backup`, `backup list` and `backup verify`.
func backupCmd(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return backupList(ctx, args[1:])
		case "verify":
			return backupVerify(ctx, args[1:])
		}
	}
	cfg, err := config.LoadBackupRun(args, os.Getenv)
	if err != nil {
		return err
	}
	conn, dest, err := sourceAndDest(ctx, cfg.Backup)
	if err != nil {
		return err
	}
	log := newLogger(slog.LevelInfo)
	res, err := newRunner(log).Backup(ctx, conn, backup.Options{
		Dest: dest, Scope: cfg.Scope, Keep: cfg.Keep, Trigger: backup.TriggerManual, Progress: terminalProgress("pg_dump"),
	})
	if err != nil {
		return err
	}
	fmt.Println(res.Manifest.Name)
	return nil
}

// terminalProgress shows the bytes pg_dump has written and the time elapsed on
// standard error when it is a terminal; elsewhere (cron, a CronJob's log) nothing.
func terminalProgress(what string) func(written int64, done bool) {
	info, err := os.Stderr.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)
	return func(n int64, done bool) {
		_ = bar.Set64(n)
		if done {
			_ = bar.Finish()
		}
	}
}

func backupList(ctx context.Context, args []string) error {
	cfg, err := config.LoadBackupList(args, os.Getenv)
	if err != nil {
		return err
	}
	dest, err := backupdest.Open(ctx, cfg.Dest)
	if err != nil {
		return err
	}
	entries, err := backup.List(ctx, dest)
	if err != nil {
		return err
	}
	if cfg.JSON {
		manifests := make([]*backup.Manifest, 0, len(entries))
		for _, e := range entries {
			if e.Manifest != nil {
				manifests = append(manifests, e.Manifest)
			}
		}
		return writeJSON(os.Stdout, manifests)
	}
	if len(entries) == 0 {
		fmt.Printf("no backups in %s\n", dest)
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED (UTC)\tSIZE\tTRIGGER\tSERVER\tMIGRATION\tSHA-256")
	for _, e := range entries {
		m := e.Manifest
		if m == nil {
			fmt.Fprintf(tw, "%s\t(unreadable manifest: %s)\n", e.Name, e.Problem)
			continue
		}
		server, _, _ := strings.Cut(m.ServerVersion, " ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.Name, m.CreatedAt.UTC().Format("2006-01-02 15:04:05"), backup.FormatBytes(m.SizeBytes),
			m.Trigger, server, m.Integrity.MigrationVersion, m.SHA256[:16]+"…")
	}
	return tw.Flush()
}

func backupVerify(ctx context.Context, args []string) error {
	cfg, err := config.LoadBackupVerify(args, os.Getenv)
	if err != nil {
		return err
	}
	dest, err := backupdest.Open(ctx, cfg.Dest)
	if err != nil {
		return err
	}
	name := ""
	if cfg.Latest {
		name, err = backup.Latest(ctx, dest)
	} else {
		name, err = backup.NameOf(cfg.Name)
	}
	if err != nil {
		return err
	}
	var testRestore *pgtools.Conn
	if cfg.TestRestore != "" {
		conn, err := parseConn("-test-restore", cfg.TestRestore)
		if err != nil {
			return err
		}
		testRestore = &conn
	}
	v, err := newRunner(newLogger(slog.LevelInfo)).Verify(ctx, dest, name, testRestore)
	if err != nil {
		return err
	}
	m := v.Manifest
	fmt.Printf("%s: OK — %d bytes, SHA-256 %s, read completely by pg_restore\n", m.Name, m.SizeBytes, m.SHA256)
	if v.Restore != nil {
		fmt.Println()
		return v.Restore.WriteText(os.Stdout, "manifest", "test restore")
	}
	return nil
}

// restoreCmd is `contentd restore`.
func restoreCmd(ctx context.Context, args []string) error {
	cfg, err := config.LoadRestore(args, os.Getenv)
	if err != nil {
		return err
	}
	target, err := parseConn("-target-url", cfg.Target)
	if err != nil {
		return err
	}
	opt := backup.RestoreOptions{Clean: cfg.Clean}
	if cfg.URL != "" {
		protect, err := parseConn("DATABASE_URL", cfg.URL)
		if err != nil {
			return err
		}
		opt.Protect = &protect
	}
	name, err := backup.NameOf(cfg.Name)
	if err != nil {
		return err
	}
	dest, err := backupdest.Open(ctx, cfg.Dest)
	if err != nil {
		return err
	}
	res, err := newRunner(newLogger(slog.LevelInfo)).Restore(ctx, dest, name, target, opt)
	if res != nil && res.Comparison != nil {
		if werr := res.Comparison.WriteText(os.Stdout, "manifest", "restored"); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	fmt.Printf("\n%s restored into %s\n", name, target)
	return nil
}

// integrityCmd is `contentd integrity`.
func integrityCmd(ctx context.Context, args []string) error {
	cfg, err := config.LoadIntegrity(args, os.Getenv)
	if err != nil {
		return err
	}
	report, err := readIntegrity(ctx, cfg.URL, cfg.Scope)
	if err != nil {
		return err
	}
	var cmp *integrity.Comparison
	switch {
	case cfg.Compare != "":
		other, err := readIntegrity(ctx, cfg.Compare, cfg.Scope)
		if err != nil {
			return err
		}
		cmp = integrity.Compare(report, other, integrity.Peers)
	case cfg.Manifest != "":
		m, err := readManifestFile(cfg.Manifest)
		if err != nil {
			return err
		}
		cmp = integrity.Compare(m.Integrity, report, integrity.Restored)
	}
	switch {
	case cmp == nil && cfg.JSON:
		err = writeJSON(os.Stdout, report)
	case cmp == nil:
		err = report.WriteText(os.Stdout)
	case cfg.JSON:
		err = writeJSON(os.Stdout, map[string]any{"ok": cmp.OK(), "reference": cmp.Reference, "actual": cmp.Actual,
			"differences": cmp.Differences, "notes": cmp.Notes})
	default:
		names := map[bool]string{true: "manifest", false: "DATABASE_URL"}
		other := map[bool]string{true: "DATABASE_URL", false: "compared"}
		err = cmp.WriteText(os.Stdout, names[cfg.Manifest != ""], other[cfg.Manifest != ""])
	}
	if err != nil {
		return err
	}
	switch {
	case cmp != nil && !cmp.OK():
		return fmt.Errorf("the databases differ: %d difference(s)", len(cmp.Differences))
	case cmp == nil && report.OrphanRows() > 0:
		return fmt.Errorf("%d rows point to a parent row that is gone", report.OrphanRows())
	}
	return nil
}

func readIntegrity(ctx context.Context, raw string, scope integrity.Scope) (*integrity.Report, error) {
	pool, err := openPool(ctx, config.Database{URL: raw, MaxConns: 2})
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return store.New(pool).IntegrityReport(ctx, scope, true)
}

func readManifestFile(path string) (*backup.Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m backup.Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Integrity == nil {
		return nil, fmt.Errorf("%s is not a backup manifest", path)
	}
	return &m, nil
}

// releaseCheck is `contentd release-check`.
func releaseCheck(ctx context.Context, args []string) error {
	cfg, err := config.LoadReleaseCheck(args, os.Getenv)
	if err != nil {
		return err
	}
	conn, dest, err := sourceAndDest(ctx, cfg.Backup)
	if err != nil {
		return err
	}
	staging, err := parseConn("-staging-url", cfg.Staging)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, config.Database{URL: cfg.URL, MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	exporter := transfer.New(store.New(pool), transfer.Config{Version: version, Environment: cfg.Environment})
	ctx = audit.WithActor(ctx, audit.Actor{ID: "contentd release-check"})
	checklist := newRunner(newLogger(slog.LevelInfo)).ReleaseCheck(ctx, conn, backup.ReleaseOptions{
		Backup:  backup.Options{Dest: dest, Scope: cfg.Scope, Keep: cfg.Keep},
		Courses: cfg.Courses, Exporter: exporter, Staging: staging, Protect: &conn,
	})
	if err := checklist.WriteText(os.Stdout); err != nil {
		return err
	}
	if !checklist.OK() {
		return errors.New("the release check failed")
	}
	return nil
}

// migrate is `contentd migrate`: with -backup-first, a verified backup comes
// before any pending migration.
func migrate(ctx context.Context, args []string) error {
	cfg, err := config.LoadMigrate(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(slog.LevelInfo)
	pool, err := openPool(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.BackupFirst {
		pending, err := migrations.Pending(ctx, pool)
		if err != nil {
			return err
		}
		if pending {
			if err := backupBeforeMigrating(ctx, cfg.Backup, log); err != nil {
				return err
			}
		} else {
			log.Info("no pending migrations: no backup taken")
		}
	}
	applied, err := migrations.Up(ctx, pool)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "versions", applied)
	return nil
}

func backupBeforeMigrating(ctx context.Context, cfg config.Backup, log *slog.Logger) error {
	conn, dest, err := sourceAndDest(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := newRunner(log).Backup(ctx, conn, backup.Options{Dest: dest, Scope: cfg.Scope, Keep: cfg.Keep,
		Trigger: backup.TriggerMigrate, Progress: terminalProgress("pg_dump")})
	if err != nil {
		return fmt.Errorf("the backup before migrating failed, so nothing was migrated: %w", err)
	}
	log.Info("backup taken before migrating", "backup", res.Manifest.Name)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// failureAttrs are the log attributes of a failed command: the backup
// routine's code, when it has one.
func failureAttrs(err error) []any {
	attrs := []any{"error", err.Error()}
	if code := backup.CodeOf(err); code != backup.CodeInternal {
		attrs = append(attrs, "code", code)
	}
	return attrs
}
