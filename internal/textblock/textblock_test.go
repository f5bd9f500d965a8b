package textblock_test

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/uuid"

	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

func TestBlocks(t *testing.T) {
	b := textblock.Blocks{BlockSize: 1024}
	var want, got []string
	for i := range 2000 { // many blocks
		s := fmt.Sprint("opção-", i, strings.Repeat("x", i%40))
		want, got = append(want, s), append(got, b.Copy(s))
		u := uuid.New()
		want, got = append(want, u.String()), append(got, b.UUID(u))
	}
	long := strings.Repeat("y", 100) // over a sixteenth of a block
	want, got = append(want, long, ""), append(got, b.Copy(long), b.Copy(""))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d = %q, want %q", i, got[i], want[i])
		}
	}
	src := []byte("abcd")
	kept := b.Copy(unsafe.String(&src[0], len(src))) // a string over memory that changes
	src[0] = 'X'
	if kept != "abcd" {
		t.Errorf("the copy changed with its source: %q", kept)
	}
	keptBytes := b.CopyBytes(src)
	src[0] = 'Y'
	if keptBytes != "Xbcd" || b.CopyBytes(nil) != "" {
		t.Errorf("CopyBytes = %q, want a copy that stays Xbcd", keptBytes)
	}
}

// Blocks from a Pool hand out the same strings, and again after Release, which
// runs what OnRelease tied to them once; Release of Blocks not from a Pool, or
// of nil, changes no string.
func TestPoolBlocks(t *testing.T) {
	var pool textblock.Pool
	b := pool.Blocks()
	for round := range 3 {
		var want, got []string
		for i := range 5000 { // several blocks of DefaultBlockSize
			s := fmt.Sprint("questão-", round, "-", i, strings.Repeat("z", i%50))
			want, got = append(want, s), append(got, b.Copy(s))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d, string %d = %q, want %q", round, i, got[i], want[i])
			}
		}
		b.Release()
	}
	released := 0
	b.OnRelease(func() { released++ })
	b.Release()
	b.Release()
	if released != 1 {
		t.Errorf("what OnRelease tied ran %d times over two Releases, want once", released)
	}
	var plain textblock.Blocks
	kept := plain.Copy("módulo")
	plain.Release()
	(*textblock.Blocks)(nil).Release()
	if kept != "módulo" {
		t.Errorf("Release of Blocks without a pool changed their string: %q", kept)
	}
}
