package bench

import (
	"strings"
	"testing"
	"time"
)

// TestWriteShowsTheSpreadOfEachRepetition: the medians' ratio sits beside the
// lowest and highest ratio of the repetitions, each paired within its own.
func TestWriteShowsTheSpreadOfEachRepetition(t *testing.T) {
	s := time.Second
	rep := &Report{Sizes: []SizeResult{{
		Size: "L", Apply: 12 * s / 10, Analyze: s, ExportGRPC: s, ExportREST: s, PGRestore: s, PGDump: s,
		Reps: []RepTimes{
			{Apply: 11 * s / 10, Analyze: s, ExportGRPC: s, ExportREST: 9 * s / 10, PGRestore: s, PGDump: s},
			{Apply: 3 * s, Analyze: 3 * s, ExportGRPC: 2 * s, ExportREST: 2 * s, PGRestore: 2 * s, PGDump: 2 * s},
			{Apply: 13 * s / 10, Analyze: 13 * s / 10, ExportGRPC: 12 * s / 10, ExportREST: s, PGRestore: s, PGDump: s},
		},
	}}}
	var out strings.Builder
	rep.Write(&out)
	if want := "| L | 3 | 1.10–1.50× | 0.91–1.00× | 1.00–1.20× |"; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}
