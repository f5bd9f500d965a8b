package bench

import (
	"strings"
	"testing"
	"time"
)

// TestWriteShowsTheSpreadOfEachRepetition: the medians' ratio sits beside the
// lowest and highest ratio of the repetitions, each paired within its own, the
// apply's over both of its pg_restore baselines.
func TestWriteShowsTheSpreadOfEachRepetition(t *testing.T) {
	s := time.Second
	rep := &Report{Sizes: []SizeResult{{
		Size: "L", Apply: 12 * s / 10, Analyze: s, ExportGRPC: s, ExportREST: s, PGRestore: s, PGRestoreInPlace: s, PGDump: s,
		Reps: []RepTimes{
			{Apply: 11 * s / 10, Analyze: s, ExportGRPC: s, ExportREST: 9 * s / 10, PGRestore: s, PGRestoreInPlace: s, PGDump: s},
			{Apply: 3 * s, Analyze: 3 * s, ExportGRPC: 2 * s, ExportREST: 2 * s, PGRestore: 2 * s, PGRestoreInPlace: 3 * s, PGDump: 2 * s},
			{Apply: 13 * s / 10, Analyze: 13 * s / 10, ExportGRPC: 12 * s / 10, ExportREST: s, PGRestore: s, PGRestoreInPlace: 2 * s, PGDump: s},
		},
	}}}
	var out strings.Builder
	rep.Write(&out)
	if want := "| L | 3 | 0.65–1.10× | 1.10–1.50× | 0.91–1.00× | 1.00–1.20× |"; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}

// TestWriteShowsEachRoundOverItsOwnPGBench: the throughput's rates over all
// rounds sit beside the lowest and highest ratio of a round's rate to the
// pgbench run of the same round.
func TestWriteShowsEachRoundOverItsOwnPGBench(t *testing.T) {
	rep := &Report{Throughput: &Throughput{
		Clients: 16, Duration: 4 * time.Second, Rounds: 2, GRPC: 450, REST: 400, PGBench: 500,
		CPUGRPC: CPUUse{Server: 1500 * time.Microsecond, ServerKernel: KernelCalls{Reads: 18, Writes: 9.25, Voluntary: 11, Involuntary: 6}},
		ByRound: []RoundRates{{GRPC: 500, REST: 300, PGBench: 625}, {GRPC: 400, REST: 500, PGBench: 375}},
	}}
	var out strings.Builder
	rep.Write(&out)
	for _, want := range []string{
		"16 concurrent clients, 2 rounds of a run of 4s each",
		"| gRPC | 450.0 | 90% | 1500 µs | 0 µs | 0 µs | 18.0, 9.2, 11.0, 6.0 |",
		"| REST | 400.0 | 80% |",
		"gRPC 80–107%, REST 48–133%.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
