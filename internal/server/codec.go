package server

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// fileCodec is the gRPC proto codec, except that an import request's file_json
// (a whole course file, up to MaxRequestBytes) is not copied out of the received
// message: the handler gets a slice of one buffer materialised for it alone,
// where proto.Unmarshal would copy the bytes once more.
type fileCodec struct {
	encoding.CodecV2 // the stock proto codec, for everything else
}

func newFileCodec() fileCodec {
	return fileCodec{CodecV2: encoding.GetCodecV2(proto.Name)}
}

func (c fileCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *contentv1.AnalyzeImportRequest:
		return unmarshalWithFile(data.Materialize(), m, 2, func(b []byte) {
			m.Source = &contentv1.AnalyzeImportRequest_FileJson{FileJson: b}
		})
	case *contentv1.ApplyImportRequest:
		return unmarshalWithFile(data.Materialize(), m, 4, func(b []byte) {
			m.Source = &contentv1.ApplyImportRequest_FileJson{FileJson: b}
		})
	}
	return c.CodecV2.Unmarshal(data, v)
}

// unmarshalWithFile decodes b into m, except the bytes field fileField, whose
// value (a slice of b) is given to setFile. Proto semantics hold: when the file
// field and another member of its oneof (field 1, the typed file) both appear,
// the last one wins.
func unmarshalWithFile(b []byte, m protov2.Message, fileField protowire.Number, setFile func([]byte)) error {
	var rest, file []byte
	fileLast := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		size := protowire.ConsumeFieldValue(num, typ, b[n:])
		if size < 0 {
			return protowire.ParseError(size)
		}
		switch {
		case num == fileField && typ == protowire.BytesType:
			file, _ = protowire.ConsumeBytes(b[n:])
			fileLast = true
		default:
			if num == 1 {
				fileLast = false
			}
			rest = append(rest, b[:n+size]...)
		}
		b = b[n+size:]
	}
	if err := protov2.Unmarshal(rest, m); err != nil {
		return err
	}
	if fileLast {
		setFile(file)
	}
	return nil
}
