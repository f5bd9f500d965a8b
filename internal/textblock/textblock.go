// Package textblock keeps many short strings in shared blocks of memory: one
// allocation per block instead of one per string, and none rounded up to a
// size class. A large course has hundreds of thousands of short strings (ids,
// titles, options). A block lives as long as any of its strings, so the strings
// of one Blocks should live about as long as each other. Blocks from a Pool
// end together, at their Release, and their blocks are reused.
package textblock

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
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
	// pool gives the blocks of Blocks from a Pool, and taken holds them,
	// until Release gives them back.
	pool  *Pool
	taken []*[DefaultBlockSize]byte
	// onRelease are what Release runs first (OnRelease).
	onRelease []func()
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
// not n left). They are handed out once: a string made of them never changes,
// until the Release of Blocks from a Pool.
func (b *Blocks) take(n int) []byte {
	if cap(b.block)-len(b.block) < n {
		b.block = b.newBlock()
	}
	start := len(b.block)
	b.block = b.block[:start+n]
	return b.block[start : start+n : start+n]
}

func (b *Blocks) newBlock() []byte {
	if b.pool == nil {
		return make([]byte, 0, b.size())
	}
	block := b.pool.get()
	b.taken = append(b.taken, block)
	return block[:0]
}

func (b *Blocks) size() int {
	if b.pool == nil && b.BlockSize > 0 {
		return b.BlockSize
	}
	return DefaultBlockSize
}

// Pool keeps blocks of DefaultBlockSize bytes for Blocks that give them back
// once their strings are no longer used (Release): a service that reads many
// small courses one after another then neither allocates nor clears (as Go
// clears all new memory) the blocks of each. A pooled block is handed out as
// it was left: every byte of it that a string holds is written first. The
// zero value is ready to use; it is safe for concurrent use.
type Pool struct {
	free sync.Pool // *[DefaultBlockSize]byte
}

// KeptPerRelease is how many blocks Release gives back to the pool at most
// (4 MiB); those of a larger course are left to the collector, so that an
// export of a large course leaves no more than that in the pool.
const KeptPerRelease = 64

// Blocks returns an empty Blocks whose blocks come from p.
func (p *Pool) Blocks() *Blocks { return &Blocks{pool: p} }

func (p *Pool) get() *[DefaultBlockSize]byte {
	if block, ok := p.free.Get().(*[DefaultBlockSize]byte); ok {
		return block
	}
	return new([DefaultBlockSize]byte)
}

// OnRelease ties f to the strings of b: Release runs it, for memory that
// lives as long as they do (the messages that hold them).
func (b *Blocks) OnRelease(f func()) { b.onRelease = append(b.onRelease, f) }

// Release runs what OnRelease tied to b, then gives the blocks of b back to
// its pool: every string b handed out (but those long enough to have had their
// own allocation) may then hold other text, so nothing may use them after it.
// b is then empty and can be used again. For Blocks not made by a Pool, it
// only runs what OnRelease tied; for nil, nothing.
func (b *Blocks) Release() {
	if b == nil {
		return
	}
	for _, f := range b.onRelease {
		f()
	}
	b.onRelease = b.onRelease[:0]
	if b.pool == nil {
		return
	}
	for i, block := range b.taken {
		if i < KeptPerRelease {
			poison(block)
			b.pool.free.Put(block)
		}
		b.taken[i] = nil
	}
	b.taken, b.block = b.taken[:0], nil
}

type blocksKey struct{}

// NewContext returns ctx carrying b, for the reader of a course that the
// caller will release once the course is written out.
func NewContext(ctx context.Context, b *Blocks) context.Context {
	return context.WithValue(ctx, blocksKey{}, b)
}

// FromContext returns the Blocks that ctx carries, or nil.
func FromContext(ctx context.Context) *Blocks {
	b, _ := ctx.Value(blocksKey{}).(*Blocks)
	return b
}
