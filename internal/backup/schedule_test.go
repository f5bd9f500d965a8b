package backup_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	s, err := backup.ParseSchedule("0 3 * * 0", "America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	// Saturday 2026-11-28 12:00 in São Paulo (UTC-3): next is Sunday 03:00 there.
	from := time.Date(2026, 11, 28, 12, 0, 0, 0, s.Location)
	if got, want := s.Next(from), time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next(%v) = %v, want %v", from, got, want)
	}
	for _, bad := range [][2]string{{"0 3 * *", "UTC"}, {"every sunday", "UTC"}, {"0 3 * * 0", "America/Atlantida"}} {
		if _, err := backup.ParseSchedule(bad[0], bad[1]); err == nil {
			t.Errorf("ParseSchedule(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, err := backup.ParseSchedule("@weekly", "UTC"); err != nil {
		t.Errorf("@weekly: %v", err)
	}
}

// TestTwoReplicasRunEachSlotOnce runs two schedulers — two replicas, each with
// its own connections — on one database and one destination: every slot gives
// exactly one run and one backup.
func TestTwoReplicasRunEachSlotOnce(t *testing.T) {
	t.Parallel()
	src, srcPool := newDB(t)
	seed(t, srcPool, 3)
	dest, _ := dirDest(t)
	sched, err := backup.ParseSchedule("*/2 * * * * *", "America/Sao_Paulo") // every two seconds
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		r := newRunner(t)
		s := &backup.Scheduler{Runner: r, Conn: src, Schedule: sched, Log: r.Log,
			Options: backup.Options{Dest: dest, Scope: appScope, Keep: 10}}
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	time.Sleep(7 * time.Second)
	cancel()
	wg.Wait()

	rows, err := srcPool.Query(context.Background(), `SELECT slot, status, backup_name, coalesce(error_code, ''),
		slot = max(slot) OVER () FROM backup_runs WHERE trigger = 'SCHEDULE' ORDER BY slot`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	slots := map[time.Time]int{}
	for rows.Next() {
		var slot time.Time
		var status, code string
		var name *string
		var last bool
		if err := rows.Scan(&slot, &status, &name, &code, &last); err != nil {
			t.Fatal(err)
		}
		slots[slot]++
		switch {
		case status == "SUCCEEDED" && name != nil:
			names = append(names, *name)
		case last && status == "FAILED" && code == backup.CodeInterrupted:
			// the test ended during the last slot's backup
		default:
			t.Errorf("slot %v ended %s %s", slot, status, code)
		}
	}
	if len(slots) < 2 {
		t.Fatalf("%d slots ran in 7 s of a two-second schedule", len(slots))
	}
	for slot, n := range slots {
		if n != 1 {
			t.Errorf("slot %v has %d runs, want 1", slot, n)
		}
	}
	listed, err := backup.List(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range listed {
		kept = append(kept, e.Name)
	}
	slices.Sort(kept)
	slices.Sort(names)
	if !slices.Equal(kept, names) {
		t.Errorf("backups at the destination %v, succeeded runs %v", kept, names)
	}
}

// refusingDest is a directory destination that refuses the next writes, as a
// full or read-only disk does (as root, permissions cannot make it refuse).
type refusingDest struct {
	*backupdest.Dir
	refuse atomic.Int32
}

func (d *refusingDest) Create(ctx context.Context, name string) (backupdest.Upload, error) {
	if d.refuse.Add(-1) >= 0 {
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrPermission)
	}
	return d.Dir.Create(ctx, name)
}

// TestScheduledBackupsSurviveFailures: pg_dump goes missing, then the
// destination refuses to write. Each failed slot is recorded with its code, the
// backups already taken stay intact, and the schedule goes on: the slot after
// the repair succeeds, in the same running scheduler.
func TestScheduledBackupsSurviveFailures(t *testing.T) {
	t.Parallel()
	src, srcPool := newDB(t)
	seed(t, srcPool, 3)
	dir, _ := dirDest(t)
	dest := &refusingDest{Dir: dir}
	first, err := newRunner(t).Backup(context.Background(), src, backup.Options{Dest: dest, Scope: appScope, Keep: 10, Trigger: backup.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}

	// The scheduler finds its programs in an empty folder only, for now.
	bindir := t.TempDir()
	r := newRunner(t)
	r.Tools = pgtools.Locator{Bindir: bindir}
	sched, err := backup.ParseSchedule("* * * * * *", "America/Sao_Paulo") // every second
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := &backup.Scheduler{Runner: r, Conn: src, Schedule: sched, Log: r.Log, Options: backup.Options{Dest: dest, Scope: appScope, Keep: 10}}
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	codes := func() []string {
		rows, err := srcPool.Query(context.Background(), `SELECT status || ':' || coalesce(error_code, '') FROM backup_runs
			WHERE trigger = 'SCHEDULE' AND status <> 'RUNNING' ORDER BY slot`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if got := codes(); len(got) > 0 && got[len(got)-1] == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no scheduled run ended %s: %v", want, codes())
	}
	waitFor("FAILED:" + backup.CodeToolMissing)

	// The programs come back, the destination starts refusing.
	dest.refuse.Store(1000)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		found, err := pgtools.DefaultLocator().Find(context.Background(), tool, 15)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(found.Path, filepath.Join(bindir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("FAILED:" + backup.CodeDestinationFailed)

	// The destination is repaired: the next slot succeeds.
	dest.refuse.Store(0)
	waitFor("SUCCEEDED:")
	cancel()
	<-done

	listed, err := backup.List(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range listed {
		names = append(names, e.Name)
	}
	if !slices.Contains(names, first.Manifest.Name) || len(names) < 2 {
		t.Errorf("backups after the failures: %v, want %s and the new one", names, first.Manifest.Name)
	}
	if v, err := newRunner(t).Verify(context.Background(), dest, first.Manifest.Name, nil); err != nil || v == nil {
		t.Errorf("the backup taken before the failures does not verify: %v", err)
	}
	entries, err := os.ReadDir(dir.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("a failed run left %s", e.Name())
		}
	}
}
