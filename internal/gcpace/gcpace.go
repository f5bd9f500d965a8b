// Package gcpace sets the garbage collector's pace of contentd: GOGC 50, so
// that an import, which holds a parsed course as large as its file, peaks near
// twice the file; and, in serve, more room for a small heap, which exports of
// small courses fill with garbage fast while holding little.
package gcpace

import (
	"runtime/debug"

	"github.com/bytedance/gopkg/util/gctuner"
)

// Percent is contentd's GOGC when GOGC is not set.
const Percent = 50

// most is the largest threshold.
const most = 64 << 20

// Threshold is the heap in use below which Tune lets garbage grow past GOGC
// Percent: 64 MiB, or an eighth of the memory limit when that is less. A large
// import holds far more, and is collected at Percent as before.
func Threshold(memoryLimit int64) int64 {
	return min(most, memoryLimit/8)
}

// Tune sets GOGC after each collection so that the next one comes when the heap
// in use reaches the threshold for the current memory limit (Threshold), with
// GOGC between Percent and 500: past the threshold, GOGC is Percent (gctuner,
// after Uber's GC tuning). It returns the threshold. An S export takes a third
// less CPU with it (docs/benchmarks.md).
func Tune() int64 {
	debug.SetGCPercent(Percent)
	gctuner.SetMinGCPercent(Percent)
	t := Threshold(debug.SetMemoryLimit(-1))
	gctuner.Tuning(uint64(t))
	return t
}

// Stop stops Tune and sets GOGC back to Percent.
func Stop() {
	gctuner.Tuning(0)
	debug.SetGCPercent(Percent)
}
