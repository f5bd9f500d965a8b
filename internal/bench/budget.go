package bench

// The memory budget: the XL course (about 250 MiB) imported by a server held to
// 1 GiB, as a container's memory limit holds it.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// budgetBytes is the memory the server is held to.
const budgetBytes = 1 << 30

// BudgetResult is the XL course applied by a server held to budgetBytes, once
// over REST and once over gRPC, each on a fresh server.
type BudgetResult struct {
	FileBytes int
	// HeldBy says how the budget was enforced: a cgroup memory limit (the
	// kernel kills the server past it), or nothing (the peak is compared only).
	HeldBy string
	// GoMemLimit is the GOMEMLIMIT the server ran with: 90% of the budget, as
	// contentd sets it from its cgroup.
	GoMemLimit int64
	// PeakREST and PeakGRPC are the server's peak RSS, from its start.
	PeakREST, PeakGRPC int64
	// FailREST and FailGRPC say how an apply failed (empty when it succeeded).
	FailREST, FailGRPC string
}

func (r *runner) measureBudget(ctx context.Context) (*BudgetResult, error) {
	res := &BudgetResult{GoMemLimit: budgetBytes / 10 * 9}
	applies := []struct {
		peak *int64
		fail *string
		run  func(file []byte) error
	}{
		{&res.PeakREST, &res.FailREST, func(file []byte) error { return r.restImport(ctx, "apply", file) }},
		{&res.PeakGRPC, &res.FailGRPC, func(file []byte) error { _, err := r.apply(ctx, file); return err }},
	}
	for i, a := range applies {
		// Each apply imports new content (the seed is in the competency codes),
		// so that it creates everything.
		file, err := coursefile.Marshal(coursegen.Generate(coursegen.XL, uint64(4242+i)))
		if err != nil {
			return nil, err
		}
		res.FileBytes = len(file)
		r.log.Info("measuring the memory budget", "bytes", len(file), "budget", budgetBytes)
		r.stopServer()
		if err := r.startServer(ctx, "GOMEMLIMIT="+strconv.FormatInt(res.GoMemLimit, 10)); err != nil {
			return nil, err
		}
		group, heldBy, err := holdTo(r.server.Pid(), budgetBytes)
		if err != nil {
			r.log.Warn("the server cannot be held to the budget: its peak is only compared with it", "err", err)
		}
		res.HeldBy = heldBy
		if err := a.run(file); err != nil {
			*a.fail = err.Error()
		}
		if *a.peak, err = procStatus(r.server.Pid(), "VmHWM"); err != nil {
			*a.fail = fmt.Sprintf("the server is gone (%v): %s", err, lastLines(r.server.Output(), 5))
		}
		r.stopServer()
		group.remove()
	}
	return res, r.startServer(ctx) // a server as the other measures have it
}

// memoryGroup is a cgroup made for the budget, removed once its process is gone.
type memoryGroup string

func (g memoryGroup) remove() {
	if g != "" {
		_ = os.Remove(string(g))
	}
}

// holdTo moves pid into a new memory cgroup limited to limit bytes (cgroup v2,
// else v1), and says which.
func holdTo(pid int, limit int64) (memoryGroup, string, error) {
	name := fmt.Sprintf("contentbench-%d", os.Getpid())
	v2 := "/sys/fs/cgroup"
	if controllers, err := os.ReadFile(filepath.Join(v2, "cgroup.controllers")); err == nil && strings.Contains(string(controllers), "memory") {
		return join(filepath.Join(v2, name), "memory.max", "cgroup v2 memory.max", pid, limit)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		return join(filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes", "cgroup v1 memory.limit_in_bytes", pid, limit)
	}
	return "", "", errors.New("no cgroup memory controller is mounted")
}

func join(dir, limitFile, heldBy string, pid int, limit int64) (memoryGroup, string, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "", err
	}
	g := memoryGroup(dir)
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
		g.remove()
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		g.remove()
		return "", "", err
	}
	return g, heldBy, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
