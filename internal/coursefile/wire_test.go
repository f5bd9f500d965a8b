package coursefile_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// assertWireSame checks AppendExportResponse against proto.Marshal, with and
// without alloc.
func assertWireSame(t tb, r *contentv1.ExportCourseResponse) {
	t.Helper()
	want, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := coursefile.AppendExportResponse(nil, r, nil); !bytes.Equal(got, want) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		t.Fatalf("AppendExportResponse differs from proto.Marshal at byte %d of %d (got %d)", i, len(want), len(got))
	}
	asked := -1
	got := coursefile.AppendExportResponse([]byte("ignored"), r, func(size int) []byte { asked = size; return make([]byte, 0, size) })
	if asked != len(want) || !bytes.Equal(got, want) || cap(got) != len(want) {
		t.Fatalf("with alloc: asked for %d bytes, wrote %d (cap %d), want %d, equal %v", asked, len(got), cap(got), len(want), bytes.Equal(got, want))
	}
}

func TestAppendExportResponseIsProtoMarshal(t *testing.T) {
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	assertWireSame(t, &contentv1.ExportCourseResponse{File: &file, Filename: "demo.json"})
	assertWireSame(t, &contentv1.ExportCourseResponse{File: coursegen.Generate(coursegen.M, 3)})
	assertWireSame(t, &contentv1.ExportCourseResponse{})
	assertWireSame(t, &contentv1.ExportCourseResponse{File: &contentv1.CourseExport{}})                          // an empty file
	assertWireSame(t, &contentv1.ExportCourseResponse{File: &contentv1.CourseExport{Course: &contentv1.Course{}, // empty sub-messages
		Source: &contentv1.ExportSource{}, ExportedAt: &timestamppb.Timestamp{}}})

	for _, n := range []int{127, 128, 16383, 16384} { // where a length or a value takes one more byte
		assertWireSame(t, &contentv1.ExportCourseResponse{File: &contentv1.CourseExport{FormatVersion: int32(n), Course: &contentv1.Course{
			Title: strings.Repeat("a", n), Modules: []*contentv1.Module{{Position: int32(n), Description: strings.Repeat("é", n/2)}}}}})
	}

	text := rapid.StringOf(rapid.RuneFrom([]rune("\x00\"\\\t é"), unicode.Latin, unicode.Han))
	number := rapid.OneOf(rapid.Just(int32(0)), rapid.Int32(), rapid.Just(int32(math.MinInt32)), rapid.Just(int32(math.MaxInt32)))
	rapid.Check(t, func(rt *rapid.T) {
		file := coursegen.Generate(coursegen.Shape{Modules: 3, LessonsPerModule: 2, Quizzes: 3, QuestionsPerQuiz: 2,
			OptionsPerQuestion: 3, Competencies: 2, BankPerCompetency: 2, BankOptions: 2, FAQ: 2}, rapid.Uint64().Draw(rt, "seed"))
		c := file.Course
		c.Title, c.Status = text.Draw(rt, "title"), contentv1.CourseStatus(number.Draw(rt, "status"))
		l := c.Modules[0].Lessons[1]
		l.Checklist = append(l.Checklist, "", text.Draw(rt, "item")) // an empty element is written
		l.DurationSeconds, l.Position = number.Draw(rt, "duration"), number.Draw(rt, "position")
		l.CompetencyIds = append(l.CompetencyIds, "")
		c.Modules[1].Lessons[0].Checklist = nil
		c.Modules[1].Quizzes = nil
		c.Modules[2].Quizzes[0].Questions[0].Options[1].Correct = rapid.Bool().Draw(rt, "correct")
		c.Modules[2].Quizzes[0].MinScore = number.Draw(rt, "minScore")
		c.QuestionBank[0].Options[0].Feedback = text.Draw(rt, "feedback")
		c.Faq[1].Answer = text.Draw(rt, "answer")
		file.ExportedAt = &timestamppb.Timestamp{Seconds: rapid.Int64().Draw(rt, "seconds"), Nanos: number.Draw(rt, "nanos")}
		if rapid.Bool().Draw(rt, "no source") {
			file.Source = nil
		}
		assertWireSame(rt, &contentv1.ExportCourseResponse{File: file, Filename: text.Draw(rt, "filename")})
	})
}
