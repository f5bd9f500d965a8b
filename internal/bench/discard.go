package bench

// A gRPC client that reads a response without parsing it, and sends an
// import's file without copying it.

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// receivedBytes is a response read whole and then dropped: its size.
type receivedBytes struct{ n int }

// discardCodec is gRPC's protobuf codec, except that a receivedBytes keeps only
// the size of the message. The export's load clients use it, so that a gRPC
// client costs what the REST client (which copies the body to io.Discard) and
// pgbench (which parses no row) cost: every byte still crosses the connection,
// and the CPU they share with the server and PostgreSQL on one machine goes to
// them.
type discardCodec struct{}

func (discardCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*fileRequest); ok {
		head := protowire.AppendVarint(protowire.AppendTag(nil, r.field, protowire.BytesType), uint64(len(r.file)))
		return mem.BufferSlice{mem.SliceBuffer(head), mem.SliceBuffer(r.file)}, nil
	}
	return encoding.GetCodecV2(proto.Name).Marshal(v)
}

// fileRequest is an import request that holds only its file_json, field
// number field: the codec sends the file from where it is, as REST's client
// sends its body. The stock codec copies it into a new message of the file's
// size for each call, memory that the client must fault in first (about
// 0.3 s for L on the benchmark's host, see docs/benchmarks.md).
type fileRequest struct {
	field protowire.Number
	file  []byte
}

// The file_json field of each import request.
var (
	analyzeFileField = fileJSONField(&contentv1.AnalyzeImportRequest{})
	applyFileField   = fileJSONField(&contentv1.ApplyImportRequest{})
)

func fileJSONField(m interface{ ProtoReflect() protoreflect.Message }) protowire.Number {
	return m.ProtoReflect().Descriptor().Fields().ByName("file_json").Number()
}

func (discardCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*receivedBytes); ok {
		r.n = data.Len()
		return nil
	}
	return encoding.GetCodecV2(proto.Name).Unmarshal(data, v)
}

func (discardCodec) Name() string { return proto.Name }
