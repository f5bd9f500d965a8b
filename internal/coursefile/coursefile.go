// Package coursefile is the transfer file format, with all its verbs: Write and
// Marshal render a course as the JSON people read and diff (lowerCamelCase names,
// enums by name, every field present, two-space indentation, a final newline);
// AppendExportResponse writes it as gRPC sends it (protobuf);
// Decode reads a file and reports every problem with its JSON path; Validate
// checks what can be checked without a database; Normalize renumbers positions;
// Digest names the content. Findings are the problems found, in Portuguese for
// course managers. Package transfer orchestrates imports and exports around it.
package coursefile

import (
	"bytes"
	"encoding/json"
	"errors"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// FormatVersion is the version of the format this package writes and reads.
const FormatVersion = 1

// MarshalOptions are the protojson options of the transfer file.
var MarshalOptions = protojson.MarshalOptions{EmitUnpopulated: true}

var errInvalidUTF8 = errors.New("coursefile: invalid UTF-8 in a string")

// Marshal renders m as stable, indented JSON. protojson alone is not enough: its
// whitespace deliberately varies between builds, so its compact output is
// re-indented with encoding/json, which is stable. The transfer file itself, the
// large one, is written in one pass by a dedicated encoder that gives the same
// bytes.
func Marshal(m proto.Message) ([]byte, error) {
	if file, ok := m.(*contentv1.CourseExport); ok {
		// Twice the binary size covers the indented JSON; untouched capacity costs no RSS.
		return marshalFile(file, 2*proto.Size(file)+1024)
	}
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
