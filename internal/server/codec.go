package server

import (
	"context"
	"errors"
	"io"
	"math/bits"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
)

// fileCodec is the gRPC proto codec, except that an import request's file_json
// (a whole course file, up to MaxRequestBytes) is neither copied nor put in the
// message: it stays in the buffers it arrived in, and the call reads it from
// there as it parses it (the same reader the REST routes give, see
// withFileBody), each buffer going back to gRPC's pool as soon as it is read.
// So the file is never whole twice, nor whole beside its parsed form.
type fileCodec struct {
	encoding.CodecV2 // the stock proto codec, for everything else
	bodies           *fileBodies
	exportSent       func(bytes int) // counts the bytes of each export's response
}

func newFileCodec(bodies *fileBodies, exportSent func(bytes int)) fileCodec {
	return fileCodec{CodecV2: encoding.GetCodecV2(proto.Name), bodies: bodies, exportSent: exportSent}
}

// Marshal is the stock codec's, except for an export's response (see
// marshalExport) and for an apply's response with a long id map (a large
// course's has hundreds of thousands of entries, tens of MiB on the wire),
// which is written in parts of idMapPart entries. Each part is an
// allocation of its own, of about 100 KiB, that fits in the memory the parsed
// course leaves; one buffer for the whole message would be new memory at the
// end of the apply, its peak. The bytes are the stock codec's: a repeated
// field is its elements' encodings one after another, and a response holding
// only some of them encodes as just those.
func (c fileCodec) Marshal(v any) (mem.BufferSlice, error) {
	if export, ok := v.(*contentv1.ExportCourseResponse); ok {
		out := marshalExport(export)
		c.exportSent(out.Len())
		return out, nil
	}
	m, ok := v.(*contentv1.ApplyImportResponse)
	if !ok || len(m.GetIdMap()) <= idMapPart {
		return c.CodecV2.Marshal(v)
	}
	head, err := protov2.Marshal(&contentv1.ApplyImportResponse{
		CourseId: m.GetCourseId(), ImportBatchId: m.GetImportBatchId(), Report: m.GetReport(),
	})
	if err != nil {
		return nil, err
	}
	out := mem.BufferSlice{mem.SliceBuffer(head)}
	idMap := m.GetIdMap()
	for start := 0; start < len(idMap); start += idMapPart {
		part, err := protov2.Marshal(&contentv1.ApplyImportResponse{IdMap: idMap[start:min(start+idMapPart, len(idMap))]})
		if err != nil {
			return nil, err
		}
		out = append(out, mem.SliceBuffer(part))
	}
	return out, nil
}

// marshalExport writes an export's response with coursefile.AppendExportResponse:
// the stock codec's bytes, without its check that every string is UTF-8, which
// store.ReadCourse guarantees (a sixth of a small export's CPU). As in the stock
// codec, a response above gRPC's pooling threshold is written into a pooled
// buffer, which gRPC gives back once it is sent: up to maxDirtyBuffer, one of
// exportBuffers, else one of largeExports.
func marshalExport(r *contentv1.ExportCourseResponse) mem.BufferSlice {
	var out mem.Buffer
	b := coursefile.AppendExportResponse(nil, r, func(size int) []byte {
		if mem.IsBelowBufferPoolingThreshold(size) {
			return make([]byte, 0, size)
		}
		var pool mem.BufferPool = exportBuffers
		if size > maxDirtyBuffer {
			pool = largeExports
		}
		buf := pool.Get(size)
		out = mem.NewBuffer(buf, pool)
		return (*buf)[:0]
	})
	if out == nil {
		return mem.BufferSlice{mem.SliceBuffer(b)}
	}
	return mem.BufferSlice{out}
}

// exportBuffers pools the buffers of small exports' responses. gRPC's default
// pool clears a buffer each time it gives it out, and its tier for a small
// course's response (about 200 KiB) holds 1 MiB buffers: clearing one was 3% of
// the server's CPU under many small exports. A response overwrites every byte
// it sends, so these buffers are not cleared.
var exportBuffers = &dirtyBuffers{}

// largeExports holds the responses of exports above maxDirtyBuffer while
// gRPC sends them.
var largeExports = &mappedBuffers{}

// maxDirtyBuffer is the largest buffer of exportBuffers: larger responses
// are rare, and each gets a buffer of largeExports.
const maxDirtyBuffer = 4 << 20

// dirtyBuffers is a mem.BufferPool of buffers of a power-of-two capacity, one
// sync.Pool per capacity, given out as they were last used.
type dirtyBuffers struct {
	byBits [bits.UintSize]sync.Pool // buffers of capacity 1<<i
}

func (p *dirtyBuffers) Get(size int) *[]byte {
	i := bits.Len(uint(size - 1)) // the smallest power of two ≥ size
	if buf, ok := p.byBits[i].Get().(*[]byte); ok {
		*buf = (*buf)[:size]
		return buf
	}
	buf := make([]byte, size, 1<<i)
	return &buf
}

func (p *dirtyBuffers) Put(buf *[]byte) {
	if c := cap(*buf); c > 0 && c&(c-1) == 0 {
		p.byBits[bits.Len(uint(c-1))].Put(buf)
	}
}

// idMapPart is how many id map entries Marshal writes per part.
const idMapPart = 1024

func (c fileCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *contentv1.AnalyzeImportRequest:
		return c.unmarshalWithFile(data, m, 2, func() { m.Source = nil })
	case *contentv1.ApplyImportRequest:
		return c.unmarshalWithFile(data, m, 4, func() { m.Source = nil })
	}
	return c.CodecV2.Unmarshal(data, v)
}

// unmarshalWithFile decodes data into m, except the bytes field fileField,
// whose value is kept as a view of data's buffers for the call (see fileBodies).
// Proto semantics hold: when the file field and another member of its oneof
// (field 1, the typed file) both appear, the last one wins: clearSource drops
// the typed one when the file comes last.
func (c fileCodec) unmarshalWithFile(data mem.BufferSlice, m protov2.Message, fileField protowire.Number, clearSource func()) (err error) {
	r := data.Reader()
	defer r.Close()
	var rest []byte
	var file mem.BufferSlice // the last file field's bytes
	fileLast := false        // the file field is the last member of the oneof on the wire
	defer func() {
		if err != nil {
			file.Free()
		}
	}()
	total := data.Len()
	for r.Remaining() > 0 {
		tag, err := copyVarint(r, nil)
		if err != nil {
			return err
		}
		num, typ := protowire.DecodeTag(tag)
		if num == fileField && typ == protowire.BytesType {
			n, err := copyVarint(r, nil)
			if err != nil {
				return err
			}
			if n > uint64(r.Remaining()) {
				return io.ErrUnexpectedEOF
			}
			file.Free()
			file, fileLast = sliceOf(data, total-r.Remaining(), int(n)), true
			if _, err := r.Discard(int(n)); err != nil {
				return err
			}
			continue
		}
		if num == 1 {
			file.Free()
			file, fileLast = nil, false
		}
		rest = protowire.AppendTag(rest, num, typ)
		if rest, err = copyFieldValue(r, typ, rest); err != nil {
			return err
		}
	}
	if err := protov2.Unmarshal(rest, m); err != nil {
		return err
	}
	if fileLast {
		clearSource()
		c.bodies.put(m, file)
	}
	return nil
}

// copyVarint reads a varint from r, appending its bytes to dst when dst is not nil.
func copyVarint(r *mem.Reader, dst *[]byte) (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		if dst != nil {
			*dst = append(*dst, b)
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("proto: varint overflow")
}

// copyFieldValue appends to rest the value of a field of wire type typ read from r.
func copyFieldValue(r *mem.Reader, typ protowire.Type, rest []byte) ([]byte, error) {
	n := 0
	switch typ {
	case protowire.VarintType:
		_, err := copyVarint(r, &rest)
		return rest, err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		size, err := copyVarint(r, &rest)
		if err != nil {
			return nil, err
		}
		if size > uint64(r.Remaining()) {
			return nil, io.ErrUnexpectedEOF
		}
		n = int(size)
	default:
		return nil, errors.New("proto: groups are not accepted in an import request")
	}
	if n > r.Remaining() {
		return nil, io.ErrUnexpectedEOF
	}
	start := len(rest)
	rest = append(rest, make([]byte, n)...)
	_, err := io.ReadFull(r, rest[start:])
	return rest, err
}

// sliceOf is a view of n bytes of s from off, holding its own references.
func sliceOf(s mem.BufferSlice, off, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for _, b := range s {
		if n == 0 {
			break
		}
		size := b.Len()
		if off >= size {
			off -= size
			continue
		}
		end := min(size, off+n)
		out = append(out, b.Slice(off, end))
		n -= end - off
		off = 0
	}
	return out
}

// fileBodies hands the file of a decoded import request from the codec to its
// call: a request message cannot hold a reader, so the codec files it under the
// message, and the first interceptor of the gRPC server takes it from there into
// the call's context and frees what is left of it when the call ends.
type fileBodies struct {
	byRequest sync.Map // protov2.Message → mem.BufferSlice
}

func (b *fileBodies) put(m protov2.Message, file mem.BufferSlice) {
	b.byRequest.Store(m, file)
}

// take returns the file decoded for req, as a reader that frees each buffer as
// it reads it, or nil.
func (b *fileBodies) take(req any) *mem.Reader {
	v, ok := b.byRequest.LoadAndDelete(req)
	if !ok {
		return nil
	}
	file := v.(mem.BufferSlice) // empty for an empty file
	r := file.Reader()
	file.Free() // the reader holds its own references
	return r
}

// interceptor puts an import request's file into the call's context.
func (b *fileBodies) interceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	r := b.take(req)
	if r == nil {
		return handler(ctx, req)
	}
	defer r.Close()
	return handler(withFileBody(ctx, r), req)
}
