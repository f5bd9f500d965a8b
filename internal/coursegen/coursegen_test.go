package coursegen_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
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
