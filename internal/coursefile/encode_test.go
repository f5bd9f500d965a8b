package coursefile_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// reference is the rendering the encoder must reproduce: protojson with every
// field, re-indented by encoding/json.
// tb is what *testing.T and *rapid.T have in common here.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func reference(t tb, file *contentv1.CourseExport) []byte {
	t.Helper()
	compact, err := coursefile.MarshalOptions.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func assertSame(t tb, file *contentv1.CourseExport) {
	t.Helper()
	want := reference(t, file)
	got, err := coursefile.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		t.Fatalf("encoder differs from protojson at byte %d:\nwant …%q…\n got …%q…", i, want[max(0, i-80):min(len(want), i+80)], got[max(0, i-80):min(len(got), i+80)])
	}
	var streamed bytes.Buffer
	if err := coursefile.Write(&streamed, file); err != nil || !bytes.Equal(streamed.Bytes(), want) {
		t.Fatalf("Write differs from Marshal (err %v)", err)
	}
}

func TestEncoderMatchesProtojson(t *testing.T) {
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	assertSame(t, &file)
	assertSame(t, coursegen.Generate(coursegen.S, 7))
	assertSame(t, &contentv1.CourseExport{})                                                            // null source and course
	assertSame(t, &contentv1.CourseExport{Course: &contentv1.Course{Status: 42}})                       // an enum number without a name
	assertSame(t, &contentv1.CourseExport{ExportedAt: &timestamppb.Timestamp{Seconds: 1, Nanos: 5000}}) // fractions
	assertSame(t, &contentv1.CourseExport{ExportedAt: &timestamppb.Timestamp{Seconds: 1, Nanos: 120000000}})
	assertSame(t, &contentv1.CourseExport{ExportedAt: &timestamppb.Timestamp{Seconds: 1, Nanos: 7}})

	text := rapid.StringOf(rapid.RuneFrom([]rune("\x00\x01\x08\x0c\x1f\"\\/<>&\u2028\ufffd\t\n\r é"), unicode.Latin, unicode.Han, unicode.So))
	rapid.Check(t, func(rt *rapid.T) {
		file := coursegen.Generate(coursegen.Shape{Modules: 2, LessonsPerModule: 2, Quizzes: 2, QuestionsPerQuiz: 2,
			OptionsPerQuestion: 3, Competencies: 2, BankPerCompetency: 2, BankOptions: 2, FAQ: 2}, rapid.Uint64().Draw(rt, "seed"))
		c := file.Course
		c.Title, c.Description = text.Draw(rt, "title"), text.Draw(rt, "description")
		c.Modules[0].Lessons[1].Checklist = append(c.Modules[0].Lessons[1].Checklist, text.Draw(rt, "item"))
		c.Modules[1].Lessons[0].Checklist = nil
		c.Modules[1].Quizzes = nil
		c.QuestionBank[0].Options[0].Feedback = text.Draw(rt, "feedback")
		c.Faq[1].Answer = strings.Repeat(text.Draw(rt, "answer"), 3)
		assertSame(rt, file)
	})
}

func TestEncoderRefusesInvalidUTF8(t *testing.T) {
	file := &contentv1.CourseExport{Course: &contentv1.Course{Title: "inv\xffalid"}}
	if _, err := coursefile.Marshal(file); err == nil {
		t.Fatal("invalid UTF-8 was encoded")
	}
}

// An apply's response is written as protojson and encoding/json would render
// it, its id map by the encoder.
func TestApplyResponseMatchesProtojson(t *testing.T) {
	text := rapid.StringOf(rapid.RuneFrom([]rune("\x00\x1f\"\\/<>&\u2028\t\n é"), unicode.Latin))
	rapid.Check(t, func(rt *rapid.T) {
		resp := &contentv1.ApplyImportResponse{CourseId: text.Draw(rt, "course"), ImportBatchId: "b",
			Report: &contentv1.ImportReport{Ok: true, Digest: "d", Counts: &contentv1.ImportCounts{Courses: 1},
				Warnings: []*contentv1.Finding{{Code: "W", Path: "course.title", Message: text.Draw(rt, "warning")}}}}
		for i := range rapid.IntRange(0, 5).Draw(rt, "entries") {
			resp.IdMap = append(resp.IdMap, &contentv1.IdMapping{Kind: "option", ExternalId: text.Draw(rt, "external"), Id: strings.Repeat("a", i),
				Outcome: contentv1.IdMappingOutcome(rapid.IntRange(0, 4).Draw(rt, "outcome")), Reason: text.Draw(rt, "reason")})
		}
		compact, err := coursefile.MarshalOptions.Marshal(resp)
		if err != nil {
			rt.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "  "); err != nil {
			rt.Fatal(err)
		}
		want.WriteByte('\n')
		var got bytes.Buffer
		if err := coursefile.WriteApplyResponse(&got, resp); err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
			rt.Fatalf("err %v\nwant %s\n got %s", err, want.Bytes(), got.Bytes())
		}
	})
	// Large enough to be written in several parts.
	resp := &contentv1.ApplyImportResponse{CourseId: "c", Report: &contentv1.ImportReport{}}
	for i := range 5000 {
		resp.IdMap = append(resp.IdMap, &contentv1.IdMapping{Kind: "option", ExternalId: fmt.Sprint("opt-", i), Id: fmt.Sprint(i)})
	}
	whole, err := coursefile.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var streamed bytes.Buffer
	if err := coursefile.WriteApplyResponse(&streamed, resp); err != nil || !bytes.Equal(streamed.Bytes(), whole) || len(whole) < 200<<10 {
		t.Fatalf("WriteApplyResponse of %d bytes differs (err %v)", len(whole), err)
	}
}

// writeCalls records each call of Write.
type writeCalls struct {
	bytes.Buffer
	calls int
}

func (w *writeCalls) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

// TestWriteWholeWritesASmallFileAtOnce: WriteWhole writes what Write writes;
// a file of up to 1 MiB in one call, after telling its length, and a larger
// one in many calls, without telling a length.
func TestWriteWholeWritesASmallFileAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name  string
		file  *contentv1.CourseExport
		whole bool
	}{
		{"S", coursegen.Generate(coursegen.S, 7), true},
		{"M", coursegen.Generate(coursegen.M, 7), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := coursefile.Write(&want, tt.file); err != nil {
				t.Fatal(err)
			}
			var got writeCalls
			told := -1
			err := coursefile.WriteWhole(&got, tt.file, func(n int) {
				if got.calls != 0 {
					t.Error("length told after a write")
				}
				told = n
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("WriteWhole wrote %d bytes unlike Write's %d", got.Len(), want.Len())
			}
			switch {
			case tt.whole && (got.calls != 1 || told != want.Len()):
				t.Errorf("%d bytes in %d writes, length told %d: want one write, told", want.Len(), got.calls, told)
			case !tt.whole && (told != -1 || got.calls < want.Len()/(1<<20)):
				t.Errorf("%d bytes in %d writes, length told %d: want it streamed, untold", want.Len(), got.calls, told)
			}
		})
	}
}
