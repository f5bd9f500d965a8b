package coursefile_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

func TestMarshalIsStableAndReadable(t *testing.T) {
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	first, err := coursefile.Marshal(&file)
	if err != nil {
		t.Fatal(err)
	}
	// Messy input (protojson's own multiline form) must come out identical.
	messy, err := protojson.MarshalOptions{Multiline: true, Indent: "\t", EmitUnpopulated: true}.Marshal(&file)
	if err != nil {
		t.Fatal(err)
	}
	second, err := coursefile.Indent(messy)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatalf("rendering is not stable:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{
		"{\n  \"formatVersion\": 1,\n  \"exportedAt\": \"2026-11-29T00:00:00Z\",",
		`"status": "COURSE_STATUS_PUBLISHED"`,
		`"videoProvider": "VIDEO_PROVIDER_YOUTUBE"`,
		`"practicalSummary": `,
		`"feedback": ""`, // empty fields are present, not omitted
	} {
		if !strings.Contains(string(first), want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	var back contentv1.CourseExport
	if err := protojson.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&file, &back) {
		t.Fatal("rendering does not parse back to the same message")
	}
}
