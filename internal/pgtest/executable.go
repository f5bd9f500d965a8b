package pgtest

import (
	"os/exec"
	"strings"
	"testing"
)

// WriteExecutable writes script to path as an executable file (a fake pg_dump,
// say) through a child process. Written by the test process itself, the file
// could still be open for writing in the child of another test's fork, which
// then makes running it fail with "text file busy" (golang/go#22315); the
// descriptor of a child process is not inherited by anyone.
func WriteExecutable(t testing.TB, path, script string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "/bin/sh", "-c", `cat > "$1" && chmod 755 "$1"`, "sh", path)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("write %s: %v\n%s", path, err, out)
	}
}
