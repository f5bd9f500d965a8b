package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// served is a `contentd serve` process and its JSON log lines.
type served struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan map[string]any
	mu    sync.Mutex
	raw   bytes.Buffer
}

// startServe starts `contentd serve` on loopback ports with env added to ours.
func startServe(t *testing.T, bin string, env ...string) *served {
	t.Helper()
	s := &served{t: t, cmd: exec.Command(bin, "serve"), lines: make(chan map[string]any, 1000)}
	s.cmd.Env = append(append(os.Environ(), "SUPABASE_JWT_SECRET="+jwtSecret, "GRPC_ADDR=127.0.0.1:0", "HTTP_ADDR=127.0.0.1:0",
		"SHUTDOWN_TIMEOUT=5s"), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.raw.Write(append(sc.Bytes(), '\n'))
			s.mu.Unlock()
			var entry map[string]any
			if json.Unmarshal(sc.Bytes(), &entry) == nil {
				s.lines <- entry
			}
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			for range s.lines {
			}
			_ = s.cmd.Wait()
		}
	})
	return s
}

func (s *served) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// waitFor waits up to 20 s for the next log line with the message and returns it.
func (s *served) waitFor(msg string) map[string]any {
	s.t.Helper()
	return s.waitUntil(msg, time.Now().Add(20*time.Second))
}

// waitUntil waits until deadline for the next log line with the message.
func (s *served) waitUntil(msg string, deadline time.Time) map[string]any {
	s.t.Helper()
	timeout := time.After(time.Until(deadline))
	for {
		select {
		case entry, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("contentd ended before logging %q:\n%s", msg, s.log())
			}
			if entry["msg"] == msg {
				return entry
			}
		case <-timeout:
			s.t.Fatalf("no %q log line:\n%s", msg, s.log())
		}
	}
}

// stop sends SIGTERM and returns the exit error.
func (s *served) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return s.wait()
}

// wait waits for the process to end and returns its exit error.
func (s *served) wait() error {
	for range s.lines { // drain to EOF so Wait can finish
	}
	return s.cmd.Wait()
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeWaitsForTheDatabase: the database is down when serve starts. serve
// starts anyway, says so, is not ready, retries with backoff, and is ready
// (and serves) once the database comes up, without a restart.
func TestServeWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cluster, url := pgtest.NewCluster(t)
	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, bin, "DATABASE_URL="+url, "READINESS_INTERVAL=1s")
	warn := s.waitFor("database unreachable: not ready; retrying with backoff")
	if warn["level"] != "WARN" {
		t.Errorf("the outage is logged at %v", warn["level"])
	}
	serving := s.waitFor("serving")
	api := "http://" + serving["http"].(string)
	if code := get(t, api+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz without the database = %d, want 503", code)
	}
	if code := get(t, api+"/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz without the database = %d, want 200 (alive, do not restart)", code)
	}
	token, err := runCmd(t, bin, url, "dev-token", "-role", "gestor", "-ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	if code := get(t, api+"/gestor/courses", token); code != http.StatusServiceUnavailable {
		t.Errorf("a call without the database = %d, want 503", code)
	}

	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	s.waitFor("database reachable: ready")
	if code := get(t, api+"/readyz", ""); code != http.StatusOK {
		t.Errorf("readyz with the database back = %d", code)
	}
	if code := get(t, api+"/gestor/courses", token); code != http.StatusOK {
		t.Errorf("a call with the database back = %d", code)
	}
	if err := s.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, s.log())
	}
}
