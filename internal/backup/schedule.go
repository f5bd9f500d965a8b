package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

// Schedule is when scheduled backups run: a cron expression read in a time zone.
type Schedule struct {
	Spec     string
	Location *time.Location
	cron     cron.Schedule
}

// scheduleParser reads the five standard fields, an optional leading seconds
// field, and the @daily, @weekly, … descriptors.
var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule reads a cron expression ("0 3 * * 0": Sundays at 03:00) in the
// time zone tz ("America/Sao_Paulo").
func ParseSchedule(spec, tz string) (*Schedule, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	c, err := scheduleParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return &Schedule{Spec: spec, Location: loc, cron: c}, nil
}

// Next is the first slot after t.
func (s *Schedule) Next(t time.Time) time.Time { return s.cron.Next(t.In(s.Location)) }

// Scheduler runs the backups of a schedule. Every replica runs one; for each
// slot, the replica whose record of the slot wins runs the backup, the others
// wait for the next slot. A slot that finds every replica down is not run later.
type Scheduler struct {
	Runner   *Runner
	Conn     pgtools.Conn
	Schedule *Schedule
	// Options are those of each run (Trigger and Slot are set per run).
	Options Options
	Log     *slog.Logger
}

// Run runs scheduled backups until ctx ends. Each outcome is logged and
// recorded in the database.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		slot := s.Schedule.Next(s.Runner.now())
		s.Log.Info("next scheduled backup", "at", slot.Format(time.RFC3339), "schedule", s.Schedule.Spec)
		t := time.NewTimer(time.Until(slot))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		opt := s.Options
		opt.Trigger, opt.Slot = TriggerSchedule, slot
		_, err := s.Runner.Backup(ctx, s.Conn, opt)
		if errors.Is(err, ErrSlotTaken) {
			s.Log.Info("scheduled backup taken by another replica", "slot", slot.Format(time.RFC3339))
		}
	}
}

// Overview is what the service says of backups: those kept at the
// destination, the latest runs, and the schedule.
type Overview struct {
	Destination string
	Keep        int
	// Schedule is nil when backups are not scheduled; Next is its next slot.
	Schedule *Schedule
	Next     time.Time
	Backups  []Entry
	// BackupsErr says why the destination could not be listed.
	BackupsErr error
	Runs       []Run
}

// LastRun is the newest run, and LastSuccess the newest that succeeded.
func (o *Overview) LastRun() *Run { return firstRun(o.Runs, func(Run) bool { return true }) }

// LastSuccess is the newest run that succeeded, among the runs listed.
func (o *Overview) LastSuccess() *Run {
	return firstRun(o.Runs, func(r Run) bool { return r.Status == RunSucceeded })
}

func firstRun(runs []Run, ok func(Run) bool) *Run {
	for i := range runs {
		if ok(runs[i]) {
			return &runs[i]
		}
	}
	return nil
}

// Overviewer gathers the Overview.
type Overviewer struct {
	Dest     backupdest.Destination
	Keep     int
	Schedule *Schedule
	Runs     RunLog
	Now      func() time.Time
}

// Run limits of List.
const (
	DefaultRunLimit = 20
	MaxRunLimit     = 100
)

// List is the Overview of the API: runLimit is checked (0 means the default).
func (v *Overviewer) List(ctx context.Context, runLimit int) (*Overview, error) {
	switch {
	case runLimit == 0:
		runLimit = DefaultRunLimit
	case runLimit < 0 || runLimit > MaxRunLimit:
		return nil, fault.New(fault.ErrInvalidArgument, "INVALID_RUN_LIMIT", "runLimit",
			fmt.Sprintf("O número de execuções deve estar entre 1 e %d.", MaxRunLimit))
	}
	return v.Overview(ctx, runLimit, true)
}

// Overview lists the destination and the latest runs (up to runLimit). A
// destination that cannot be listed is reported in BackupsErr, not as an error.
func (v *Overviewer) Overview(ctx context.Context, runLimit int, withBackups bool) (*Overview, error) {
	o := &Overview{Destination: v.Dest.String(), Keep: v.Keep, Schedule: v.Schedule}
	if v.Schedule != nil {
		o.Next = v.Schedule.Next(v.Now())
	}
	runs, err := v.Runs.ListBackupRuns(ctx, runLimit)
	if err != nil && !errors.Is(err, ErrNoRunLog) {
		return nil, err
	}
	o.Runs = runs
	if withBackups {
		o.Backups, o.BackupsErr = List(ctx, v.Dest)
	}
	return o, nil
}
