package pgtools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stderrLimit bounds what is kept of a program's error output: its last lines
// say what went wrong.
const stderrLimit = 8 << 10

// stopGrace is how long a cancelled program gets to end after SIGTERM.
const stopGrace = 10 * time.Second

// Run runs the tool with args. conn, when not nil, is the database it talks to:
// its password goes in the environment and is scrubbed from any error. stdin and
// stdout may be nil; an *os.File is handed over as is, so that pg_dump can seek
// in a file and write a complete table of contents. A cancelled ctx stops the
// program with SIGTERM, then SIGKILL.
func (t Tool) Run(ctx context.Context, conn *Conn, stdin io.Reader, stdout io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, t.Path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	cmd.Env = childEnv()
	if conn != nil {
		cmd.Env = append(cmd.Env, conn.env("contentd-"+t.Name)...)
	}
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	stderr := &tailBuffer{limit: stderrLimit}
	cmd.Stderr = stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s stopped: %w", t.Name, ctxErr)
	}
	msg := strings.TrimSpace(stderr.String())
	if conn != nil {
		msg = conn.Scrub(msg)
	}
	if msg == "" {
		msg = err.Error()
	}
	return &ToolError{Tool: t.Name, Output: msg, Err: err}
}

// ToolError is a client program that failed; Output is the end of what it
// printed, without the password.
type ToolError struct {
	Tool   string
	Output string
	Err    error
}

func (e *ToolError) Error() string { return e.Tool + " failed: " + e.Output }

func (e *ToolError) Unwrap() error { return e.Err }

// childEnv is this process's environment with messages in English: operators
// read them in logs, and the routine recognises a few.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LC_ALL=") && !strings.HasPrefix(kv, "LC_MESSAGES=") && !strings.HasPrefix(kv, "LANGUAGE=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_MESSAGES=C")
}

// OutputOf returns the output of the program behind err, if a program failed.
func OutputOf(err error) string {
	var te *ToolError
	if errors.As(err, &te) {
		return te.Output
	}
	return ""
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	limit int
	buf   bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.buf.Write(p)
	if extra := b.buf.Len() - b.limit; extra > 0 {
		b.buf.Next(extra)
	}
	return n, nil
}

func (b *tailBuffer) String() string { return b.buf.String() }
