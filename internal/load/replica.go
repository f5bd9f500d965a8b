package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/syncbuf"
)

// Replica is a `contentd serve` process on loopback ports.
type Replica struct {
	// URL is the base URL of its REST gateway; GRPCAddr is its gRPC address.
	URL, GRPCAddr string
	cmd           *exec.Cmd
	out           syncbuf.Buffer
}

// StartReplica starts `contentd serve` from the binary with env added to ours
// (DATABASE_URL, SUPABASE_JWT_SECRET, …) on free loopback ports, and waits until
// it is ready.
func StartReplica(ctx context.Context, bin string, env ...string) (*Replica, error) {
	grpcAddr, httpAddr, err := freeAddrs()
	if err != nil {
		return nil, err
	}
	r := &Replica{URL: "http://" + httpAddr, GRPCAddr: grpcAddr, cmd: exec.Command(bin, "serve")}
	r.cmd.Env = append(append(os.Environ(), "GRPC_ADDR="+grpcAddr, "HTTP_ADDR="+httpAddr, "LOG_LEVEL=warn"), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/readyz", nil)
		if err != nil {
			return nil, err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = r.Stop()
	return nil, fmt.Errorf("contentd serve did not become ready:\n%s", r.Output())
}

// Stop sends SIGTERM and waits for the process.
func (r *Replica) Stop() error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return r.cmd.Wait()
}

// Pid is the process's id.
func (r *Replica) Pid() int { return r.cmd.Process.Pid }

// Output is what the process wrote.
func (r *Replica) Output() string { return r.out.String() }

func freeAddrs() (string, string, error) {
	var addrs []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs[0], addrs[1], nil
}
