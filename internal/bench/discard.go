package bench

// A gRPC load client that reads a response without parsing it.

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
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
	return encoding.GetCodecV2(proto.Name).Marshal(v)
}

func (discardCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*receivedBytes); ok {
		r.n = data.Len()
		return nil
	}
	return encoding.GetCodecV2(proto.Name).Unmarshal(data, v)
}

func (discardCodec) Name() string { return proto.Name }
