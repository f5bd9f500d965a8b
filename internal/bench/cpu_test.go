package bench

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// TestProcCPUReadsThisProcessAndItsChildren burns CPU and runs a child: the
// process's time grows by about what it burnt, and the child is among its
// children until it has exited.
func TestProcCPUReadsThisProcessAndItsChildren(t *testing.T) {
	before, err := procCPU(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		x++
	}
	after, err := procCPU(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("200 ms of spinning read as %v of CPU (%d turns)", d, x)
	}
	child := exec.Command("sleep", "5")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill() //nolint:errcheck // the child is waited for below
	if kids := childrenOf(os.Getpid()); !slices.Contains(kids, child.Process.Pid) {
		t.Errorf("children %v lack %d", kids, child.Process.Pid)
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	if kids := childrenOf(os.Getpid()); slices.Contains(kids, child.Process.Pid) {
		t.Errorf("children %v still hold %d after it exited", kids, child.Process.Pid)
	}
}
