package coursefile

import (
	"slices"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Normalize renumbers every ordered list of c 1..n, ordered by position
// and, for equal positions, by their order in the file. Bank questions are
// numbered within their competency.
func Normalize(c *contentv1.Course) {
	renumber(c.GetModules(), (*contentv1.Module).GetPosition, func(m *contentv1.Module, p int32) { m.Position = p })
	for _, m := range c.GetModules() {
		renumber(m.GetLessons(), (*contentv1.Lesson).GetPosition, func(l *contentv1.Lesson, p int32) { l.Position = p })
		normalizeQuizzes(m.GetQuizzes())
		for _, l := range m.GetLessons() {
			normalizeQuizzes(l.GetQuizzes())
		}
	}
	byCompetency := map[string][]*contentv1.BankQuestion{}
	for _, q := range c.GetQuestionBank() {
		byCompetency[q.GetCompetencyId()] = append(byCompetency[q.GetCompetencyId()], q)
		renumberOptions(q.GetOptions())
	}
	for _, qs := range byCompetency {
		renumber(qs, (*contentv1.BankQuestion).GetPosition, func(q *contentv1.BankQuestion, p int32) { q.Position = p })
	}
	renumber(c.GetFaq(), (*contentv1.FaqEntry).GetPosition, func(e *contentv1.FaqEntry, p int32) { e.Position = p })
}

func normalizeQuizzes(qs []*contentv1.Quiz) {
	renumber(qs, (*contentv1.Quiz).GetPosition, func(q *contentv1.Quiz, p int32) { q.Position = p })
	for _, q := range qs {
		renumber(q.GetQuestions(), (*contentv1.Question).GetPosition, func(qq *contentv1.Question, p int32) { qq.Position = p })
		for _, qq := range q.GetQuestions() {
			renumberOptions(qq.GetOptions())
		}
	}
}

func renumberOptions(os []*contentv1.Option) {
	renumber(os, (*contentv1.Option).GetPosition, func(o *contentv1.Option, p int32) { o.Position = p })
}

// renumber sorts items stably by position and numbers them 1..n.
func renumber[T any](items []T, pos func(T) int32, set func(T, int32)) {
	slices.SortStableFunc(items, func(a, b T) int { return int(pos(a)) - int(pos(b)) })
	for i, it := range items {
		set(it, int32(i+1))
	}
}
