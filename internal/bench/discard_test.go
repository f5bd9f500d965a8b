package bench

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// A fileRequest is sent as the import request holding that file.
func TestFileRequestEncodesAsTheImportRequest(t *testing.T) {
	file := bytes.Repeat([]byte(`{"formatVersion":1}`), 5000)
	for _, c := range []struct {
		field protowire.Number
		into  interface {
			proto.Message
			GetFileJson() []byte
		}
	}{{analyzeFileField, &contentv1.AnalyzeImportRequest{}}, {applyFileField, &contentv1.ApplyImportRequest{}}} {
		data, err := discardCodec{}.Marshal(&fileRequest{field: c.field, file: file})
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(data.Materialize(), c.into); err != nil {
			t.Fatal(err)
		}
		if got := c.into.GetFileJson(); !bytes.Equal(got, file) {
			t.Errorf("field %d: the request's file_json has %d bytes, want the file's %d", c.field, len(got), len(file))
		}
	}
}
