package bench

// The server under measure: its own contentd serve process, and the peak memory it reaches.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/educacao-continuada/content-transfer/internal/load"
)

// startServer starts contentd serve on free ports, with env added to the
// bench's, and connects to it.
func (r *runner) startServer(ctx context.Context, env ...string) error {
	var err error
	r.server, err = load.StartReplica(ctx, r.opt.Contentd, append([]string{
		"DATABASE_URL=" + r.cluster.URL(benchDB), "SUPABASE_JWT_SECRET=" + r.secret,
		"MAX_REQUEST_BYTES=" + strconv.Itoa(maxRequest), "IMPORT_TIMEOUT=30m", "RPC_TIMEOUT=30m",
		"DB_MAX_CONNS=20",
	}, env...)...)
	if err != nil {
		return err
	}
	r.conn, err = grpc.NewClient(r.server.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		return err
	}
	return nil
}

func (r *runner) stopServer() {
	if r.conn != nil {
		r.conn.Close()
	}
	if r.server != nil {
		_ = r.server.Stop()
	}
}

// peakOnFreshServer runs fn on a newly started server and returns its peak RSS
// above the RSS it had at rest before fn: what fn needs, not what earlier calls
// left in the heap.
func (r *runner) peakOnFreshServer(ctx context.Context, fn func() error) (int64, error) {
	r.stopServer()
	if err := r.startServer(ctx); err != nil {
		return 0, err
	}
	_, peak, err := measure(r.server.Pid(), fn)
	return peak, err
}

// measure times fn and reads the server's peak RSS during it, above its RSS before.
func measure(pid int, fn func() error) (time.Duration, int64, error) {
	idle, err := resetPeak(pid)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := fn(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	return d, peak - idle, nil
}

// resetPeak resets the peak RSS (VmHWM) of pid to its current RSS, which it returns.
func resetPeak(pid int) (int64, error) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("reset peak RSS: %w", err)
	}
	return procStatus(pid, "VmRSS")
}

// procStatus reads a kB field of /proc/pid/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}
