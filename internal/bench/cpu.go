package bench

// The CPU that each party of a throughput run uses: the server, the clients
// and PostgreSQL, which share the machine's cores.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUUse is CPU time used by the server process, by this process and the
// programs it ran (the clients, pgbench), and by PostgreSQL's processes; and
// what the server asked of the kernel meanwhile.
type CPUUse struct {
	Server, Clients, Postgres time.Duration
	ServerKernel              KernelCalls
}

// KernelCalls counts a process's calls of read and write system calls
// (/proc/PID/io's syscr and syscw, every thread's, those that exited too), and
// its threads' context switches, voluntary (a thread that waits: for the
// network, a futex, a sleep) and not (one that the kernel preempts), from
// /proc/PID/task/*/status. On a machine that the server shares with
// PostgreSQL, each of them costs the others' CPU too; unlike times, they do not
// move with the machine's speed.
type KernelCalls struct {
	Reads, Writes, Voluntary, Involuntary float64
}

func (a KernelCalls) sub(b KernelCalls) KernelCalls {
	return KernelCalls{a.Reads - b.Reads, a.Writes - b.Writes, a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary}
}

func (a KernelCalls) add(b KernelCalls) KernelCalls {
	return KernelCalls{a.Reads + b.Reads, a.Writes + b.Writes, a.Voluntary + b.Voluntary, a.Involuntary + b.Involuntary}
}

func (a KernelCalls) per(n int) KernelCalls {
	f := float64(n)
	return KernelCalls{a.Reads / f, a.Writes / f, a.Voluntary / f, a.Involuntary / f}
}

func (a CPUUse) sub(b CPUUse) CPUUse {
	return CPUUse{Server: a.Server - b.Server, Clients: a.Clients - b.Clients, Postgres: a.Postgres - b.Postgres,
		ServerKernel: a.ServerKernel.sub(b.ServerKernel)}
}

func (a CPUUse) add(b CPUUse) CPUUse {
	return CPUUse{Server: a.Server + b.Server, Clients: a.Clients + b.Clients, Postgres: a.Postgres + b.Postgres,
		ServerKernel: a.ServerKernel.add(b.ServerKernel)}
}

// per is the CPU of each party, and the server's calls, for one of n calls.
func (a CPUUse) per(n int) CPUUse {
	if n == 0 {
		return CPUUse{}
	}
	return CPUUse{Server: a.Server / time.Duration(n), Clients: a.Clients / time.Duration(n), Postgres: a.Postgres / time.Duration(n),
		ServerKernel: a.ServerKernel.per(n)}
}

// cpuNow reads the CPU used so far. PostgreSQL's is the postmaster's, its
// backends' and, through the postmaster's children's times, that of the
// backends that have exited (pgbench's connections end with its run).
func (r *runner) cpuNow() (CPUUse, error) {
	var u CPUUse
	var err error
	if u.Server, err = procCPU(r.server.Pid(), false); err != nil {
		return u, err
	}
	if u.ServerKernel, err = kernelCalls(r.server.Pid()); err != nil {
		return u, err
	}
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return u, err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		return u, err
	}
	u.Clients = rusageCPU(self) + rusageCPU(children)
	postmaster, err := r.cluster.ServerPID()
	if err != nil {
		return u, err
	}
	if u.Postgres, err = procCPU(postmaster, true); err != nil {
		return u, err
	}
	for _, pid := range childrenOf(postmaster) {
		if d, err := procCPU(pid, false); err == nil { // one may have just exited
			u.Postgres += d
		}
	}
	return u, nil
}

func rusageCPU(u syscall.Rusage) time.Duration {
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// userHZ is the unit of the times in /proc/PID/stat, fixed by Linux's ABI.
const userHZ = 100

// procCPU reads the user and system time of pid from /proc/PID/stat, and
// with children that of its children that have exited and been waited for.
func procCPU(pid int, children bool) (time.Duration, error) {
	fields, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	// After the command's ")": state is field 3, utime 14, stime 15,
	// cutime 16, cstime 17 (proc(5)); fields[0] is field 3.
	last := 15
	if children {
		last = 17
	}
	var ticks int64
	for i := 14; i <= last; i++ {
		n, err := strconv.ParseInt(fields[i-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat field %d: %w", pid, i, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// kernelCalls reads pid's KernelCalls so far.
func kernelCalls(pid int) (KernelCalls, error) {
	var k KernelCalls
	calls, err := procFields(fmt.Sprintf("/proc/%d/io", pid), "syscr:", "syscw:")
	if err != nil {
		return k, err
	}
	k.Reads, k.Writes = calls[0], calls[1]
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/[0-9]*/status", pid))
	if err != nil {
		return k, err
	}
	for _, path := range tasks {
		switches, err := procFields(path, "voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")
		if err != nil {
			continue // a thread that has just exited
		}
		k.Voluntary += switches[0]
		k.Involuntary += switches[1]
	}
	return k, nil
}

// procFields reads the values of the named lines ("name:   value") of a file
// of /proc, in the order of names.
func procFields(path string, names ...string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(names))
	found := 0
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		if i := slices.Index(names, fields[0]); i >= 0 {
			if out[i], err = strconv.ParseFloat(fields[1], 64); err != nil {
				return nil, fmt.Errorf("%s: %s %w", path, fields[0], err)
			}
			found++
		}
	}
	if found != len(names) {
		return nil, fmt.Errorf("%s: want %v, found %d of them", path, names, found)
	}
	return out, nil
}

// procStat returns the fields of /proc/PID/stat after the command's name.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 15 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	return fields, nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		child, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		fields, err := procStat(child)
		if err != nil || fields[1] != strconv.Itoa(pid) { // field 4, the parent
			continue
		}
		out = append(out, child)
	}
	return out
}
