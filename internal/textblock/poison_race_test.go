//go:build race

package textblock_test

import (
	"strings"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// In the race detector's builds (make test), a string used after its Blocks'
// Release no longer reads as its text: the tests of whatever keeps one see it.
func TestReleasedStringsArePoisoned(t *testing.T) {
	var pool textblock.Pool
	b := pool.Blocks()
	s := b.Copy("Segurança do Trabalho")
	b.Release()
	if s != strings.Repeat("\xff", len("Segurança do Trabalho")) {
		t.Errorf("a released string reads %q, want 0xFF bytes", s)
	}
}
