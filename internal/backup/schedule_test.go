package backup_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/backup"
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
