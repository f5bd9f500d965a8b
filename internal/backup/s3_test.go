package backup_test

import (
	"context"
	"slices"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/s3test"
)

// TestS3Destination: backup, list, verify and restore through an S3-compatible
// store on loopback, under Supabase Storage's path.
func TestS3Destination(t *testing.T) {
	store := s3test.Start(t, "backups")
	ctx := context.Background()
	src, srcPool := newDB(t)
	seed(t, srcPool, 10)
	r := newRunner(t)
	dest, err := backupdest.Open(ctx, "s3://backups/contentd/producao")
	if err != nil {
		t.Fatal(err)
	}
	m := manual(t, r, src, dest, 4)
	want := []string{"contentd/producao/" + m.Name + ".dump", "contentd/producao/" + m.Name + ".manifest.json"}
	keys := store.Keys(t, "backups")
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Fatalf("bucket holds %v, want %v", keys, want)
	}
	entries, err := backup.List(ctx, dest)
	if err != nil || len(entries) != 1 || entries[0].Manifest == nil || entries[0].Manifest.SHA256 != m.SHA256 {
		t.Fatalf("List = %+v, %v", entries, err)
	}
	if _, err := r.Verify(ctx, dest, m.Name, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
	target, _ := emptyDB(t)
	restored, err := r.Restore(ctx, dest, m.Name, target, backup.RestoreOptions{Protect: &src})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !restored.Comparison.OK() {
		t.Fatalf("restored counts differ: %v", restored.Comparison.Differences)
	}

	// A bucket that does not exist: the run fails, recorded, and nothing is left.
	missing, err := backupdest.Open(ctx, "s3://nao-existe/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backup(ctx, src, backup.Options{Dest: missing, Scope: appScope, Trigger: backup.TriggerManual}); codeOf(err) != backup.CodeDestinationFailed {
		t.Fatalf("backup into a missing bucket: %v, want %s", err, backup.CodeDestinationFailed)
	}
	if n := pgtest.Count(t, srcPool, `SELECT count(*) FROM backup_runs WHERE status = 'FAILED' AND destination = 's3://nao-existe/x/'`); n != 1 {
		t.Errorf("%d failed runs recorded for the missing bucket", n)
	}
}
