// Package backup is the whole-database routine of backup-e-restore.md, sections
// 2 to 4: pg_dump into a directory or object storage, each dump verified before
// it is published and described by a manifest, the last N kept; verification and
// restore against the manifest; scheduled runs that replicas share; and the
// pre-release checklist. It runs PostgreSQL's own client programs (package
// pgtools) and reaches the database through the DB interface it owns.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

// Trigger says why a backup was taken.
type Trigger string

// The triggers of a backup run.
const (
	TriggerSchedule     Trigger = "SCHEDULE"
	TriggerManual       Trigger = "MANUAL"
	TriggerMigrate      Trigger = "MIGRATE"
	TriggerReleaseCheck Trigger = "RELEASE_CHECK"
)

// RunStatus is where a run stands.
type RunStatus string

// The states of a run.
const (
	RunRunning   RunStatus = "RUNNING"
	RunSucceeded RunStatus = "SUCCEEDED"
	RunFailed    RunStatus = "FAILED"
)

// Run is one backup run as the database records it.
type Run struct {
	ID      uuid.UUID
	Trigger Trigger
	// Slot is the scheduled time of a SCHEDULE run; zero otherwise.
	Slot time.Time
	// Runner is the host and process that ran it.
	Runner      string
	StartedAt   time.Time
	FinishedAt  time.Time
	Status      RunStatus
	Destination string
	BackupName  string
	SizeBytes   int64
	// ErrorCode and ErrorDetail say why a run failed; the detail is for
	// operators and holds no secret.
	ErrorCode, ErrorDetail string
}

// ErrSlotTaken is returned by a scheduled run whose slot another replica took.
var ErrSlotTaken = errors.New("another replica runs this scheduled backup")

// ErrNoRunLog is what DB.StartBackupRun returns when the database has no table
// to record runs in (it was never migrated): a one-off backup goes on unrecorded.
var ErrNoRunLog = errors.New("backup runs are not recorded: the database is not migrated")

// DB is a database the routine backs up, restores into or records runs in.
type DB interface {
	// ServerVersion returns the server's version ("15.18") and number (150018).
	ServerVersion(ctx context.Context) (string, int, error)
	// OpenSnapshot begins a read-only transaction, exports its snapshot for
	// pg_dump and reads the integrity counts of scope in it; release ends it.
	OpenSnapshot(ctx context.Context, scope integrity.Scope) (id string, counts *integrity.Report, release func(context.Context), err error)
	// IntegrityReport reads the counts of scope and, with orphans, the foreign
	// keys whose parent row is gone.
	IntegrityReport(ctx context.Context, scope integrity.Scope, orphans bool) (*integrity.Report, error)
	// ExistingSchemas returns which of names exist.
	ExistingSchemas(ctx context.Context, names []string) ([]string, error)
	// Identity names the database in a way that two connections to the same one
	// (direct or through a pooler) share and two databases never do.
	Identity(ctx context.Context) (string, error)
	// Migrate applies this service's pending migrations.
	Migrate(ctx context.Context) error
	// CreateDatabase and DropDatabase make and remove a scratch database on the server.
	CreateDatabase(ctx context.Context, name string) error
	DropDatabase(ctx context.Context, name string) error
	RunLog
}

// RunLog records backup runs.
type RunLog interface {
	// StartBackupRun records run as RUNNING and sets its ID and StartedAt. A
	// SCHEDULE run is recorded only if no replica recorded its slot before:
	// started is false then. ErrNoRunLog when the database cannot record runs.
	StartBackupRun(ctx context.Context, run *Run) (started bool, err error)
	// FinishBackupRun records how run ended.
	FinishBackupRun(ctx context.Context, run *Run) error
	// ListBackupRuns returns the latest runs, newest first.
	ListBackupRuns(ctx context.Context, limit int) ([]Run, error)
}

// Opener connects to the database of conn; close releases the connection.
type Opener func(ctx context.Context, conn pgtools.Conn) (db DB, close func(), err error)

// Runner runs the routine.
type Runner struct {
	Open  Opener
	Tools pgtools.Locator
	Log   *slog.Logger
	// Version is contentd's, written into manifests.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Options say what Backup does.
type Options struct {
	Dest  backupdest.Destination
	Scope integrity.Scope
	// Keep is how many backups to keep at Dest after this one (0 keeps all).
	Keep    int
	Trigger Trigger
	// Slot is the scheduled time of a SCHEDULE run.
	Slot time.Time
	// Progress, when set, is called with the bytes pg_dump has written so far,
	// a few times a second while it runs, then once with done set when it ends
	// (verification follows).
	Progress func(written int64, done bool)
}

// lockWaitTimeout bounds pg_dump's wait for a table lock.
const lockWaitTimeout = 5 * time.Minute

// progressEvery is how often Progress is called.
const progressEvery = 200 * time.Millisecond

// runTable is the table of runs, whose rows backups leave out.
const runTable = "backup_runs"

// Result is a finished backup.
type Result struct {
	Manifest *Manifest
	// Pruned are the backups deleted by retention; PruneErr says why retention
	// stopped short, which does not undo the backup.
	Pruned   []string
	PruneErr error
}

// Backup takes a backup of the database of conn: pg_dump of the snapshot whose
// counts go into the manifest, written under a temporary name, verified
// (SHA-256 and a full read by pg_restore), published with its manifest; then
// the oldest backups beyond Keep are deleted. A failure leaves no file that looks
// like a backup and deletes nothing. The run is recorded in the database.
func (r *Runner) Backup(ctx context.Context, conn pgtools.Conn, opt Options) (*Result, error) {
	db, closeDB, err := r.Open(ctx, conn)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	defer closeDB()
	run := &Run{Trigger: opt.Trigger, Slot: opt.Slot, Runner: runnerName(), Destination: opt.Dest.String()}
	recorded := true
	switch started, err := db.StartBackupRun(ctx, run); {
	case errors.Is(err, ErrNoRunLog) && opt.Trigger != TriggerSchedule:
		recorded = false
		r.Log.Info("backup run not recorded: the database has no backup_runs table yet")
	case err != nil:
		return nil, fail(CodeDatabaseUnavailable, fmt.Errorf("record the backup run: %w", err))
	case !started:
		return nil, ErrSlotTaken
	}
	log := r.Log.With("trigger", string(opt.Trigger), "destination", opt.Dest.String())
	log.Info("backup started")

	m, err := r.take(ctx, db, conn, opt)
	res := &Result{Manifest: m}
	if err == nil && opt.Keep > 0 {
		res.Pruned, res.PruneErr = prune(ctx, opt.Dest, opt.Keep, m.Name)
		if res.PruneErr != nil {
			log.Warn("retention stopped short", "error", res.PruneErr.Error())
		}
	}
	if recorded {
		r.finishRun(ctx, db, run, m, err)
	}
	if err != nil {
		log.Error("backup failed", "code", CodeOf(err), "error", err.Error())
		return nil, err
	}
	log.Info("backup done", "name", m.Name, "bytes", m.SizeBytes, "sha256", m.SHA256,
		"duration_s", m.DurationSeconds, "pruned", res.Pruned)
	return res, nil
}

// finishRun records how the run ended, even when ctx was cancelled.
func (r *Runner) finishRun(ctx context.Context, db DB, run *Run, m *Manifest, err error) {
	run.Status = RunSucceeded
	if m != nil {
		run.BackupName, run.SizeBytes = m.Name, m.SizeBytes
	}
	if err != nil {
		run.Status, run.ErrorCode, run.ErrorDetail = RunFailed, CodeOf(err), err.Error()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := db.FinishBackupRun(fctx, run); ferr != nil {
		r.Log.Error("could not record the end of the backup run", "run", run.ID.String(), "error", ferr.Error())
	}
}

func (r *Runner) take(ctx context.Context, db DB, conn pgtools.Conn, opt Options) (*Manifest, error) {
	start := r.now()
	serverVersion, versionNum, err := db.ServerVersion(ctx)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	major := pgtools.MajorOf(versionNum)
	dump, err := r.Tools.Find(ctx, "pg_dump", major)
	if err != nil {
		return nil, fail(CodeToolMissing, err)
	}
	reader, err := r.Tools.Find(ctx, "pg_restore", dump.Major)
	if err != nil {
		return nil, fail(CodeToolMissing, err)
	}
	if dump.Major != major {
		r.Log.Warn("no pg_dump of the server's major version; using a newer one", "server", serverVersion, "pg_dump", dump.Version)
	}

	snapshot, counts, release, err := db.OpenSnapshot(ctx, opt.Scope)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, fmt.Errorf("open a snapshot: %w", err))
	}
	defer func() { release(ctx) }()
	name := nameAt(counts.TakenAt)
	m := &Manifest{
		FormatVersion: ManifestVersion, Name: name, File: name + dumpSuffix, CreatedAt: counts.TakenAt,
		Trigger: opt.Trigger, Database: conn.String(), ServerVersion: serverVersion,
		PgDumpVersion: dump.Version, PgDumpMajor: dump.Major, ContentdVersion: r.Version,
		Scope: opt.Scope, Integrity: counts,
	}
	if opt.Scope.All || slices.Contains(opt.Scope.Schemas, integrity.AppSchema) {
		m.ExcludedTableData = []string{integrity.AppSchema + "." + runTable}
	}

	if err := checkFree(ctx, opt.Dest, name); err != nil {
		return nil, err
	}
	up, err := opt.Dest.Create(ctx, m.File)
	if err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}
	defer up.Abort(ctx) //nolint:errcheck // a no-op once published; a failed run reports its own error
	stopProgress := r.reportProgress(up, opt.Progress)
	var out io.Writer = up
	if f := up.File(); f != nil {
		out = f // pg_dump seeks in a file to write the archive's table of contents
	}
	err = dump.Dump(ctx, conn, pgtools.DumpOptions{
		Snapshot: snapshot, Schemas: schemasOf(opt.Scope), ExcludeTableData: m.ExcludedTableData, LockWaitTimeout: lockWaitTimeout,
	}, out)
	stopProgress()
	release(ctx)
	if err != nil {
		if werr := destinationError(up, err); werr != nil {
			return nil, fail(CodeDestinationFailed, werr)
		}
		return nil, fail(CodeDumpFailed, err)
	}
	if err := up.Finish(ctx); err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}

	rc, err := up.Reopen(ctx)
	if err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}
	h := newHashingReader(rc)
	err = reader.ReadArchive(ctx, h) // a full read; the bytes it leaves unread are hashed by sum
	sum, size, serr := h.sum()
	rc.Close()
	if err = errors.Join(err, serr); err != nil {
		return nil, fail(CodeVerifyFailed, fmt.Errorf("verify the new dump: %w", err))
	}
	if up.File() == nil && size != up.Written() {
		return nil, fail(CodeVerifyFailed, fmt.Errorf("verify the new dump: %d bytes were written, %d read back", up.Written(), size))
	}
	m.SHA256, m.SizeBytes = sum, size
	m.DurationSeconds = r.now().Sub(start).Round(time.Millisecond).Seconds()
	manifest, err := encodeManifest(m)
	if err != nil {
		return nil, fail(CodeInternal, err)
	}
	// The manifest first: a dump is never visible without it.
	if err := backupdest.WriteSmall(ctx, opt.Dest, name+manifestSuffix, manifest); err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}
	if err := up.Publish(ctx); err != nil {
		_ = opt.Dest.Remove(context.WithoutCancel(ctx), name+manifestSuffix)
		return nil, fail(CodeDestinationFailed, err)
	}
	return m, nil
}

// destinationError tells a dump that failed because its output could not be
// written (a full disk, a refused upload) from one that failed in the database.
func destinationError(up backupdest.Upload, dumpErr error) error {
	if err := up.Err(); err != nil {
		return err
	}
	if strings.Contains(pgtools.OutputOf(dumpErr), "could not write to output file") {
		return dumpErr
	}
	return nil
}

// checkFree fails when a backup of that name is already there (two in the
// same second).
func checkFree(ctx context.Context, dest backupdest.Destination, name string) error {
	for _, file := range []string{name + dumpSuffix, name + manifestSuffix} {
		r, err := dest.Open(ctx, file)
		if err == nil {
			r.Close()
			return fail(CodeDestinationFailed, fmt.Errorf("%w: %s in %s", backupdest.ErrExist, file, dest))
		}
		if !errors.Is(err, backupdest.ErrNotExist) {
			return fail(CodeDestinationFailed, err)
		}
	}
	return nil
}

// reportProgress calls progress with up.Written() until the returned stop is
// called, then once more with done.
func (r *Runner) reportProgress(up backupdest.Upload, progress func(int64, bool)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				progress(up.Written(), false)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		progress(up.Written(), true)
	}
}

func schemasOf(s integrity.Scope) []string {
	if s.All {
		return nil
	}
	return s.Schemas
}

// runnerName says which process ran a backup: host and pid.
func runnerName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}
