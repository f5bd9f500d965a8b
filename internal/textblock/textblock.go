// Package textblock keeps many short strings in shared blocks of memory: one
// allocation per block instead of one per string, and none rounded up to a
// size class. A large course has hundreds of thousands of short strings (ids,
// titles, options). A block lives as long as any of its strings, so the strings
// of one Blocks should live about as long as each other.
package textblock

import (
	"encoding/hex"
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
func (b *Blocks) UUID(u [16]byte) string {
	text := b.take(36)
	hex.Encode(text[0:8], u[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], u[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], u[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], u[8:10])
	text[23] = '-'
	hex.Encode(text[24:36], u[10:16])
	return unsafe.String(&text[0], 36)
}

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
