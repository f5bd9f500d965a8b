package server

import (
	"runtime"
	"sync"
	"weak"

	"golang.org/x/sys/unix"
)

// mappedBuffers is a mem.BufferPool for the response of a large export: each
// buffer is memory mapped for it, outside Go's heap, asking the kernel for huge
// pages and to fault it all in at once (MADV_POPULATE_WRITE), and unmapped when
// gRPC gives it back. A fresh 4 KiB page of the Go heap is faulted in one at a
// time as the response is written: on the benchmark's host, 12–15 µs each, so
// that an L course's 41 MiB response spent 120–160 ms in page faults, more
// than writing it, and triggered a collection of the course it was writing
// (docs/benchmarks.md). Where the kernel has no huge page to give or does not
// know the advice, the mapping is faulted in by 4 KiB pages, as Go's would be.
// A buffer that gRPC drops without giving it back (a connection that ends
// while the response is sent) is unmapped once it is unreachable.
type mappedBuffers struct {
	cleanups sync.Map // weak.Pointer[[]byte] → runtime.Cleanup, of each buffer given out
}

// mapping is a mapped buffer's memory and its key in cleanups.
type mapping struct {
	mem []byte
	key weak.Pointer[[]byte]
}

// hugePage is the size of a huge page on amd64 and arm64 (4 KiB base pages):
// mappings are a whole number of them.
const hugePage = 2 << 20

func (p *mappedBuffers) Get(size int) *[]byte {
	mem, err := unix.Mmap(-1, 0, (size+hugePage-1)&^(hugePage-1), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		buf := make([]byte, size)
		return &buf
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE)       // EINVAL without transparent huge pages
	_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE) // EINVAL before Linux 5.14: faulted in as written
	buf := mem[:size]
	key := weak.Make(&buf)
	p.cleanups.Store(key, runtime.AddCleanup(&buf, p.drop, mapping{mem: mem, key: key}))
	return &buf
}

func (p *mappedBuffers) Put(buf *[]byte) {
	c, ok := p.cleanups.LoadAndDelete(weak.Make(buf))
	if !ok {
		return // a heap buffer, from a failed mapping
	}
	c.(runtime.Cleanup).Stop()
	_ = unix.Munmap((*buf)[:cap(*buf)])
}

// drop unmaps a buffer that became unreachable without being put back.
func (p *mappedBuffers) drop(m mapping) {
	p.cleanups.Delete(m.key)
	_ = unix.Munmap(m.mem)
}
