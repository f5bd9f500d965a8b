package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

// Verification is what Verify found.
type Verification struct {
	Manifest *Manifest
	// Restore is the comparison of a test restore, when one was asked for.
	Restore *integrity.Comparison
}

// Verify checks backup name at dest: its dump's SHA-256 and size against the
// manifest, and a full read by pg_restore. With testRestore set, it then
// restores the dump into a scratch database created on that server (dropped
// afterwards) and compares the counts with the manifest's.
func (r *Runner) Verify(ctx context.Context, dest backupdest.Destination, name string, testRestore *pgtools.Conn) (*Verification, error) {
	m, err := ReadManifest(ctx, dest, name)
	if err != nil {
		return nil, err
	}
	tool, err := r.Tools.Find(ctx, "pg_restore", m.PgDumpMajor)
	if err != nil {
		return nil, fail(CodeToolMissing, err)
	}
	rc, err := openDump(ctx, dest, m)
	if err != nil {
		return nil, err
	}
	h := newHashingReader(rc)
	readErr := tool.ReadArchive(ctx, h)
	checkErr := h.check(m)
	rc.Close()
	if checkErr != nil { // a wrong checksum says more than pg_restore's complaint
		return nil, checkErr
	}
	if readErr != nil {
		return nil, archiveError(tool, m, readErr)
	}
	v := &Verification{Manifest: m}
	if testRestore == nil {
		return v, nil
	}
	v.Restore, err = r.testRestore(ctx, dest, m, *testRestore)
	return v, err
}

// testRestore restores into a new database on the server of conn and drops it.
func (r *Runner) testRestore(ctx context.Context, dest backupdest.Destination, m *Manifest, conn pgtools.Conn) (*integrity.Comparison, error) {
	admin, closeAdmin, err := r.Open(ctx, conn)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	defer closeAdmin()
	scratch := fmt.Sprintf("contentd_verify_%s", strings.ReplaceAll(strings.TrimPrefix(m.Name, "backup-"), "-", "_"))
	scratch = fmt.Sprintf("%s_%d", scratch, r.now().UnixNano()%1e6)
	if err := admin.CreateDatabase(ctx, scratch); err != nil {
		return nil, fail(CodeRestoreFailed, fmt.Errorf("create the scratch database %s: %w", scratch, err))
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := admin.DropDatabase(dctx, scratch); err != nil {
			r.Log.Error("could not drop the scratch database", "database", scratch, "error", err.Error())
		}
	}()
	res, err := r.restore(ctx, dest, m, conn.WithDatabase(scratch), RestoreOptions{})
	if err != nil {
		return nil, err
	}
	return res.Comparison, nil
}

// RestoreOptions say what Restore may do.
type RestoreOptions struct {
	// Clean allows a target that already holds tables of the backup's schemas:
	// what the backup recreates is dropped first.
	Clean bool
	// Protect is a database that must never be the target (DATABASE_URL's).
	Protect *pgtools.Conn
}

// RestoreResult is a finished restore.
type RestoreResult struct {
	Manifest   *Manifest
	Comparison *integrity.Comparison
}

// Restore restores backup name into the database of target: checks the dump
// against its manifest, refuses the protected database and, unless Clean, a
// target that holds tables of the backup's schemas; then pg_restore in one
// transaction, this service's migrations, and the integrity check compared with
// the manifest's counts. A failure before pg_restore's commit leaves the target
// as it was. It fails with INTEGRITY_DIFFERS when the counts differ.
func (r *Runner) Restore(ctx context.Context, dest backupdest.Destination, name string, target pgtools.Conn, opt RestoreOptions) (*RestoreResult, error) {
	m, err := ReadManifest(ctx, dest, name)
	if err != nil {
		return nil, err
	}
	if opt.Protect != nil {
		if err := r.refuseSame(ctx, *opt.Protect, target, opt.Clean); err != nil {
			return nil, err
		}
	}
	return r.restore(ctx, dest, m, target, opt)
}

// refuseSame refuses a target that is the protected database. When the
// protected database cannot be reached (production is down: the reason for a
// restore, often), it cannot be told apart from the target: the restore goes on
// only without -clean, where a target holding data is refused anyway.
func (r *Runner) refuseSame(ctx context.Context, protected, target pgtools.Conn, clean bool) error {
	targetID, err := r.identity(ctx, target)
	if err != nil {
		return fail(CodeDatabaseUnavailable, err)
	}
	protectedID, err := r.identity(ctx, protected)
	switch {
	case err != nil && clean:
		return fail(CodeDatabaseUnavailable, fmt.Errorf("DATABASE_URL's database cannot be reached, so it cannot be told apart from "+
			"the target, and -clean could replace it: make it reachable, or unset DATABASE_URL (%w)", err))
	case err != nil:
		r.Log.Warn("DATABASE_URL's database cannot be reached; the restore goes on into an empty target only", "error", err.Error())
	case protectedID == targetID:
		return &Error{Code: CodeTargetIsSource, Err: fmt.Errorf("the target %s is the database of DATABASE_URL itself: restore into another database", target)}
	}
	return nil
}

func (r *Runner) identity(ctx context.Context, conn pgtools.Conn) (string, error) {
	db, closeDB, err := r.Open(ctx, conn)
	if err != nil {
		return "", err
	}
	defer closeDB()
	return db.Identity(ctx)
}

func (r *Runner) restore(ctx context.Context, dest backupdest.Destination, m *Manifest, target pgtools.Conn, opt RestoreOptions) (*RestoreResult, error) {
	db, closeDB, err := r.Open(ctx, target)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	defer closeDB()
	serverVersion, num, err := db.ServerVersion(ctx)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	major := pgtools.MajorOf(num)
	if m.PgDumpMajor > major {
		return nil, &Error{Code: CodeVersionUnsupported, Err: fmt.Errorf("%s was written by pg_dump %s (PostgreSQL %d); the target runs PostgreSQL %s: "+
			"restore it into a PostgreSQL %d server or newer", m.File, m.PgDumpVersion, m.PgDumpMajor, serverVersion, m.PgDumpMajor)}
	}
	tool, err := r.Tools.Find(ctx, "pg_restore", major)
	if err != nil {
		return nil, fail(CodeToolMissing, err)
	}

	// 1. The dump is the one the manifest describes.
	rc, err := openDump(ctx, dest, m)
	if err != nil {
		return nil, err
	}
	err = newHashingReader(rc).check(m)
	rc.Close()
	if err != nil {
		return nil, err
	}
	// 2. This pg_restore reads it.
	rc, err = openDump(ctx, dest, m)
	if err != nil {
		return nil, err
	}
	toc, err := tool.ListArchive(ctx, rc)
	rc.Close()
	if err != nil {
		return nil, archiveError(tool, m, err)
	}
	// 3. The target is empty, or may be cleaned.
	before, err := db.IntegrityReport(ctx, m.Scope, false)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	if len(before.Tables) > 0 && !opt.Clean {
		return nil, &Error{Code: CodeTargetNotEmpty, Err: fmt.Errorf("the target %s already holds %s: restoring would replace them; "+
			"pass --clean to allow it", target, describeTables(before.Tables))}
	}
	// 4. Restore, keeping the schemas that exist (pg_restore --clean would drop
	// and recreate them, and fails on a schema that holds anything else).
	list, err := r.restoreList(ctx, db, toc)
	if err != nil {
		return nil, err
	}
	rc, err = openDump(ctx, dest, m)
	if err != nil {
		return nil, err
	}
	r.Log.Info("restoring", "backup", m.Name, "target", target.String(), "entries", len(list))
	err = tool.Restore(ctx, target, rc, pgtools.RestoreOptions{List: list})
	rc.Close()
	if err != nil {
		return nil, fail(CodeRestoreFailed, err)
	}
	// 5. Migrations, then the counts.
	if err := db.Migrate(ctx); err != nil {
		return nil, fail(CodeMigrateFailed, err)
	}
	after, err := db.IntegrityReport(ctx, m.Scope, true)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	res := &RestoreResult{Manifest: m, Comparison: integrity.Compare(m.Integrity, after, integrity.Restored)}
	if !res.Comparison.OK() {
		return res, &Error{Code: CodeIntegrityDiffers, Err: fmt.Errorf("the restored database differs from the manifest of %s: %s",
			m.Name, strings.Join(res.Comparison.Differences, "; "))}
	}
	return res, nil
}

// restoreList is the archive's table of contents without the schemas that
// already exist in the target (nor their comments).
func (r *Runner) restoreList(ctx context.Context, db DB, toc *pgtools.TOC) ([]pgtools.TOCEntry, error) {
	var schemas []string
	for _, e := range toc.Entries {
		if e.Type == "SCHEMA" {
			schemas = append(schemas, e.Name)
		}
	}
	existing, err := db.ExistingSchemas(ctx, schemas)
	if err != nil {
		return nil, fail(CodeDatabaseUnavailable, err)
	}
	list := make([]pgtools.TOCEntry, 0, len(toc.Entries))
	for _, e := range toc.Entries {
		if e.Type == "SCHEMA" && slices.Contains(existing, e.Name) ||
			e.Type == "COMMENT" && strings.HasPrefix(e.Name, "SCHEMA ") && slices.Contains(existing, strings.TrimPrefix(e.Name, "SCHEMA ")) {
			continue
		}
		list = append(list, e)
	}
	return list, nil
}

// archiveError explains why pg_restore could not read a dump that matches its
// manifest: a format newer than it reads, or a damaged archive.
func archiveError(tool pgtools.Tool, m *Manifest, err error) error {
	if strings.Contains(pgtools.OutputOf(err), "unsupported version") {
		return &Error{Code: CodeVersionUnsupported, Err: fmt.Errorf("%s was written by pg_dump %s in an archive format pg_restore %s (%s) does not read: "+
			"install the PostgreSQL %d client or newer (postgresql-client-%d) or point PG_BINDIR at it: %w",
			m.File, m.PgDumpVersion, tool.Version, tool.Path, m.PgDumpMajor, m.PgDumpMajor, err)}
	}
	return &Error{Code: CodeArchiveUnreadable, Err: fmt.Errorf("%s matches its manifest but pg_restore cannot read it: %w", m.File, err)}
}

func describeTables(tables []integrity.TableCount) string {
	var rows int64
	var names []string
	for _, t := range tables {
		rows += t.Rows
		if len(names) < 5 {
			names = append(names, t.Qualified())
		}
	}
	more := ""
	if len(tables) > len(names) {
		more = fmt.Sprintf(" and %d more", len(tables)-len(names))
	}
	return fmt.Sprintf("%d tables with %d rows (%s%s)", len(tables), rows, strings.Join(names, ", "), more)
}

func openDump(ctx context.Context, dest backupdest.Destination, m *Manifest) (io.ReadCloser, error) {
	rc, err := dest.Open(ctx, m.File)
	if errors.Is(err, backupdest.ErrNotExist) {
		return nil, &Error{Code: CodeNotFound, Err: fmt.Errorf("%s is missing from %s (its manifest is there)", m.File, dest)}
	}
	if err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}
	return rc, nil
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// sum reads what is left unread, then returns the SHA-256 and size of all.
func (h *hashingReader) sum() (string, int64, error) {
	if _, err := io.Copy(io.Discard, h); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.h.Sum(nil)), h.n, nil
}

// check compares the whole dump with its manifest.
func (h *hashingReader) check(m *Manifest) error {
	sum, size, err := h.sum()
	if err != nil {
		return fail(CodeDestinationFailed, fmt.Errorf("read %s: %w", m.File, err))
	}
	if size != m.SizeBytes || sum != m.SHA256 {
		return &Error{Code: CodeChecksumMismatch, Err: fmt.Errorf("%s is not the file its manifest describes: %d bytes with SHA-256 %s, the manifest says %d bytes with %s",
			m.File, size, sum, m.SizeBytes, m.SHA256)}
	}
	return nil
}
