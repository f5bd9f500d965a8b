package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

func TestFileCodecDecodesAsProtoDoes(t *testing.T) {
	typed := &contentv1.CourseExport{FormatVersion: 1, Course: &contentv1.Course{Title: "Curso"}}
	cases := []proto.Message{
		&contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: []byte(`{"formatVersion": 1}`)}, IdempotencyKey: "k", ExpectedDigest: "d"},
		&contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_File{File: typed}, IdempotencyKey: "k"},
		&contentv1.ApplyImportRequest{},
		&contentv1.AnalyzeImportRequest{Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: []byte("{}")}},
		&contentv1.AnalyzeImportRequest{Source: &contentv1.AnalyzeImportRequest_File{File: typed}},
		&contentv1.ExportCourseRequest{CourseId: "x"},
	}
	codec := newFileCodec(&fileBodies{}, func(int) {})
	for _, want := range cases {
		wire, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := want.ProtoReflect().New().Interface()
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
			t.Fatal(err)
		}
		withBody(t, codec, got)
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	// Both members of the oneof on the wire: the last one wins, as in proto.
	both := append(mustMarshal(t, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: []byte("a")}}),
		mustMarshal(t, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_File{File: typed}})...)
	var want, got contentv1.ApplyImportRequest
	if err := proto.Unmarshal(both, &want); err != nil {
		t.Fatal(err)
	}
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(both)}, &got); err != nil {
		t.Fatal(err)
	}
	withBody(t, codec, &got)
	if diff := cmp.Diff(&want, &got, protocmp.Transform()); diff != "" {
		t.Errorf("oneof order (-proto +codec):\n%s", diff)
	}
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x22, 0x05, 'a'})}, &got); err == nil {
		t.Error("a truncated message was accepted")
	}
}

// withBody puts the file the codec kept for m back into m, as proto would have.
func withBody(t *testing.T, codec fileCodec, m proto.Message) {
	t.Helper()
	r := codec.bodies.take(m)
	if r == nil {
		return
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	switch m := m.(type) {
	case *contentv1.AnalyzeImportRequest:
		m.Source = &contentv1.AnalyzeImportRequest_FileJson{FileJson: b}
	case *contentv1.ApplyImportRequest:
		m.Source = &contentv1.ApplyImportRequest_FileJson{FileJson: b}
	}
}

// countingPool counts the buffers given back to it.
type countingPool struct {
	mem.BufferPool
	put atomic.Int64
}

func (p *countingPool) Put(b *[]byte) { p.put.Add(1) }

// The file stays in the buffers it arrived in, each freed once the call has
// read it; what the call does not read is freed when the reader is closed.
func TestFileCodecFreesTheFileAsItIsRead(t *testing.T) {
	file := bytes.Repeat([]byte("0123456789abcdef"), 16384) // 256 KiB
	wire := mustMarshal(t, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: file},
		IdempotencyKey: "chave", ExpectedDigest: "d"})
	const frame = 4096 // pooled: over gRPC's 1 KiB threshold
	pool := &countingPool{BufferPool: mem.DefaultBufferPool()}
	var data mem.BufferSlice
	for chunk := range slices.Chunk(wire, frame) {
		b := make([]byte, len(chunk), frame)
		copy(b, chunk)
		data = append(data, mem.NewBuffer(&b, pool))
	}
	codec := newFileCodec(&fileBodies{}, func(int) {})
	var req contentv1.ApplyImportRequest
	if err := codec.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	data.Free() // as gRPC does once the codec returns
	if req.GetIdempotencyKey() != "chave" || req.GetExpectedDigest() != "d" || req.GetSource() != nil {
		t.Fatalf("decoded %v", &req)
	}
	if n := pool.put.Load(); n > 1 {
		t.Fatalf("%d buffers freed before the file was read, want at most the header's", n)
	}
	r := codec.bodies.take(&req)
	half := make([]byte, len(file)/2)
	if _, err := io.ReadFull(r, half); err != nil {
		t.Fatal(err)
	}
	if n, all := pool.put.Load(), int64(len(data)); n < all/2-2 || n > all/2+2 {
		t.Errorf("%d of %d buffers freed with half the file read", n, all)
	}
	_ = r.Close()
	if n, all := pool.put.Load(), int64(len(data)); n != all {
		t.Errorf("%d of %d buffers freed once the reader is closed", n, all)
	}
	if !bytes.Equal(half, file[:len(half)]) {
		t.Error("the file read is not the file sent")
	}
	if codec.bodies.take(&req) != nil {
		t.Error("the file was handed out twice")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileCodecEncodesAsProtoDoes(t *testing.T) {
	codec := newFileCodec(&fileBodies{}, func(int) {})
	for _, n := range []int{0, 1, idMapPart, idMapPart + 1, 3*idMapPart + 7} {
		resp := &contentv1.ApplyImportResponse{
			CourseId: "c", ImportBatchId: "b",
			Report: &contentv1.ImportReport{Ok: true, Warnings: []*contentv1.Finding{{Code: "W", Message: "aviso"}}},
		}
		if n == idMapPart+1 {
			resp.CourseId, resp.Report = "", nil // the parts stand alone without a head
		}
		for i := range n {
			resp.IdMap = append(resp.IdMap, &contentv1.IdMapping{
				Kind: "lesson", ExternalId: strings.Repeat("x", i%300), Id: string(rune('a' + i%26)),
				Outcome: contentv1.IdMappingOutcome(i % 4), Reason: strings.Repeat("ç", i%7),
			})
		}
		data, got, want := marshalBoth(t, codec, resp)
		if !bytes.Equal(got, want) {
			t.Errorf("%d entries: the codec's bytes differ from proto's (%d, want %d bytes)", n, len(got), len(want))
		}
		if parts, wantParts := len(data), 1+(n+idMapPart-1)/idMapPart; n > idMapPart && parts != wantParts {
			t.Errorf("%d entries: %d buffers, want %d", n, parts, wantParts)
		}
		data.Free()
	}
}

// marshalBoth marshals m with the codec (its buffers, to free, and their
// bytes) and with proto.
func marshalBoth(t *testing.T, codec fileCodec, m proto.Message) (data mem.BufferSlice, got, want []byte) {
	t.Helper()
	want, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	data, err = codec.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data, data.Materialize(), want
}

// An export's response is written into buffers reused without clearing: each
// must hold exactly proto's bytes, also after a larger response used it. The
// first, above maxDirtyBuffer, is written into a mapped buffer.
func TestFileCodecEncodesExportsAsProtoDoes(t *testing.T) {
	codec := newFileCodec(&fileBodies{}, func(int) {})
	for i, modules := range []int{500, 40, 30, 25, 2, 0} {
		shape := coursegen.S
		shape.Modules = modules
		resp := &contentv1.ExportCourseResponse{File: coursegen.Generate(shape, uint64(modules)), Filename: "curso.json"}
		data, got, want := marshalBoth(t, codec, resp)
		if i == 0 && len(want) <= maxDirtyBuffer {
			t.Fatalf("%d modules: %d bytes, not above maxDirtyBuffer", modules, len(want))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d modules: the codec's bytes differ from proto's (%d, want %d bytes)", modules, len(got), len(want))
		}
		data.Free()
	}
}

// A mapped buffer is unmapped when gRPC puts it back, and when it is dropped.
func TestMappedBuffersAreUnmappedWhenPutOrDropped(t *testing.T) {
	p := &mappedBuffers{}
	size := 5<<20 + 3
	buf := p.Get(size)
	if len(*buf) != size || !isMapped(t, *buf) {
		t.Fatalf("Get(%d): %d bytes, mapped %v", size, len(*buf), isMapped(t, *buf))
	}
	for i := range *buf {
		(*buf)[i] = byte(i)
	}
	view := (*buf)[:1]
	p.Put(buf)
	if isMapped(t, view) {
		t.Fatal("a buffer put back is still mapped")
	}

	view = func() []byte { return (*p.Get(size))[:1] }() // dropped: only a view of its first byte is kept
	deadline := time.Now().Add(10 * time.Second)
	for isMapped(t, view) {
		if time.Now().After(deadline) {
			t.Fatal("a dropped buffer is still mapped")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	n := 0
	p.cleanups.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d buffers still recorded", n)
	}
}

// isMapped tells whether the first byte of b is in a mapping of this process
// (read from /proc/self/maps, so that b's memory is not touched).
func isMapped(t *testing.T, b []byte) bool {
	t.Helper()
	var addr uint64
	if _, err := fmt.Sscanf(fmt.Sprintf("%p", &b[0]), "0x%x", &addr); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(maps)) {
		var start, end uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &start, &end); err == nil && start <= addr && addr < end {
			return true
		}
	}
	return false
}

func TestDirtyBuffersAreAPowerOfTwoLargeEnough(t *testing.T) {
	p := &dirtyBuffers{}
	for _, size := range []int{1, 2, 3, 1000, 1024, 1025, 200 << 10, maxDirtyBuffer} {
		for range 3 {
			buf := p.Get(size)
			if c := cap(*buf); len(*buf) != size || c < size || c&(c-1) != 0 || c >= 2*size && size > 1 {
				t.Fatalf("Get(%d): len %d cap %d", size, len(*buf), c)
			}
			p.Put(buf)
		}
	}
	odd := make([]byte, 10, 12)
	p.Put(&odd) // not a power of two: dropped
	if buf := p.Get(12); cap(*buf) != 16 {
		t.Fatalf("Get(12) gave a buffer of capacity %d", cap(*buf))
	}
}
