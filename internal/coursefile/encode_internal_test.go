package coursefile

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// hasEscape must find exactly the words with a byte that mustEscape marks.
func TestHasEscapeFindsEveryByteToEscape(t *testing.T) {
	for _, filler := range []byte{'a', ' ', 0x7f, 0x80, 0xc3, 0xff} {
		for c := range 256 {
			for at := range 8 {
				w := []byte(strings.Repeat(string([]byte{filler}), 8))
				w[at] = byte(c)
				if got, want := hasEscape(word(string(w))), mustEscape[c] || mustEscape[filler]; got != want {
					t.Fatalf("hasEscape(% x) = %v, want %v", w, got, want)
				}
			}
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "word")
		want := false
		for _, c := range w {
			want = want || mustEscape[c]
		}
		if got := hasEscape(word(string(w))); got != want {
			t.Fatalf("hasEscape(% x) = %v, want %v", w, got, want)
		}
	})
}

// newline indents by two spaces per depth, within and beyond maxIndent.
func TestNewlineIndentsTwoSpacesPerDepth(t *testing.T) {
	for _, depth := range []int{0, 1, 9, maxIndent, maxIndent + 1, 3 * maxIndent} {
		e := &encoder{depth: depth}
		e.newline()
		if want := "\n" + strings.Repeat("  ", depth); string(e.buf) != want {
			t.Errorf("depth %d: newline wrote %d bytes, want %d", depth, len(e.buf), len(want))
		}
	}
}

// needsEscape must find a byte to escape wherever it is in a string of any
// length, the overlapping last word included.
func TestNeedsEscapeFindsEveryByteToEscape(t *testing.T) {
	for n := range 40 {
		for at := range n {
			for _, c := range []byte{0, '\n', 0x1f, '"', '\\'} {
				s := []byte(strings.Repeat("ç", n)[:n]) // multi-byte characters, cut anywhere
				s[at] = c
				if !needsEscape(string(s)) {
					t.Fatalf("needsEscape(%q) = false", s)
				}
			}
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.SliceOfN(rapid.Byte(), 0, 70).Draw(t, "s")
		want := false
		for _, c := range s {
			want = want || mustEscape[c]
		}
		if got := needsEscape(string(s)); got != want {
			t.Fatalf("needsEscape(%q) = %v, want %v", s, got, want)
		}
	})
}
