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
	text := b.take(36)[:36:36]
	digits := func(at int, c byte) { binary.LittleEndian.PutUint16(text[at:at+2], hexDigits[c]) }
	digits(0, u[0])
	digits(2, u[1])
	digits(4, u[2])
	digits(6, u[3])
	text[8] = '-'
	digits(9, u[4])
	digits(11, u[5])
	text[13] = '-'
	digits(14, u[6])
	digits(16, u[7])
	text[18] = '-'
	digits(19, u[8])
	digits(21, u[9])
	text[23] = '-'
	digits(24, u[10])
	digits(26, u[11])
	digits(28, u[12])
	digits(30, u[13])
	digits(32, u[14])
	digits(34, u[15])
	return unsafe.String(&text[0], 36)
}

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
