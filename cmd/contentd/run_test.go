package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/educacao-continuada/content-transfer/internal/syncbuf"
)

// repoRoot is the checkout, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// runEnv is make run's environment: its own data folder and ports, no
// database or keys of the caller's.
func runEnv(t *testing.T) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "SUPABASE_") {
			env = append(env, kv)
		}
	}
	// A folder the postgres user can reach, so that the cluster lives in it
	// and goes with it.
	data, err := os.MkdirTemp("", "contentd-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	return append(env, "DATA_DIR="+data, "HTTP_PORT="+freePort(t), "GRPC_PORT="+freePort(t))
}

// waitOutput waits for want in out, while the command has not ended (exited
// is closed when it has).
func waitOutput(t *testing.T, out *syncbuf.Buffer, exited <-chan struct{}, want string) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), want) {
		select {
		case <-exited:
			if !strings.Contains(out.String(), want) {
				t.Fatalf("it ended without %q:\n%s", want, out.String())
			}
			return
		case <-deadline:
			t.Fatalf("no %q in:\n%s", want, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// started starts cmd and returns a channel closed when it has ended, and its result.
func started(t *testing.T, cmd *exec.Cmd, start func() error) (<-chan struct{}, *error) {
	t.Helper()
	if err := start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var err error
	go func() { err = cmd.Wait(); close(exited) }()
	return exited, &err
}

// The two tests of make run are not parallel: each builds bin/, which is one
// for the checkout.

// TestMakeRunEndsWellOnCtrlC runs make run in a terminal, as a newcomer does,
// and presses Ctrl-C: everything stops and make exits 0.
func TestMakeRunEndsWellOnCtrlC(t *testing.T) {
	cmd := exec.Command("make", "-s", "run")
	cmd.Dir, cmd.Env = repoRoot(t), runEnv(t)
	var tty *os.File
	exited, result := started(t, cmd, func() (err error) { tty, err = pty.Start(cmd); return err })
	defer tty.Close()
	out := &syncbuf.Buffer{}
	go func() { _, _ = io.Copy(out, tty) }()
	waitOutput(t, out, exited, "Ctrl-C stops the server and the local PostgreSQL.")
	if _, err := tty.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	<-exited
	if *result != nil {
		t.Fatalf("make run after Ctrl-C: %v\n%s", *result, out.String())
	}
	waitOutput(t, out, exited, "stopping the local PostgreSQL")
}

// TestMakeRunWritesPlainTextToALog: with its output going to a file (no
// terminal), make run writes no terminal codes, and SIGTERM ends it well.
func TestMakeRunWritesPlainTextToALog(t *testing.T) {
	build := exec.Command("make", "-s", "build")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "run.sh"))
	cmd.Dir, cmd.Env = repoRoot(t), runEnv(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	exited, result := started(t, cmd, cmd.Start)
	waitOutput(t, out, exited, "Ctrl-C stops the server")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-exited
	if *result != nil {
		t.Fatalf("run.sh after SIGTERM: %v\n%s", *result, out.String())
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("terminal codes in a log:\n%q", out.String())
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "==> stopping the local PostgreSQL") {
			return
		}
	}
	t.Errorf("the local PostgreSQL was not stopped:\n%s", out.String())
}
