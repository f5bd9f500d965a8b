// Package textblock keeps many short strings in shared blocks of memory: one
// allocation per block instead of one per string, and none rounded up to a
// size class. A large course has hundreds of thousands of short strings (ids,
// titles, options). A block lives as long as any of its strings, so the strings
// of one Blocks should live about as long as each other.
package textblock

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// DefaultBlockSize is the size of a block when Blocks.BlockSize is zero.
const DefaultBlockSize = 64 << 10

// Blocks hands out strings copied into its current block. The zero value is
// ready to use. It is not safe for concurrent use.
type Blocks struct {
	// BlockSize is the size of each block; DefaultBlockSize when zero. A
	// string longer than a sixteenth of it gets its own allocation.
	BlockSize int
	block     []byte
}

// Copy returns a copy of s that does not share memory with s.
func (b *Blocks) Copy(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > b.size()/16 {
		return strings.Clone(s)
	}
	dst := b.take(len(s))
	copy(dst, s)
	return unsafe.String(&dst[0], len(dst))
}

// CopyBytes returns p as a string that does not share memory with p: a
// database driver's buffer, valid only until its next read.
func (b *Blocks) CopyBytes(p []byte) string {
	return b.Copy(unsafe.String(unsafe.SliceData(p), len(p)))
}

// UUID returns the text of u as PostgreSQL writes it: lower case, with dashes.
// Each byte becomes its two digits in one step, from a table: an export writes
// the text of every id it reads.
func (b *Blocks) UUID(u [16]byte) string {
	text := b.take(36)
	_ = text[35]
	for i, at := range uuidDigitsAt {
		binary.LittleEndian.PutUint16(text[at:], hexDigits[u[i]])
	}
	text[8], text[13], text[18], text[23] = '-', '-', '-', '-'
	return unsafe.String(&text[0], 36)
}

// uuidDigitsAt is where the digits of each byte of a uuid go in its text.
var uuidDigitsAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexDigits holds the two lower-case hex digits of each byte, the first in
// the low byte, as PutUint16 writes them.
var hexDigits = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = uint16(digits[i>>4]) | uint16(digits[i&15])<<8
	}
	return t
}()

// take returns the next n bytes of the current block (a new one when it has
// not n left). They are handed out once: a string made of them never changes.
func (b *Blocks) take(n int) []byte {
	if cap(b.block)-len(b.block) < n {
		b.block = make([]byte, 0, b.size())
	}
	start := len(b.block)
	b.block = b.block[:start+n]
	return b.block[start : start+n : start+n]
}

func (b *Blocks) size() int {
	if b.BlockSize > 0 {
		return b.BlockSize
	}
	return DefaultBlockSize
}
