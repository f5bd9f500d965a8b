package server

import (
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
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
	codec := newFileCodec()
	for _, want := range cases {
		wire, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := want.ProtoReflect().New().Interface()
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
			t.Fatal(err)
		}
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
	if diff := cmp.Diff(&want, &got, protocmp.Transform()); diff != "" {
		t.Errorf("oneof order (-proto +codec):\n%s", diff)
	}
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x22, 0x05, 'a'})}, &got); err == nil {
		t.Error("a truncated message was accepted")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
