package bench

import (
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestProcCPUReadsThisProcessAndItsChildren burns CPU and runs a child: the
// process's time in /proc grows by what getrusage says it burnt, and the child
// is among its children until it has exited.
func TestProcCPUReadsThisProcessAndItsChildren(t *testing.T) {
	self := func() time.Duration {
		var u syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
			t.Fatal(err)
		}
		return rusageCPU(u)
	}
	before, err := procCPU(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	start, x := self(), 0
	for deadline := time.Now().Add(time.Minute); self()-start < 300*time.Millisecond && time.Now().Before(deadline); {
		x++ // spin until 300 ms of CPU, however busy the machine
	}
	burnt := self() - start
	after, err := procCPU(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in ticks of 10 ms, and the test's other goroutines run too.
	if d := after - before; d < burnt-50*time.Millisecond || d > burnt+200*time.Millisecond {
		t.Errorf("%v of CPU by getrusage (%d turns) read as %v in /proc", burnt, x, d)
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

// TestKernelCallsCountThisProcess: writes and reads of this process, and the
// waits of one of its threads, show in its counts.
func TestKernelCallsCountThisProcess(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before, err := kernelCalls(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	for range 100 {
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		time.Sleep(time.Millisecond) // a thread waits, for the runtime's timer
	}
	after, err := kernelCalls(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	d := after.sub(before)
	if d.Writes < 100 || d.Reads < 100 || d.Voluntary < 10 {
		t.Errorf("100 writes, 100 reads and 20 sleeps counted as %+v", d)
	}
}
