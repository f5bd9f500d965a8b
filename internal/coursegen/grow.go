package coursegen

import (
	"fmt"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// Grow returns a course file made of copies copies of src's content: its modules,
// competencies, question bank and FAQ, one copy after another, each with fresh
// ids and competency codes of its own (both from seed). A real export grown so
// keeps the proportions of real content (the length of its texts, its quizzes
// per lesson), which the generator's courses only imitate.
func Grow(src *contentv1.Course, copies int, seed uint64) *contentv1.CourseExport {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x960)), seed: seed}
	c := &contentv1.Course{Id: g.id(), Title: src.GetTitle(), Description: src.GetDescription(), Status: src.GetStatus()}
	for k := range copies {
		competencies := make(map[string]string, len(src.GetCompetencies())) // src's id → the copy's
		for _, comp := range src.GetCompetencies() {
			cp := proto.CloneOf(comp)
			cp.Id, cp.Code = g.id(), fmt.Sprintf("%s-G%d-%d", comp.GetCode(), seed, k+1)
			competencies[comp.GetId()] = cp.Id
			c.Competencies = append(c.Competencies, cp)
		}
		for _, m := range src.GetModules() {
			cp := proto.CloneOf(m)
			cp.Id, cp.Position = g.id(), int32(len(c.Modules)+1)
			for _, l := range cp.GetLessons() {
				l.Id = g.id()
				for i, id := range l.GetCompetencyIds() {
					l.CompetencyIds[i] = competencies[id]
				}
				g.renewQuizzes(l.GetQuizzes())
			}
			g.renewQuizzes(cp.GetQuizzes())
			c.Modules = append(c.Modules, cp)
		}
		for _, q := range src.GetQuestionBank() {
			cp := proto.CloneOf(q)
			cp.Id, cp.CompetencyId = g.id(), competencies[q.GetCompetencyId()]
			for _, o := range cp.GetOptions() {
				o.Id = g.id()
			}
			c.QuestionBank = append(c.QuestionBank, cp)
		}
		for _, f := range src.GetFaq() {
			cp := proto.CloneOf(f)
			cp.Id, cp.Position = g.id(), int32(len(c.Faq)+1)
			c.Faq = append(c.Faq, cp)
		}
	}
	return &contentv1.CourseExport{
		FormatVersion: 1,
		ExportedAt:    timestamppb.New(exportedAt),
		Source: &contentv1.ExportSource{Service: "contentd gen", Version: fmt.Sprintf("grown ×%d, seed %d", copies, seed),
			CourseId: c.Id, Environment: "generated"},
		Course: c,
	}
}

func (g *generator) renewQuizzes(quizzes []*contentv1.Quiz) {
	for _, q := range quizzes {
		q.Id = g.id()
		for _, question := range q.GetQuestions() {
			question.Id = g.id()
			for _, o := range question.GetOptions() {
				o.Id = g.id()
			}
		}
	}
}

// Real names, beside those of Sizes, the demo course (a real export) grown to
// about L's size.
const Real = "R"

// realCopies copies of the demo course (24 KiB) make about L's 85 MiB.
const realCopies = 3600

// Named returns the course of a named size for seed: generated for a name of
// Sizes, the grown demo course for Real.
func Named(size string, seed uint64) (*contentv1.CourseExport, error) {
	if size == Real {
		base, err := demo.Course()
		if err != nil {
			return nil, err
		}
		return Grow(base, realCopies, seed), nil
	}
	shape, ok := Sizes[size]
	if !ok {
		return nil, fmt.Errorf("unknown size %q", size)
	}
	return Generate(shape, seed), nil
}
