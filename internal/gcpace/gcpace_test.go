package gcpace_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/bytedance/gopkg/util/gctuner"

	"github.com/educacao-continuada/content-transfer/internal/gcpace"
)

func TestThreshold(t *testing.T) {
	for limit, want := range map[int64]int64{math.MaxInt64: 64 << 20, 1 << 30: 64 << 20, 256 << 20: 32 << 20} {
		if got := gcpace.Threshold(limit); got != want {
			t.Errorf("Threshold(%d MiB) = %d MiB, want %d MiB", limit>>20, got>>20, want>>20)
		}
	}
}

// TestTuneRaisesGOGCForASmallHeapOnly runs the collector with a heap in use
// far under the threshold, then with more than the threshold held.
func TestTuneRaisesGOGCForASmallHeapOnly(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	if got := gcpace.Tune(); got != 64<<20 {
		t.Fatalf("Tune() = %d MiB, want 64 MiB without a memory limit", got>>20)
	}
	defer gcpace.Stop()
	waitForGOGC := func(ok func(uint32) bool) uint32 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC() // the tuner runs after each collection, from a finalizer
			time.Sleep(10 * time.Millisecond)
			if p := gctuner.GetGCPercent(); ok(p) || time.Now().After(deadline) {
				return p
			}
		}
	}
	if p := waitForGOGC(func(p uint32) bool { return p > gcpace.Percent }); p <= gcpace.Percent {
		t.Fatalf("GOGC = %d with a small heap, want more than %d", p, gcpace.Percent)
	}
	held := make([]byte, 96<<20)
	for i := range held {
		held[i] = 1 // in use, not only reserved
	}
	if p := waitForGOGC(func(p uint32) bool { return p == gcpace.Percent }); p != gcpace.Percent {
		t.Fatalf("GOGC = %d with %d MiB held, want %d", p, len(held)>>20, gcpace.Percent)
	}
	runtime.KeepAlive(held)
}
