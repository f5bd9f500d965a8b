package bench

import (
	"fmt"
	"io"
	"time"
)

// Write prints the report as Markdown tables.
func (rep *Report) Write(w io.Writer) {
	fmt.Fprintln(w, "| size | file | apply | COPY in | pg_restore | apply/pg_restore | pg_restore, fresh DB | apply/that | analyze | analyze/apply | export gRPC | export REST | COPY out | pg_dump | export/pg_dump |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range rep.Sizes {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f× | %s | %.2f× | %s | %.2f× | %s | %s | %s | %s | %.2f× |\n",
			s.Size, mib(int64(s.FileBytes)),
			ms(s.Apply), ms(s.CopyIn), ms(s.PGRestoreInPlace), ratio(s.Apply, s.PGRestoreInPlace), ms(s.PGRestore), ratio(s.Apply, s.PGRestore),
			ms(s.Analyze), ratio(s.Analyze, s.Apply),
			ms(s.ExportGRPC), ms(s.ExportREST), ms(s.CopyOut), ms(s.PGDump), ratio(max(s.ExportGRPC, s.ExportREST), s.PGDump))
	}
	fmt.Fprintln(w, "\npg_restore is of the course's rows into the service's own database, once the applied rows are deleted: the")
	fmt.Fprintln(w, "database as the apply found it. pg_restore, fresh DB, and COPY in are into a new migrated database.")
	fmt.Fprintln(w, "\nThe same ratios in each repetition (lowest–highest), its steps taken within seconds of each other:")
	fmt.Fprintln(w, "\n| size | repetitions | apply/pg_restore | apply/pg_restore, fresh DB | analyze/apply | export/pg_dump |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range rep.Sizes {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", s.Size, len(s.Reps),
			spread(s.Reps, func(r RepTimes) float64 { return ratio(r.Apply, r.PGRestoreInPlace) }),
			spread(s.Reps, func(r RepTimes) float64 { return ratio(r.Apply, r.PGRestore) }),
			spread(s.Reps, func(r RepTimes) float64 { return ratio(r.Analyze, r.Apply) }),
			spread(s.Reps, func(r RepTimes) float64 { return ratio(max(r.ExportGRPC, r.ExportREST), r.PGDump) }))
	}
	fmt.Fprintln(w, "\nPeak RSS above idle, and over the file size:")
	fmt.Fprintln(w, "\n| size | apply gRPC | apply REST | analyze gRPC | analyze REST | export gRPC | export REST |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range rep.Sizes {
		fmt.Fprintf(w, "| %s | %s (%.1f×) | %s (%.1f×) | %s (%.1f×) | %s (%.1f×) | %s (%.1f×) | %s (%.1f×) |\n", s.Size,
			mib(s.PeakApply), perFile(s.PeakApply, s.FileBytes), mib(s.PeakApplyREST), perFile(s.PeakApplyREST, s.FileBytes),
			mib(s.PeakAnalyze), perFile(s.PeakAnalyze, s.FileBytes), mib(s.PeakAnalyzeREST), perFile(s.PeakAnalyzeREST, s.FileBytes),
			mib(s.PeakExportGRPC), perFile(s.PeakExportGRPC, s.FileBytes), mib(s.PeakREST), perFile(s.PeakREST, s.FileBytes))
	}
	if b := rep.Budget; b != nil {
		held := b.HeldBy
		if held == "" {
			held = "nothing (no cgroup could be made): the peak is only compared with the budget"
		}
		fmt.Fprintf(w, "\nThe XL course (%s) applied by a server held to %s (by %s; GOMEMLIMIT %s), each on a fresh server:\n\n",
			mib(int64(b.FileBytes)), mib(budgetBytes), held, mib(b.GoMemLimit))
		fmt.Fprintln(w, "| apply | peak RSS of the server | within the budget |")
		fmt.Fprintln(w, "| --- | ---: | --- |")
		for _, a := range []struct {
			name, fail string
			peak       int64
		}{{"REST", b.FailREST, b.PeakREST}, {"gRPC", b.FailGRPC, b.PeakGRPC}} {
			verdict := "✅"
			switch {
			case a.fail != "":
				verdict = "❌ " + a.fail
			case a.peak > budgetBytes:
				verdict = "❌"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", a.name, mib(a.peak), verdict)
		}
	}
	if t := rep.Throughput; t != nil {
		fmt.Fprintf(w, "\nExport of the S course, %d concurrent clients, %d rounds of a run of %s each (gRPC, REST, pgbench, then pgbench, REST, gRPC…):\n\n",
			t.Clients, t.Rounds, t.Duration)
		fmt.Fprintln(w, "| path | exports/s | vs pgbench | CPU per export: server | clients | PostgreSQL | the server's reads, writes, voluntary and other context switches per export |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, row := range []struct {
			path   string
			rate   float64
			cpu    CPUUse
			server bool
		}{{"gRPC", t.GRPC, t.CPUGRPC, true}, {"REST", t.REST, t.CPUREST, true},
			{fmt.Sprintf("pgbench, the export's SQL (%d transactions)", t.PGBenchTransactions), t.PGBench, t.CPUPGBench, false}} {
			server, calls := "–", "–" // the server is idle while pgbench runs
			if row.server {
				k := row.cpu.ServerKernel
				server, calls = cpuCell(row.cpu.Server), fmt.Sprintf("%.1f, %.1f, %.1f, %.1f", k.Reads, k.Writes, k.Voluntary, k.Involuntary)
			}
			fmt.Fprintf(w, "| %s | %.1f | %.0f%% | %s | %s | %s | %s |\n", row.path, row.rate, 100*row.rate/t.PGBench,
				server, cpuCell(row.cpu.Clients), cpuCell(row.cpu.Postgres), calls)
		}
		lowGRPC, highGRPC := roundRatios(t.ByRound, func(r RoundRates) float64 { return r.GRPC })
		lowREST, highREST := roundRatios(t.ByRound, func(r RoundRates) float64 { return r.REST })
		fmt.Fprintf(w, "\nEach round's rate over its own pgbench run, lowest–highest: gRPC %.0f–%.0f%%, REST %.0f–%.0f%%.\n",
			lowGRPC, highGRPC, lowREST, highREST)
	}
	fmt.Fprintln(w, "\nTimes are medians on a warm server. Peak RSS is measured on a freshly started server per operation: its peak")
	fmt.Fprintln(w, "during the call above its RSS at rest before it, and in brackets that over the file size.")
}

// roundRatios are the lowest and highest of rate over pgbench's rate, in %,
// among rounds.
func roundRatios(rounds []RoundRates, rate func(RoundRates) float64) (low, high float64) {
	for i, r := range rounds {
		ratio := 100 * rate(r) / r.PGBench
		if i == 0 || ratio < low {
			low = ratio
		}
		if i == 0 || ratio > high {
			high = ratio
		}
	}
	return low, high
}

// cpuCell is a CPU time per export, in µs.
func cpuCell(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// spread is the lowest and highest of a ratio over the repetitions.
func spread(reps []RepTimes, of func(RepTimes) float64) string {
	if len(reps) == 0 {
		return "–"
	}
	lo, hi := of(reps[0]), of(reps[0])
	for _, r := range reps[1:] {
		lo, hi = min(lo, of(r)), max(hi, of(r))
	}
	return fmt.Sprintf("%.2f–%.2f×", lo, hi)
}

func perFile(peak int64, file int) float64 { return float64(peak) / float64(file) }
