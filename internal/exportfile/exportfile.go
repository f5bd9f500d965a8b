// Package exportfile renders protobuf messages, the transfer file above all, as the
// JSON people read and diff: lowerCamelCase names, enums by name, every field
// present, two-space indentation, a final newline.
package exportfile

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// MarshalOptions are the protojson options of the transfer file.
var MarshalOptions = protojson.MarshalOptions{EmitUnpopulated: true}

// Marshal renders m as stable, indented JSON. protojson alone is not enough: its
// whitespace deliberately varies between builds, so its compact output is
// re-indented with encoding/json, which is stable.
func Marshal(m proto.Message) ([]byte, error) {
	compact, err := MarshalOptions.Marshal(m)
	if err != nil {
		return nil, err
	}
	return Indent(compact)
}

// Indent re-indents any JSON document the way Marshal does.
func Indent(doc []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(doc) + len(doc)/2)
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
