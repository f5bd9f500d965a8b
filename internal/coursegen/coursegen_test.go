package coursegen_test

import (
	"bytes"
	"regexp"
	"testing"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

func TestGenerateIsDeterministicAndShaped(t *testing.T) {
	a, b := coursegen.Generate(coursegen.S, 42), coursegen.Generate(coursegen.S, 42)
	if !proto.Equal(a, b) {
		t.Fatal("the same seed gave two different courses")
	}
	if proto.Equal(a, coursegen.Generate(coursegen.S, 43)) {
		t.Fatal("two seeds gave the same course")
	}
	c := a.GetCourse()
	lessons, quizzes, questions := 0, 0, 0
	for _, m := range c.GetModules() {
		lessons += len(m.GetLessons())
		all := m.GetQuizzes()
		for _, l := range m.GetLessons() {
			all = append(all, l.GetQuizzes()...)
		}
		quizzes += len(all)
		for _, q := range all {
			questions += len(q.GetQuestions())
		}
	}
	s := coursegen.S
	if len(c.GetModules()) != s.Modules || lessons != s.Modules*s.LessonsPerModule || quizzes != s.Quizzes ||
		questions != s.Quizzes*s.QuestionsPerQuiz || len(c.GetCompetencies()) != s.Competencies ||
		len(c.GetQuestionBank()) != s.Competencies*s.BankPerCompetency || len(c.GetFaq()) != s.FAQ {
		t.Fatalf("shape: %d modules, %d lessons, %d quizzes, %d questions, %d competencies, %d bank, %d faq",
			len(c.GetModules()), lessons, quizzes, questions, len(c.GetCompetencies()), len(c.GetQuestionBank()), len(c.GetFaq()))
	}
}

func TestGrowCopiesARealExportWithFreshIDs(t *testing.T) {
	base, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	grown := coursegen.Grow(base, 3, 7)
	if !proto.Equal(grown, coursegen.Grow(base, 3, 7)) {
		t.Fatal("the same seed gave two different courses")
	}
	var f, baseFindings coursefile.Findings
	coursefile.Validate(grown, &f)
	coursefile.Validate(&contentv1.CourseExport{FormatVersion: grown.GetFormatVersion(), Course: base}, &baseFindings)
	if f.HasErrors() || len(f.Warnings()) != 3*len(baseFindings.Warnings()) {
		t.Fatalf("the grown course is not valid, or not warned of as three bases: errors %v, warnings %v", f.Errors(), f.Warnings())
	}
	src, c := base, grown.GetCourse()
	if len(c.GetModules()) != 3*len(src.GetModules()) || len(c.GetCompetencies()) != 3*len(src.GetCompetencies()) ||
		len(c.GetQuestionBank()) != 3*len(src.GetQuestionBank()) || len(c.GetFaq()) != 3*len(src.GetFaq()) {
		t.Fatalf("not three copies: %d modules, %d competencies, %d bank questions, %d FAQ",
			len(c.GetModules()), len(c.GetCompetencies()), len(c.GetQuestionBank()), len(c.GetFaq()))
	}
	// Every id is new and unique: collect them from the file's JSON.
	raw, err := coursefile.Marshal(grown)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`"id": "([^"]+)"`).FindAllSubmatch(raw, -1) {
		id := string(m[1])
		if seen[id] || bytes.Contains(demo.File, []byte(id)) {
			t.Fatalf("id %s is repeated or taken from the base course", id)
		}
		seen[id] = true
	}
	if base.GetModules()[0].GetId() == c.GetModules()[0].GetId() {
		t.Fatal("the base course was changed")
	}
}
